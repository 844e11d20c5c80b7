"""The control process: the window's rig, its Session (the control loop, the recorder's frame handoff) and the
virtual world live in a process of their own, so that painting, plotting and the window's timers never hold the
interpreter the loop needs (issue 19: with both in one process, pyqtgraph's paint held the GIL for milliseconds
at a time and the loop's jitter p99 reached 4.6 ms under load; measured in bench/record_under_load.py).

This side runs a plain RigHost and serves it over one duplex pipe to the window's ProcessRigHost:
- commands ("open", "session.teleop", "leader.jog", ...) are taken by the main thread as they arrive; the E-STOP,
  the heartbeat and the hand's moves run at once, anything that may wait runs on one worker thread in order, and
  a command whose result is a Future is answered when that Future is done;
- a publisher thread sends the state 50 times a second: the host's state, the session's snapshot, its events,
  the virtual hand's pose, and where each camera's newest frame lies in shared memory (frame_slots.py).
The pipe is private to the two processes (nothing from outside the app travels on it). When the window's process
goes away (the pipe closes, kill -9 included) this side closes the rig the way the window would: a recording's
current episode is saved, the follower is left held."""

from __future__ import annotations

import contextlib
import copy
import importlib
import pickle
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from hardware.discovery import virtual_ports
from hardware.thread_priority import BACKGROUND, raise_priority
from robotapp.services.frame_slots import FrameWriter
from robotapp.services.rig_host import RigHost

PUBLISH_HZ = 50
AT_ONCE = {"estop", "heartbeat", "open", "close", "session.estop", "session.heartbeat", "leader.set_position",
           "leader.jog", "leader.home", "leader.release"}
HOST_CALLS = {"open", "close", "estop", "heartbeat", "start_recording", "create_dataset", "call"}
SESSION_CALLS = {"teleop", "hold", "idle", "clear_estop", "next_episode", "rerecord", "stop_recording", "run_source",
                 "estop", "heartbeat"}
LEADER_CALLS = {"set_position", "jog", "home", "release", "start_demonstrator", "reset_world"}


def portable(value):
    """What can cross the pipe: the value itself when it pickles and (an error) rebuilds from what it pickles to,
    else its words (an error type that cannot be rebuilt becomes a RuntimeError with the same message)."""
    try:
        pickle.dumps(value)
        if isinstance(value, BaseException):
            copy.copy(value)  # rebuilt through __reduce_ex__ as unpickling would: AlignmentError needs its errors
        return value
    except Exception:
        if isinstance(value, BaseException):
            return RuntimeError(str(value) or type(value).__name__)
        return repr(value)


