"""The recording flow, driven tick by tick by the session's control loop:

    warm-up -> episode -> reset -> episode -> ... -> done

An episode ends at its time limit, on `next`, or when the scene says it is finished (the virtual demonstrator);
its frames are then saved in the background (DatasetWriter.save_episode returns at once) with its telemetry.
`rerecord` during an episode drops its frames and starts it again after a reset; during a reset it sends the
episode just saved to the trash and records it again. `stop` saves the episode in progress and ends the flow;
`abort` (fault, e-stop, watchdog) drops the episode in progress. Episodes saved earlier are never touched.

The flow knows its session only through a FlowHost: the config, the rig, the clock, the worker, the event bus
and a call for when the flow is over. It runs on the control thread, except its slow jobs (closing the writer,
moving an episode to the trash, preparing the scene), which run in order on the session's worker.

A Scene prepares each episode: on a real rig that is the person resetting the table during the reset period
(nothing to do here); on the virtual rig it resets the world and plans the demonstrator (scenes.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from policies.frame_keys import image_key
from robotapp.core.events import EpisodeDiscarded, EpisodeSaved, Event, Kind, PhaseStarted, Reason
from robotapp.core.field_error import FieldError, raise_first
from robotapp.core.modes import SessionConfig
from robotapp.core.observation import ObservationBuilder
from robotapp.core.telemetry import TickRecorder
from robotapp.dataset import DatasetWriter

if TYPE_CHECKING:
    from concurrent.futures import Future

    from hardware.rig import Rig

ABORT_WORDS = {Reason.ESTOP: "e-stop", Reason.STALLED: "watchdog", Reason.HEARTBEAT: "heartbeat",
               Reason.FAULT: "fault"}


@dataclass(frozen=True)
class RecordingWords:
    """How one interface names a recording's fields and asks for things, so that the rules, written once
    (plan_problems here, RecordRequest.problems in services/record_request.py), speak each interface's words."""
    dataset: str
    task: str
    episodes: str
    episode_time: str
    reset_time: str
    warmup_time: str
    demonstrator: str
    fast: str
    virtual_rig: str  # how to ask for the virtual rig, e.g. "--rig virtual"
    resume: str  # how to ask to add episodes to an existing dataset, e.g. "add --resume"
    no_resume: str  # how to ask for a new dataset, e.g. "leave out --resume"


# RecordingPlan's own: its parameter names
PLAN_WORDS = RecordingWords("dataset", "task", "episodes", "episode_time", "reset_time", "warmup_time",
                            "demonstrator", "fast", "the virtual rig", "pass resume=True", "pass resume=False")


def plan_problems(task: str, episodes: int, episode_time: float, reset_time: float, warmup_time: float,
                  words: RecordingWords = PLAN_WORDS) -> list[FieldError]:
    """The rules of a recording plan, every problem in field order."""
    problems = []
    if not task or not task.strip():
        problems.append(FieldError(words.task, "empty: say what the episodes show, e.g. 'pick up the red cube'"))
    if episodes < 1:
        problems.append(FieldError(words.episodes, f"must be at least 1, got {episodes}"))
    if episode_time <= 0:
        problems.append(FieldError(words.episode_time, f"must be more than 0 s, got {episode_time:g}"))
    for name, value in ((words.reset_time, reset_time), (words.warmup_time, warmup_time)):
        if value < 0:
            problems.append(FieldError(name, f"cannot be negative, got {value:g}"))
    return problems


@dataclass
class RecordingPlan:
    dataset: Path
    task: str
    episodes: int = 1
    episode_time: float = 30.0
    reset_time: float = 5.0
    warmup_time: float = 2.0

    def __post_init__(self):
        self.dataset = Path(self.dataset)
        raise_first(plan_problems(self.task, self.episodes, self.episode_time, self.reset_time, self.warmup_time))


