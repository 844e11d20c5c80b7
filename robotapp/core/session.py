"""The Session: one long-lived owner of a Rig. Teleop, recording, replay, hold and policy are its modes, run by
one control-loop thread paced by deadlines. Everything else (CLI, GUI) sends commands and reads snapshots.

Threads: the control loop is the only thread that talks to the buses, except `estop()` and the watchdog, which
take the same bus lock when they can get it. Commands are queued and run at the start of the next tick; the
caller gets a Future (or waits on it), so a refusal such as a failed alignment check reaches the caller as an
exception. Slow work (finishing an episode's files, planning the next virtual scene) runs on a worker thread.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from hardware.arms.safety import check_alignment
from hardware.deadline_timer import DeadlineTimer
from hardware.motors import MotorsError
from hardware.rig import Rig
from hardware.thread_priority import CONTROL, raise_priority
from robotapp.core.events import Event, EventBus, Fault, Kind, ModeChanged, Reason, RecordingDone, Stopped
from robotapp.core.modes import ACTIVE, Mode, SessionConfig, Snapshot
from robotapp.core.session_worker import SessionWorker
from robotapp.core.stall import stall_words

ActionSource = Callable[[float, np.ndarray], "np.ndarray | None"]  # (seconds since start, state) -> action


class Session:
    def __init__(self, rig: Rig, config: SessionConfig | None = None):
        self.rig = rig
        self.config = config or SessionConfig()
        self.events = EventBus()
        self.mode = Mode.IDLE
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._peeked: tuple | None = None
        self._bus_lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._snapshot = Snapshot(Mode.IDLE)
        self._snap_lock = threading.Lock()
        self._work_times: deque[float] = deque(maxlen=300)
        self._tick_starts: deque[float] = deque(maxlen=300)
        self.tick_count = 0
        self._last_tick_end = time.monotonic()
        self._last_heartbeat = time.monotonic()
        self._watchdog_tripped = False
        self._estop_requested = False
        self._state: np.ndarray | None = None
        self._leader: np.ndarray | None = None
        self._action: np.ndarray | None = None
        self._after_align = Mode.TELEOP
        self._source: ActionSource | None = None  # replay and policy
        self._source_t0 = 0.0
        self._source_done: Callable[[], None] | None = None
        self.recording = None  # a RecordingFlow while one runs
        self.last_recording = None  # the latest RecordingFlow, kept after it ends (for its summary)
        self._message_lock = threading.Lock()  # written by the control loop, estop() and the watchdog
        self._message = ""
        self._idle_cond = threading.Condition()
        self._worker = SessionWorker()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Session:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="control-loop", daemon=True)
            self._thread.start()
            self._watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)
            self._watchdog.start()
        return self

    def close(self) -> None:
        """Stop the loop (finishing a recording's current save first), leave the follower held."""
        if self.recording is not None:
            self.call(lambda: self.recording.stop(), wait=True, timeout=5.0)
        self._worker.drain(timeout=30.0)
        self._stop.set()
        for t in (self._thread, self._watchdog):
            if t is not None and t is not threading.current_thread():
                t.join(timeout=5.0)
        self._thread = self._watchdog = None
        self._worker.close()

    @property
    def message(self) -> str:
        """The last fault / e-stop / watchdog message (empty once the e-stop is cleared)."""
        with self._message_lock:
            return self._message

    @message.setter
    def message(self, text: str) -> None:
        with self._message_lock:
            self._message = text

    def __enter__(self) -> Session:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ commands (any thread)
    def call(self, fn: Callable[[], object], *, wait: bool = True, timeout: float = 5.0):
        """Run fn on the control thread at the next tick. wait=True returns its result or raises its error."""
        fut: Future = Future()
        self._commands.put((fn, fut))
        if self._thread is None or not self._thread.is_alive():
            raise RuntimeError("the session is not running")
        return fut.result(timeout) if wait else fut

    def idle(self, **kw):
        return self.call(lambda: self._set_mode(Mode.IDLE, Reason.COMMAND, "idle"), **kw)

    def hold(self, **kw):
        return self.call(lambda: self._enter_hold(Reason.COMMAND, "holding"), **kw)

    def teleop(self, *, align: bool = False, **kw):
        """Engage teleop. Refused (AlignmentError naming the joints) when leader and follower are further apart
        than the threshold, unless align=True: then the follower first moves slowly onto the leader."""
        return self.call(lambda: self._engage(Mode.TELEOP, align), **kw)

    def run_source(self, mode: Mode, source: ActionSource, on_done: Callable[[], None] | None = None, **kw):
        """Replay or policy: source(t, state) gives the next action (None = finished)."""
        def go():
            self._require_ready()
            self._source, self._source_t0, self._source_done = source, self.now(), on_done
            self.rig.follower.torque(True)
            self._set_mode(mode, Reason.COMMAND, mode.value)
        return self.call(go, **kw)

    def record(self, plan, *, scene=None, resume: bool = False, align: bool = False, codec: str = "av1",
               writer=None, **kw):
        """Start a recording flow (recording.py) into plan.dataset: a new dataset, or with resume=True more
        episodes in an existing one (its fps, features and robot type must match this rig)."""
        from robotapp.core.observation import open_rig_writer
        from robotapp.core.recording import RecordingFlow

        if writer is None:
            writer = open_rig_writer(plan.dataset, self.rig, self.config.fps, resume=resume, codec=codec)
            for note in writer.recovery_notes:
                self.events.publish(Event(Kind.INFO, note))

        def go():
            try:
                self._engage(Mode.RECORD, align)
            except BaseException:
                writer.close()
                raise
            self.recording = self.last_recording = RecordingFlow(self._flow_host(), writer, plan, scene)
            self._publish_snapshot()
        return self.call(go, **kw)

    def next_episode(self, **kw):
        return self.call(lambda: self._flow().next(), **kw)

    def rerecord(self, **kw):
        return self.call(lambda: self._flow().rerecord(), **kw)

    def stop_recording(self, **kw):
        return self.call(lambda: self._flow().stop(), **kw)

    def _flow(self):
        if self.recording is None or not self.recording.running:
            raise RuntimeError("no recording is running")
        return self.recording

    def _flow_host(self):
        """All a RecordingFlow gets from this session: config, rig, clock, worker, events, and a call when done."""
        from robotapp.core.recording import FlowHost

        return FlowHost(config=self.config, rig=self.rig, now=self.now, submit=self._worker.submit,
                        publish=self.events.publish, finished=self._recording_finished)

    def _recording_finished(self, flow, reason: Reason, message: str) -> None:
        """From the worker, once the flow's writer is closed (every saved episode durable)."""
        def go():
            if self.recording is flow:
                self.recording = None
                if self.mode == Mode.RECORD:
                    self._enter_hold(Reason.RECORDING_ENDED, "recording ended: follower held")
                else:
                    self._publish_snapshot()
            self.events.publish(RecordingDone(Kind.RECORDING_DONE, message, saved=flow.saved, reason=reason))
            with self._idle_cond:
                self._idle_cond.notify_all()
        self.call(go, wait=False)

    def heartbeat(self) -> None:
        self._last_heartbeat = time.monotonic()

    def estop(self, reason: str = "E-STOP pressed") -> None:
        """Callable from any thread, also while the loop is stuck: acts at once when the bus is free."""
        self._estop_requested = True
        self.message = reason
        if self._bus_lock.acquire(timeout=0.05):
            try:
                self._apply_stop(self.config.estop_action)
            finally:
                self._bus_lock.release()
        action = self.config.estop_action
        self.events.publish(Stopped(Kind.ESTOP, f"{reason}: follower {self._stop_words(action)}",
                                    reason=Reason.ESTOP, action=action))

    def clear_estop(self, **kw):
        def go():
            self._estop_requested = False
            self.message = ""
            self._set_mode(Mode.IDLE, Reason.CLEARED, "e-stop cleared")
        return self.call(go, **kw)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no recording, replay or policy runs (for the CLI)."""
        with self._idle_cond:
            return self._idle_cond.wait_for(
                lambda: self.recording is None and self.mode not in (Mode.REPLAY, Mode.POLICY, Mode.RECORD),
                timeout)

    @property
    def source(self) -> ActionSource | None:
        """The replay or policy source being played (None in the other modes)."""
        return self._source

    @property
    def leader_positions(self) -> np.ndarray | None:
        """The leader's reading this tick (control thread: a source's own call). Read in the modes that follow
        the leader, and while a source that says `wants_leader` plays."""
        return self._leader

    def snapshot(self) -> Snapshot:
        with self._snap_lock:
            return self._snapshot

    # ------------------------------------------------------------------ the loop
    def _run(self) -> None:
        cfg = self.config
        if cfg.realtime:
            raise_priority(CONTROL)  # ahead of other programs when the system allows (else a one-line hint)
        timer = DeadlineTimer(cfg.control_hz) if cfg.realtime else None
        while not self._stop.is_set():
            if timer is not None:
                skipped = timer.wait_next(self._stop)
                if skipped is None:
                    break
                wake = time.monotonic()
                lateness = wake - timer.tick_time
            else:  # lock-step: idle ticks wait for a command instead of spinning the world
                if self.mode not in ACTIVE:
                    self._wait_for_command(0.05)
                skipped, wake, lateness = 0, time.monotonic(), 0.0
            self._run_commands()
            try:
                with self._bus_lock:
                    self._tick(wake)
            except MotorsError as e:
                self._fault(e)
            except Exception as e:  # a bug must not leave the arm following a dead loop
                self._fault(e, unexpected=True)
            work = time.monotonic() - wake
            self._last_tick_end = time.monotonic()
            self._work_times.append(work)
            self._tick_starts.append(wake)
            if self.recording is not None:
                self.recording.tick_done(wake, lateness, work, skipped)
            self.tick_count += 1
            if self.tick_count % 3 == 0:
                self._publish_snapshot()
            if timer is None and self.rig.sim is not None:
                self.rig.sim.advance(1.0 / cfg.control_hz)
        self._run_commands()

    def _wait_for_command(self, timeout: float) -> None:
        if self._peeked is None:
            try:
                self._peeked = self._commands.get(timeout=timeout)  # run first by _run_commands
            except queue.Empty:
                return

    def now(self) -> float:
        """The session's clock: wall time in real time, ticks / rate in lock-step (sim time, not the machine's)."""
        return time.monotonic() if self.config.realtime else self.tick_count / self.config.control_hz

    def _run_commands(self) -> None:
        while True:
            if self._peeked is not None:
                (fn, fut), self._peeked = self._peeked, None
            else:
                try:
                    fn, fut = self._commands.get_nowait()
                except queue.Empty:
                    return
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as e:  # handed to the caller
                    fut.set_exception(e)

    def _tick(self, now: float) -> None:
        follower = self.rig.follower
        if self._estop_requested and self.mode != Mode.ESTOP:
            self._apply_stop(self.config.estop_action)
            self._abort_activity(Reason.ESTOP)
            self._set_mode(Mode.ESTOP, Reason.ESTOP, self.message or "e-stop")
        if self.mode in (Mode.FAULT, Mode.ESTOP):
            with contextlib.suppress(MotorsError):  # keep the display alive; a dead motor stays a fault
                self._state = follower.read_positions()
            return
        if self._watchdog_tripped:
            self._watchdog_tripped = False
            recording = self.recording is not None and self.recording.running and (
                self.mode == Mode.RECORD or (self.mode == Mode.ALIGN and self._after_align == Mode.RECORD))
            if recording:  # a guard, not the end: the episode in progress is recorded again after a reset
                self.recording.stalled(self.message)
                self._realign(Mode.RECORD, Reason.STALLED, f"{self.message}: moving the follower slowly back "
                                                           f"onto the leader")
            elif self.mode in ACTIVE:  # teleop waits for the person to engage again (with the align check)
                self._abort_activity(Reason.STALLED)
                self._enter_hold(Reason.STALLED, self.message)
        hb = self.config.heartbeat_timeout_s
        if hb is not None and self.mode in ACTIVE and now - self._last_heartbeat > hb:
            self._abort_activity(Reason.HEARTBEAT)
            self._enter_hold(Reason.HEARTBEAT,
                             f"the window stopped responding for {now - self._last_heartbeat:.1f} s; follower held",
                             kind=Kind.WATCHDOG)
        self._state = follower.read_positions()
        if follower.bus.alerts:
            follower.bus.check_hardware()  # raises HardwareAlertError naming the motor and the cause
        action = None
        if self.rig.leader is not None and (self.mode in (Mode.IDLE, Mode.HOLD, Mode.TELEOP, Mode.RECORD, Mode.ALIGN)
                                            or getattr(self._source, "wants_leader", False)):
            # also when idle (the window shows the misalignment), and for a policy a person may take over from
            self._leader = self.rig.leader.read_positions()
        if self.mode == Mode.ALIGN:
            self._align_step()
        elif self.mode == Mode.TELEOP:
            action = self._leader
        elif self.mode == Mode.RECORD:
            action = self.recording.action(self.now(), self._leader, self._state)
        elif self.mode in (Mode.REPLAY, Mode.POLICY):
            action = self._source(self.now() - self._source_t0, self._state)
            if action is None:
                done, self._source_done = self._source_done, None
                self._enter_hold(Reason.FINISHED, f"{self.mode.value} finished")
                if done is not None:
                    done()
        if action is not None:
            self._action = follower.write_goals(action)
        if self.mode == Mode.RECORD and self.recording is not None:
            self.recording.after_tick(self.now(), self._state, self._action)

    # ------------------------------------------------------------------ modes
    def _set_mode(self, mode: Mode, reason: Reason, message: str, kind: Kind = Kind.MODE,
                  event: type[ModeChanged] = ModeChanged, **fields) -> None:
        """Enter `mode`; publishes `event` when the mode changed (always for a kind other than MODE)."""
        previous, changed = self.mode, mode != self.mode
        self.mode = mode
        self._publish_snapshot()  # first: whoever hears the event reads a snapshot that agrees with it
        if changed or kind != Kind.MODE:
            self.events.publish(event(kind, message, mode=mode, previous=previous, reason=reason, **fields))
        with self._idle_cond:
            self._idle_cond.notify_all()

    def _require_ready(self) -> None:
        if self.mode == Mode.ESTOP:
            raise RuntimeError("E-STOP is active: clear it first")
        if self.recording is not None and self.recording.running:
            raise RuntimeError("a recording is running: stop it first")
        if self.rig.follower.calibration is None:
            raise RuntimeError(f"the follower {self.rig.follower.arm_id} is not calibrated")

    def _engage(self, target: Mode, align: bool) -> None:
        self._require_ready()
        leader = self.rig.leader
        if leader is None:
            raise RuntimeError("this rig has no leader arm to teleoperate with")
        lead, fol = leader.read_positions(), self.rig.follower.read_positions()
        self._after_align = target
        try:
            check_alignment(self.rig.follower.names, lead, fol, self.config.align_threshold)
        except Exception:
            if not align:
                raise
            self.rig.follower.torque(True)
            self._action = fol
            self._set_mode(Mode.ALIGN, Reason.ALIGNING, "moving the follower slowly onto the leader")
            return
        self.rig.follower.torque(True)
        self._action = fol
        self._set_mode(target, Reason.COMMAND, target.value)

    def _align_step(self) -> None:
        """One tick of moving the follower onto the leader at align_speed; engages when close enough."""
        step = self.config.align_speed / self.config.control_hz
        goal = self._action + np.clip(self._leader - self._action, -step, step)
        self._action = self.rig.follower.write_goals(goal, clamp=False)
        if np.max(np.abs(self._leader - self._state)) < self.config.align_threshold / 3:
            self._set_mode(self._after_align, Reason.ALIGNED, f"aligned: {self._after_align.value}")

    def _realign(self, target: Mode, reason: Reason, message: str) -> None:
        """Move the follower slowly from where it is held onto the leader, then go on in `target`."""
        self.rig.follower.torque(True)
        self._action = self.rig.follower.read_positions()
        self._after_align = target
        self._set_mode(Mode.ALIGN, reason, message)

    def _enter_hold(self, reason: Reason, message: str, kind: Kind = Kind.MODE) -> None:
        self.rig.follower.torque(True)  # goal = present first, so nothing moves
        self._action = None
        self._source = None
        self._set_mode(Mode.HOLD, reason, message, kind)

    def _abort_activity(self, why: Reason) -> None:
        """Stop whatever drives the follower; a recording drops its unfinished episode, saved ones stay."""
        if self.recording is not None:
            self.recording.abort(why)
        self._source = None

    def _apply_stop(self, action: str) -> None:
        follower = self.rig.follower
        try:
            if action == "torque_off":
                follower.torque(False)
            else:
                follower.torque(True)
        except MotorsError as e:  # best effort: the motor at fault may not answer
            self.events.publish(Event(Kind.ERROR, f"could not {self._stop_words(action)} the follower: {e}"))

    @staticmethod
    def _stop_words(action: str) -> str:
        return "torque off" if action == "torque_off" else "held"

    def _fault(self, e: Exception, unexpected: bool = False) -> None:
        text = f"internal error: {type(e).__name__}: {e}" if unexpected else str(e)
        self.message = text
        self._abort_activity(Reason.FAULT)
        with contextlib.suppress(Exception):
            self._apply_stop(self.config.fault_action)
        motors = tuple(getattr(e, "motors", ())) or ((e.motor,) if getattr(e, "motor", None) else ())
        self._set_mode(Mode.FAULT, Reason.FAULT, f"{text}; follower {self._stop_words(self.config.fault_action)}",
                       kind=Kind.FAULT, event=Fault, error=text, motors=motors)

    # ------------------------------------------------------------------ watchdog and snapshot
    def _watch(self) -> None:
        limit = self.config.watchdog_s
        if not self.config.realtime:
            return  # lock-step with the virtual world: a slow tick stops the world too, nothing can run away
        raise_priority(CONTROL + 1)  # it must run when the loop is stuck
        while not self._stop.wait(limit / 4):
            stalled = time.monotonic() - self._last_tick_end
            if self.mode in ACTIVE and stalled > limit and not self._watchdog_tripped:
                self._watchdog_tripped = True
                text = stall_words(stalled, self.mode, self.recording is not None)
                self.message = text
                if self._bus_lock.acquire(timeout=0.02):  # the loop may be stuck outside the bus
                    try:
                        self._apply_stop("hold")
                    finally:
                        self._bus_lock.release()
                self.events.publish(Stopped(Kind.WATCHDOG, text, reason=Reason.STALLED, action="hold"))

    def loop_rate(self) -> tuple[float, float]:
        """(achieved Hz, p99 tick work ms) over the last ~300 ticks."""
        starts, work = list(self._tick_starts), list(self._work_times)
        hz = (len(starts) - 1) / (starts[-1] - starts[0]) if len(starts) > 1 and starts[-1] > starts[0] else 0.0
        return hz, float(np.percentile(work, 99) * 1e3) if work else 0.0

    def _publish_snapshot(self) -> None:
        hz, p99 = self.loop_rate()
        rec = self.recording
        snap = Snapshot(
            mode=self.mode, follower=self._state, leader=self._leader, action=self._action, loop_hz=hz,
            tick_ms_p99=p99, message=self.message,
            camera_fps={n: c.stats.fps for n, c in self.rig.cameras.items()})
        if rec is not None:
            snap.phase, snap.phase_remaining = rec.phase, rec.phase_remaining()
            snap.episode, snap.episodes_target, snap.dataset_episodes = rec.saved, rec.plan.episodes, rec.dataset_episodes
        with self._snap_lock:
            self._snapshot = snap