def call_function(host: RigHost, target: str, *args):
    """Run `module:function`(host, *args) here (the benchmarks drive the window's session this way)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(host, *args)


class ControlServer:
    def __init__(self, conn, host: RigHost):
        self.conn, self.host = conn, host
        self._send_lock = threading.Lock()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="control-commands")
        self._replier = ThreadPoolExecutor(1, thread_name_prefix="control-replies")  # never the loop's thread
        self._state_lock = threading.Lock()
        self._frames = FrameWriter()
        self._stop = threading.Event()
        self._seen = 0  # the newest command id taken from the pipe (the window ignores state older than its open)
        self._generation = 0
        self._session = None

    def send(self, message) -> None:
        with self._send_lock:
            self.conn.send(message)

    # ------------------------------------------------------------------ commands
    def serve(self) -> None:
        publisher = threading.Thread(target=self._publish_loop, name="control-publish", daemon=True)
        publisher.start()
        try:
            while True:
                try:
                    message = self.conn.recv()
                except (EOFError, OSError):
                    break  # the window's process is gone
                if message == "exit":
                    break
                req_id, path, args, kwargs = message  # req_id < 0: no reply wanted
                self._seen = max(self._seen, abs(req_id))
                if path in AT_ONCE:
                    self._run(req_id, path, args, kwargs)
                else:
                    self._worker.submit(self._run, req_id, path, args, kwargs)
        finally:
            self._worker.shutdown(wait=True)
            self._replier.shutdown(wait=True)
            self.host.shutdown()  # a recording's current episode is saved, the follower held, the rig closed
            self._stop.set()
            publisher.join(2.0)
            self._frames.close()

    def _target(self, path: str):
        owner, _, name = path.rpartition(".")
        if owner == "" and name in HOST_CALLS:
            return (lambda t, *a: call_function(self.host, t, *a)) if name == "call" else getattr(self.host, name)
        obj = {"session": self.host.session, "leader": self.host.virtual_leader}.get(owner)
        allowed = SESSION_CALLS if owner == "session" else LEADER_CALLS if owner == "leader" else set()
        if name not in allowed:
            raise ValueError(f"control process: no command {path!r}")
        if obj is None:
            raise RuntimeError("no rig is open" if owner == "session" else "this rig has no virtual hand")
        return getattr(obj, name)

    def _run(self, req_id, path, args, kwargs) -> None:
        try:
            result = self._target(path)(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - it is the caller's error, sent back to it
            self._reply(req_id, False, e)
            return
        if isinstance(result, Future):  # done on whatever thread finished it (the loop's): answered elsewhere
            result.add_done_callback(lambda f: self._replier.submit(self._reply_future, req_id, f))
        else:
            self._reply(req_id, True, result)

    def _reply_future(self, req_id, fut: Future) -> None:
        error = fut.exception()
        self._reply(req_id, error is None, fut.result() if error is None else error)

    def _reply(self, req_id, ok: bool, value) -> None:
        """The state first, then the answer: once a command's Future is done, the window's mirror shows at least
        what the command did (as a snapshot read after an in-process command does)."""
        if req_id < 0:
            return
        with contextlib.suppress(OSError, EOFError):
            self._send_state()
            self.send(("reply", req_id, ok, portable(value)))

    # ------------------------------------------------------------------ state
    def _publish_loop(self) -> None:
        raise_priority(BACKGROUND)
        period = 1.0 / PUBLISH_HZ
        due = time.monotonic()
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            due = max(due + period, time.monotonic())
            try:
                self._send_state()
            except (OSError, EOFError, BrokenPipeError):
                return
            except Exception as e:  # noqa: BLE001 - a state that cannot be built is news, not a dead window
                with contextlib.suppress(Exception):
                    self.send(("state", {"seen": self._seen, "publish_error": f"{type(e).__name__}: {e}"}))

    def _send_state(self) -> None:
        with self._state_lock:  # one builder at a time: the frame slots and the event queue are not shared
            self.send(("state", self.state()))

    def state(self) -> dict:
        host = self.host
        session, leader = host.session, host.virtual_leader
        if session is not self._session:
            self._session, self._generation = session, self._generation + 1
        st = {"seen": self._seen, "state": host.state, "rig_name": host.rig_name, "error": host.error,
              "generation": self._generation if session is not None else 0, "events": host.drain_events(),
              "virtual_ports": virtual_ports()}
        if session is None:
            self._frames.publish({})
            return st
        source = session.source
        st.update(snapshot=session.snapshot(), recording=session.recording is not None,
                  source_frame=getattr(source, "frame", None), is_virtual=host.is_virtual,
                  joint_names=host.joint_names(), joint_units=host.joint_units(), camera_names=host.camera_names(),
                  camera_sources=host.camera_sources(), frames=self._frames.publish(host.frames()))
        if leader is not None:
            st["leader"] = {"joint_names": list(leader.joint_names), "units": list(leader.units),
                            "unit_ranges": leader.unit_ranges(), "angles": leader.angles(),
                            "positions": leader.positions(), "demonstrating": leader.demonstrating,
                            "demo_progress": leader.demo_progress()}
        return st


def main(conn, config, virtual_options) -> None:
    """The control process's entry (multiprocessing, spawn): serve a RigHost until told to exit or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the window's to handle: it says exit
    ControlServer(conn, RigHost(config, virtual_options)).serve()
