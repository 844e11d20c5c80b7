"""The recording flow, driven tick by tick by the session's control loop:

    warm-up -> episode -> reset -> episode -> ... -> done

An episode ends at its time limit, on `next`, or when the scene says it is finished (the virtual demonstrator);
its frames are then saved in the background (DatasetWriter.save_episode returns at once) with its telemetry.
`rerecord` during an episode drops its frames and starts it again after a reset; during a reset it sends the
episode just saved to the trash and records it again. `stop` saves the episode in progress and ends the flow;
`abort` (fault, e-stop, watchdog) drops the episode in progress. Episodes saved earlier are never touched.

A Scene prepares each episode: on a real rig that is the person resetting the table during the reset period
(nothing to do here); on the virtual rig it resets the world and plans the demonstrator (scenes.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policies.frame_keys import image_key
from robotapp.core.field_error import FieldError, raise_first
from robotapp.core.observation import ObservationBuilder
from robotapp.core.telemetry import TickRecorder
from robotapp.dataset import DatasetWriter


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


class RecordingFlow:
    def __init__(self, session, writer: DatasetWriter, plan: RecordingPlan, scene: Scene | None = None):
        self.session = session
        self.writer = writer
        self.plan = plan
        self.scene = scene or Scene()
        cfg = session.config
        self._k = cfg.ticks_per_frame
        self._cams = list(session.rig.cameras)
        self._bus_stats = [a.bus.stats for a in (session.rig.follower, session.rig.leader) if a is not None]
        self.saved = 0  # episodes saved by this flow
        self.results = []  # EpisodeResult per saved episode
        self.telemetry = []  # EpisodeTelemetry per saved episode
        self.phase = "warmup"
        self.running = True
        self._phase_end = session.now() + plan.warmup_time
        self._pending: list[str] = []
        self._prepared = session.worker.submit(lambda: self.scene.prepare(0))
        self._ticks = 0
        self._recorder: TickRecorder | None = None
        self._observations = ObservationBuilder(session.rig, cfg.fps, cfg.realtime)

    # -- commands (on the control thread, through Session.call) --------------------------------------------
    def next(self) -> None:
        self._pending.append("next")

    def rerecord(self) -> None:
        self._pending.append("rerecord")

    def stop(self) -> None:
        self._pending.append("stop")

    @property
    def dataset_episodes(self) -> int:
        return self.writer.num_episodes

    def phase_remaining(self) -> float:
        return max(0.0, self._phase_end - self.session.now()) if self.phase in ("warmup", "episode", "reset") else 0.0

    # -- driven by the session -----------------------------------------------------------------------------
    def action(self, now: float, leader: np.ndarray | None, state: np.ndarray) -> np.ndarray | None:
        """The follower's goal this tick: the leader's position (teleop, or the demonstrator moving it)."""
        self._advance(now)
        return leader

    def after_tick(self, now: float, state: np.ndarray, action: np.ndarray | None) -> None:
        if self.phase != "episode" or action is None:
            return
        if self._ticks % self._k == 0:
            self._add_frame(state, action)
        self._ticks += 1

    def tick_done(self, wake: float, lateness: float, work: float, skipped: int) -> None:
        if self.phase == "episode" and self._recorder is not None:
            self._recorder.tick(wake, lateness, work, skipped)

    def abort(self, why: str) -> None:
        """A fault, e-stop or watchdog: drop the episode in progress, keep everything saved."""
        if not self.running:
            return
        if self.phase == "episode":
            self.scene.end()
            dropped = self.writer.discard_episode()
            self.session.events.publish("episode_discarded", f"{why}: episode {self.writer.num_episodes} "
                                        f"dropped ({dropped} frames); the {self.saved} saved before are kept")
        self._finish(f"recording stopped by {why}")

    # -- phases --------------------------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        while self._pending:
            cmd = self._pending.pop(0)
            if cmd == "stop":
                if self.phase == "episode":
                    self._end_episode(save=True)
                self._finish("recording stopped")
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
        self._ticks = 0
        self._recorder = TickRecorder(self.session.config.control_hz, self.session.config.fps, self._cams,
                                      self._bus_stats, lockstep=not self.session.config.realtime)
        self.scene.begin()
        self.session.events.publish("phase", f"recording episode {self.writer.num_episodes} "
                                    f"({self.saved + 1}/{self.plan.episodes})", phase="episode")

    def _add_frame(self, state: np.ndarray, action: np.ndarray) -> None:
        obs = self._observations.build(state)
        self.writer.add_frame(obs.values, action.astype(np.float32), self.plan.task)
        self._recorder.frame(obs.seqs, obs.drops)
        if not self.session.config.realtime:
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
            drops = {n: self.writer.stats.dropped_in_episode.get(image_key(n), 0) for n in self._cams}
            telemetry = self._recorder.finish(index, drops)
            result = self.writer.save_episode(extra={"telemetry": telemetry.as_dict(), "scene": self.scene.info()})
            self.results.append(result)
            self.telemetry.append(telemetry)
            self.saved += 1
            self.session.events.publish("episode_saved", telemetry.summary(), episode_index=index,
                                        flagged=bool(telemetry.flags), telemetry=telemetry.as_dict())
        self._recorder = None
        if self.saved >= self.plan.episodes:
            self._finish(f"recorded {self.saved} episode(s)")
            return
        self._start_reset()

    def _start_reset(self, before=None) -> None:
        self.phase = "reset"
        self._phase_end = self.session.now() + self.plan.reset_time
        n = self.saved

        def prepare():
            if before is not None:
                before()
            self.scene.prepare(n)
        self._prepared = self.session.worker.submit(prepare)
        self.session.events.publish("phase", f"reset the scene ({self.plan.reset_time:g} s)", phase="reset")

    def _rerecord(self) -> None:
        if self.phase == "episode":
            self.scene.end()
            self.writer.discard_episode()
            self._recorder = None
            self.session.events.publish("episode_discarded", f"re-recording episode {self.writer.num_episodes}")
            self._start_reset()
        elif self.phase == "reset" and self.results:
            last = self.results.pop()
            self.telemetry.pop()
            self.saved -= 1
            self.session.events.publish("episode_discarded", f"episode {last.episode_index} goes to the trash "
                                        f"(restorable); recording it again")
            self._start_reset(before=lambda: self._trash(last.episode_index))

    def _trash(self, index: int) -> None:
        """On the worker, before the next episode may begin: the writer holds the dataset's lock, so close it
        (every saved episode durable), move the episode to the trash, and open the dataset again."""
        from robotapp.dataset.trash import delete_episodes

        root = self.writer.root
        self.writer.close()
        delete_episodes(root, [index])
        self.writer = DatasetWriter.open(root)

    def _finish(self, message: str) -> None:
        self.running = False
        self.phase = "done"
        self.session.worker.submit(lambda: self._close_writer(message))

    def _close_writer(self, message: str) -> None:
        try:
            self.writer.close()  # waits until every saved episode is durable
        finally:
            self.session._recording_finished(self, message)