class Scene:
    """What happens around an episode. The default (a real rig) does nothing: the person resets the scene."""

    def prepare(self, episode_number: int) -> None:  # worker thread, during warm-up / reset
        pass

    def begin(self) -> None:  # control thread, first tick of the episode
        pass

    def finished(self) -> bool:  # control thread: True ends the episode early
        return False

    def end(self) -> None:  # control thread, when the episode ends
        pass

    def info(self) -> dict:  # stored with the episode (e.g. the virtual world's seed, for replay)
        return {}


@dataclass(frozen=True)
class FlowHost:
    """All a RecordingFlow gets from the session that drives it."""

    config: SessionConfig
    rig: Rig
    now: Callable[[], float]  # the session's clock
    submit: Callable[[Callable[[], object]], Future]  # slow work on the session's worker thread, in order
    publish: Callable[[Event], object]  # an event to the session's subscribers
    finished: Callable[[RecordingFlow, Reason, str], None]  # from the worker, once the flow's writer is closed


class RecordingFlow:
    def __init__(self, host: FlowHost, writer: DatasetWriter, plan: RecordingPlan, scene: Scene | None = None):
        self._host = host
        self._writer_lock = threading.Lock()  # the worker replaces the writer (trash) while the loop reads it
        self._writer = writer
        self.plan = plan
        self.scene = scene or Scene()
        cfg = host.config
        self._cams = list(host.rig.cameras)
        self._bus_stats = [a.bus.stats for a in (host.rig.follower, host.rig.leader) if a is not None]
        self.saved = 0  # episodes saved by this flow
        self.results = []  # EpisodeResult per saved episode
        self.telemetry = []  # EpisodeTelemetry per saved episode
        self.phase = "warmup"
        self.running = True
        self._phase_end = host.now() + plan.warmup_time
        self._pending: list[str] = []
        self._prepared = host.submit(lambda: self.scene.prepare(0))
        self._t0 = 0.0  # the episode's first frame instant; frame i belongs at t0 + i / fps
        self._last: tuple[dict, np.ndarray] | None = None  # the last frame written (observation, action)
        self._recorder: TickRecorder | None = None
        self._observations = ObservationBuilder(host.rig, cfg.fps, cfg.realtime)

    # -- commands (on the control thread, through Session.call) --------------------------------------------
    def next(self) -> None:
        self._pending.append("next")

    def rerecord(self) -> None:
        self._pending.append("rerecord")

    def stop(self) -> None:
        self._pending.append("stop")

    @property
    def writer(self) -> DatasetWriter:
        """The dataset's writer. The worker replaces it after moving an episode to the trash, during a reset; the
        control thread adds frames only during an episode, which begins once that job is done."""
        with self._writer_lock:
            return self._writer

    @property
    def dataset_episodes(self) -> int:
        return self.writer.num_episodes

    def phase_remaining(self) -> float:
        return max(0.0, self._phase_end - self._host.now()) if self.phase in ("warmup", "episode", "reset") else 0.0

    # -- driven by the session -----------------------------------------------------------------------------
    def action(self, now: float, leader: np.ndarray | None, state: np.ndarray) -> np.ndarray | None:
        """The follower's goal this tick: the leader's position (teleop, or the demonstrator moving it)."""
        self._advance(now)
        return leader

    def after_tick(self, now: float, state: np.ndarray, action: np.ndarray | None) -> None:
        """Frames sit on the dataset's wall-clock grid: frame i at t0 + i/fps. A tick that comes late writes the
        frames of the instants it missed as held frames (the last frame again, counted), then this instant's."""
        if self.phase != "episode" or action is None:
            return
        due = min(self._frames_due(now, inclusive=True), self._frames_due(self._phase_end, inclusive=False))
        if due > self._recorder.frames:
            self._hold_until(due - 1)
            self._add_frame(state, action)

    def _frames_due(self, t: float, inclusive: bool) -> int:
        """Grid instants t0 + i/fps up to t (inclusive) or before t: their count."""
        x = (t - self._t0) * self._host.config.fps
        n = math.floor(x + 1e-6) + 1 if inclusive else math.ceil(x - 1e-6)  # math: a scalar, every tick
        return max(0, n)

    def _hold_until(self, frames: int) -> None:
        """Held frames up to `frames` in all: the last frame written, again. Never the first frame."""
        n = frames - self._recorder.frames
        if n <= 0 or self._last is None:
            return
        values, action = self._last
        for _ in range(n):
            self.writer.add_frame(values, action, self.plan.task)
        self._recorder.held(n)

    def tick_done(self, wake: float, lateness: float, work: float, skipped: int) -> None:
        if self.phase == "episode" and self._recorder is not None:
            self._recorder.tick(wake, lateness, work, skipped)

    def stalled(self, why: str) -> None:
        """The watchdog held the follower: the episode in progress is dropped and recorded again after a reset
        (the session aligns the follower back onto the leader meanwhile); everything saved stays."""
        if not self.running:
            return
        if self.phase == "episode":
            self.scene.end()
            index = self.writer.num_episodes
            dropped = self.writer.discard_episode()
            self._recorder = None
            self._host.publish(EpisodeDiscarded(
                Kind.EPISODE_DISCARDED, f"episode {index} dropped ({dropped} frames) and recorded again: {why}",
                episode=index, frames=dropped, reason=Reason.STALLED))
            self._start_reset()

    def abort(self, why: Reason) -> None:
        """A fault, e-stop or watchdog (`why`: FAULT, ESTOP, STALLED, HEARTBEAT): drop the episode in progress,
        keep everything saved."""
        if not self.running:
            return
        words = ABORT_WORDS.get(why, str(why))
        if self.phase == "episode":
            self.scene.end()
            index = self.writer.num_episodes
            dropped = self.writer.discard_episode()
            self._host.publish(EpisodeDiscarded(
                Kind.EPISODE_DISCARDED, f"{words}: episode {index} dropped ({dropped} frames); the {self.saved} "
                f"saved before are kept", episode=index, frames=dropped, reason=why))
        self._finish(why, f"recording stopped by {words}")

    # -- phases --------------------------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        while self._pending:
            cmd = self._pending.pop(0)
            if cmd == "stop":
                if self.phase == "episode":
                    self._end_episode(save=True)
                self._finish(Reason.STOPPED, "recording stopped")
                return
            if cmd == "next" and self.phase == "episode":
                self._end_episode(save=True)
                if not self.running:
                    return
            elif cmd == "next" and self.phase in ("warmup", "reset"):
                self._phase_end = now  # skip the rest of the warm-up / reset
            elif cmd == "rerecord":
                self._rerecord()
        if self.phase == "episode" and (now >= self._phase_end or self.scene.finished()):
            self._end_episode(save=True)
        elif self.phase in ("warmup", "reset") and now >= self._phase_end and self._prepared.done():
            self._prepared.result()  # a scene that failed to prepare raises here, ending the flow as a fault
            self._begin_episode(now)

    def _begin_episode(self, now: float) -> None:
        self.phase = "episode"
        self._phase_end = now + self.plan.episode_time
        self._t0, self._last = now, None
        cfg = self._host.config
        self._recorder = TickRecorder(cfg.control_hz, cfg.fps, self._cams, self._bus_stats,
                                      lockstep=not cfg.realtime)
        self.scene.begin()
        index = self.writer.num_episodes
        self._host.publish(PhaseStarted(Kind.PHASE, f"recording episode {index} ({self.saved + 1}/"
                                        f"{self.plan.episodes})", phase="episode", episode=index,
                                        seconds=self.plan.episode_time))

    def _add_frame(self, state: np.ndarray, action: np.ndarray) -> None:
        obs = self._observations.build(state)
        action = action.astype(np.float32)
        self.writer.add_frame(obs.values, action, self.plan.task)
        self._recorder.frame(obs.seqs, obs.drops)
        self._last = (obs.values, action)
        if not self._host.config.realtime:
            self._wait_for_encoders()

    def _wait_for_encoders(self, most: int = 4) -> None:
        """Lock-step recording outruns real time: let the encoders catch up instead of dropping frames."""
        pause = threading.Event()
        while max(self.writer.stats.backlog.values(), default=0) > most:
            pause.wait(0.005)

    def _end_episode(self, save: bool) -> None:
        self.scene.end()
        index = self.writer.num_episodes
        if not save or self._recorder is None or self._recorder.frames == 0:
            self.writer.discard_episode()
        else:
            # the episode spans [t0, end): its time limit when it ran out (a late last tick holds up to it), else now
            end = min(self._host.now(), self._phase_end)
            self._hold_until(self._frames_due(end, inclusive=False))
            drops = {n: self.writer.stats.dropped_in_episode.get(image_key(n), 0) for n in self._cams}
            telemetry = self._recorder.finish(index, drops, wall_seconds=end - self._t0)
            result = self.writer.save_episode(extra={"telemetry": telemetry.as_dict(), "scene": self.scene.info()})
            self.results.append(result)
            self.telemetry.append(telemetry)
            self.saved += 1
            self._host.publish(EpisodeSaved(Kind.EPISODE_SAVED, telemetry.summary(), episode=index,
                                            frames=telemetry.frames, flagged=bool(telemetry.flags),
                                            telemetry=telemetry.as_dict()))
        self._recorder = None
        if self.saved >= self.plan.episodes:
            self._finish(Reason.COMPLETED, f"recorded {self.saved} episode(s)")
            return
        self._start_reset()

    def _start_reset(self, trash: int | None = None) -> None:
        """The reset period; with `trash`, that saved episode goes to the trash first (on the worker)."""
        self.phase = "reset"
        self._phase_end = self._host.now() + self.plan.reset_time
        n = self.saved

        def prepare():
            if trash is not None:
                self._trash(trash)
            self.scene.prepare(n)
        self._prepared = self._host.submit(prepare)
        self._host.publish(PhaseStarted(Kind.PHASE, f"reset the scene ({self.plan.reset_time:g} s)", phase="reset",
                                        episode=self.writer.num_episodes if trash is None else trash,
                                        seconds=self.plan.reset_time))

    def _rerecord(self) -> None:
        if self.phase == "episode":
            self.scene.end()
            index = self.writer.num_episodes
            dropped = self.writer.discard_episode()
            self._recorder = None
            self._host.publish(EpisodeDiscarded(Kind.EPISODE_DISCARDED, f"re-recording episode {index}",
                                                episode=index, frames=dropped, reason=Reason.RERECORD))
            self._start_reset()
        elif self.phase == "reset" and self.results:
            last = self.results.pop()
            self.telemetry.pop()
            self.saved -= 1
            self._host.publish(EpisodeDiscarded(
                Kind.EPISODE_DISCARDED, f"episode {last.episode_index} goes to the trash (restorable); recording "
                f"it again", episode=last.episode_index, frames=last.length, reason=Reason.TRASHED))
            self._start_reset(trash=last.episode_index)

    def _trash(self, index: int) -> None:
        """On the worker, before the next episode may begin: the writer holds the dataset's lock, so close it
        (every saved episode durable), move the episode to the trash, and open the dataset again."""
        from robotapp.dataset.trash import delete_episodes

        old = self.writer
        old.close()
        delete_episodes(old.root, [index])
        new = DatasetWriter.open(old.root)
        with self._writer_lock:
            self._writer = new

    def _finish(self, reason: Reason, message: str) -> None:
        self.running = False
        self.phase = "done"
        self._host.submit(lambda: self._close_writer(reason, message))

    def _close_writer(self, reason: Reason, message: str) -> None:
        try:
            self.writer.close()  # waits until every saved episode is durable
        finally:
            self._host.finished(self, reason, message)
