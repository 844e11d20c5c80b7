"""The evaluation bench: a policy drives the follower for N episodes through the session's policy mode (same
clamp, e-stop and watchdog as teleop). On the virtual rig the world resets each episode to seed S+k and judges
success itself (S defaults to robotapp.eval.seeds.EVAL_SEED_BASE in every front end, scenes no default
recording holds); on a real rig a Judge asks the person (success / fail / partial, and a note).

Lock-step (`fast=True`, virtual rig only): the session ticks once per frame and the world waits for every
inference, so a result does not depend on the machine's speed and runs faster than real time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from robotapp.core.modes import Mode, SessionConfig
from robotapp.core.observation import ObservationBuilder, open_or_create_rig_writer
from robotapp.core.policy_runner import PolicyRunner
from robotapp.core.session import Session
from robotapp.dataset.features import INTERVENTION_FEATURE, INTERVENTION_KEY
from robotapp.eval.success_rate import success_line, wilson_interval
from robotapp.eval.takeover import Control, ScriptedCorrector, TakeoverSwitch

OUTCOMES = ("success", "fail", "partial")


@dataclass
class EvalEpisode:
    index: int
    seed: int | None
    outcome: str  # success | fail | partial
    seconds: float  # episode time (sim seconds on the virtual rig)
    note: str = ""
    late_frames: int = 0  # frames the policy's action was not ready in time (real time only)
    inference_ms_p50: float = 0.0
    inference_ms_p99: float = 0.0
    interventions: list[tuple[int, int]] = field(default_factory=list)  # (first, last) frame taken over
    corrected: str = ""  # the scripted corrector's reason for taking over ("" when it did not)


@dataclass
class EvalResult:
    policy: str
    rig: str
    seed: int
    episodes: list[EvalEpisode] = field(default_factory=list)

    @property
    def successes(self) -> int:
        return sum(e.outcome == "success" for e in self.episodes)

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.successes, len(self.episodes))

    @property
    def mean_seconds(self) -> float:
        return float(np.mean([e.seconds for e in self.episodes])) if self.episodes else 0.0

    def summary(self) -> str:
        return success_line(self.successes, len(self.episodes))

    def as_dict(self) -> dict:
        lo, hi = self.interval
        n = len(self.episodes)
        return {"policy": self.policy, "rig": self.rig, "seed": self.seed, "episodes": n,
                "successes": self.successes, "partial": sum(e.outcome == "partial" for e in self.episodes),
                "rate": self.successes / n if n else 0.0, "ci95_low": lo, "ci95_high": hi,
                "mean_episode_s": self.mean_seconds, "per_episode": [asdict(e) for e in self.episodes]}


class Judge:
    """Decides an episode's outcome. The virtual world judges itself; a person judges a real rig."""

    def done(self) -> bool:  # polled on the control thread: True ends the episode early
        return False

    def outcome(self, episode: int) -> tuple[str, str]:  # (outcome, note), after the episode
        raise NotImplementedError


class WorldJudge(Judge):
    def __init__(self, sim):
        self.sim = sim

    def done(self) -> bool:
        return self.sim.task.done()

    def outcome(self, episode: int) -> tuple[str, str]:
        if self.sim.task.success():
            return "success", ""
        return "fail", self.sim.world.failure_reason()


class PolicySource:
    """Session action source for one episode: a new action per frame from the runner, the observation built
    from the follower state and the cameras' newest images; optionally every frame recorded. With a
    TakeoverSwitch a person (or the scripted corrector) may take over: the follower holds until the leader is
    on it, then copies the leader; handing back clears the policy's plan (robotapp.eval.takeover)."""

    def __init__(self, session: Session, runner: PolicyRunner, fps: int, time_limit: float, judge: Judge,
                 writer=None, task: str = "", switch: TakeoverSwitch | None = None, corrector=None):
        self.session, self.runner, self.fps = session, runner, fps
        self.time_limit, self.judge = time_limit, judge
        self.writer, self.task = writer, task
        self.switch, self.corrector = switch, corrector
        self.frame = -1
        self.observations = ObservationBuilder(session.rig, fps, session.config.realtime)
        self.action: np.ndarray | None = None
        self.seconds = 0.0

    @property
    def wants_leader(self) -> bool:  # the session reads the leader each tick for a source that may hand over
        return self.switch is not None

    def __call__(self, t: float, state: np.ndarray) -> np.ndarray | None:
        if t >= self.time_limit or self.judge.done():
            self.seconds = t
            return None
        if self.corrector is not None:
            self.corrector.check(t)
        control = self._follow_switch(state) if self.switch is not None else Control.POLICY
        k = int(t * self.fps + 1e-6)
        new_frame = k != self.frame
        if control is Control.HUMAN:
            self.action = np.asarray(self.session.leader_positions, dtype=np.float64)
        elif control is Control.ALIGNING:
            self.action = self.action if self.action is not None else np.asarray(state, dtype=np.float64)
        if new_frame:
            obs = self.observations.build(state).values
            if control is Control.POLICY:
                self.action = np.asarray(self.runner.step(k, obs), dtype=np.float64)
            if self.writer is not None:  # every evaluation dataset has the flag (all False when nobody took over)
                obs = {**obs, INTERVENTION_KEY: np.array([control is not Control.POLICY])}
                self.writer.add_frame(obs, self.action.astype(np.float32), self.task)
            if self.switch is not None and control is not Control.POLICY:
                self._mark(k)
            self.frame = k
        return self.action

    def _follow_switch(self, state: np.ndarray) -> Control:
        switch = self.switch
        human, _ = switch.wanted()
        if human and switch.control is Control.POLICY:
            switch.set_control(Control.ALIGNING)
        elif not human and switch.control is not Control.POLICY:
            self.runner.clear_plan()  # the policy predicts again from the state the person left
            switch.set_control(Control.POLICY)
        if switch.control is Control.ALIGNING:
            leader = self.session.leader_positions
            threshold = self.session.config.align_threshold / 3  # as teleop's align: close before it follows
            if leader is not None and float(np.max(np.abs(leader - state))) < threshold:
                switch.set_control(Control.HUMAN)
        return switch.control

    def _mark(self, k: int) -> None:
        spans = self.switch.spans
        if spans and spans[-1][1] == k - 1:
            spans[-1] = (spans[-1][0], k)
        else:
            spans.append((k, k))


def _use_inference_threads() -> Callable[[], None]:
    """One-sample inference gains little from many threads and must leave the control loop a core: half the
    cores, at most 4 (on 2 cores, 1 thread gives ACT cpu-small p99 9.5 ms against 17 ms with 2; bench/train.py).
    Returns what puts the previous setting back."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(4, (os.cpu_count() or 2) // 2)))
    return lambda: torch.set_num_threads(before)


def evaluate(policy_dir: str | Path, *, rig=None, episodes: int = 10, seed: int = 0, fast: bool = True,
             episode_time: float = 20.0, record: str | Path | None = None, judge: Judge | None = None,
             fps: int = 30, out: Callable[[str], None] = print, policy=None,
             inference: dict | None = None, on_session: Callable[[Session], None] | None = None,
             rig_name: str = "virtual", switch: TakeoverSwitch | None = None, corrections: bool | str = False
             ) -> EvalResult:
    """Evaluate one policy folder. `rig` defaults to the virtual rig `rig_name` (the Koch's, or virtual-so101)
    with the policy's cameras. `on_session` gets the session that drives the follower as soon as it exists (a
    window's E-STOP must reach it). A policy trained on another robot type than the rig's is refused.

    `switch` lets a person take over and hand back (a key, a button). On the virtual rig the scripted corrector is
    the hand: corrections=True (or "auto") takes over by itself when an episode goes wrong; "manual" only when
    the switch asks. Either way the recording gets a per-frame `intervention` feature and each episode its
    taken-over spans."""
    from policies import load_policy
    from robotapp.core.observation import robot_type
    from robotapp.core.rig_opener import open_rig
    from robotapp.eval.robot_match import check_robot_type

    policy = policy or load_policy(str(policy_dir))
    if inference:  # e.g. temporal ensembling: how the trained network is used, not the network
        policy.configure_inference(**inference)
    keys = policy.config.image_keys
    own_rig = rig is None
    if own_rig:
        shape = policy.config.input_features[keys[0]]["shape"] if keys else [3, 240, 320]
        rig = open_rig(rig_name, cameras=tuple(k.rsplit(".", 1)[-1] for k in keys), height=shape[1],
                       width=shape[2], realtime=not fast, seed=seed)
    try:
        check_robot_type(policy_dir, robot_type(rig), rig.name)
    except ValueError:
        if own_rig:
            rig.close()
        raise
    if fast and rig.sim is None:
        raise ValueError("lock-step evaluation needs the virtual rig; use real time (--realtime) on hardware")
    judge = judge or (WorldJudge(rig.sim) if rig.sim is not None else None)
    if judge is None:
        raise ValueError("a real rig needs a person to judge each episode (see robotapp eval --help)")
    session = Session(rig, SessionConfig(control_hz=fps if fast else 3 * fps, fps=fps, realtime=not fast))
    if on_session is not None:
        on_session(session)
    runner = PolicyRunner(policy, max_wait=None if fast else 0.002, fps=fps)
    corrector = None
    if corrections:
        if rig.sim is None:
            raise ValueError("the scripted corrector needs the virtual rig; on a real rig, take over with T")
        if corrections not in (True, "auto", "manual"):
            raise ValueError(f"corrections must be 'auto' or 'manual', not {corrections!r}")
        switch = switch or TakeoverSwitch()
        corrector = ScriptedCorrector(rig.sim, switch, seed=seed, auto=corrections != "manual", realtime=not fast)
    writer = None
    if record:
        writer = open_or_create_rig_writer(record, rig, fps, {INTERVENTION_KEY: INTERVENTION_FEATURE})
    result = EvalResult(str(policy_dir), rig.name, seed)
    t0 = time.perf_counter()
    restore_threads = _use_inference_threads()
    try:
        session.start()
        for k in range(episodes):
            ep_seed = seed + k if rig.sim is not None else None
            if rig.sim is not None:
                session.call(lambda s=ep_seed: (rig.sim.reset(s), rig.follower.torque(True)))
            runner.reset()
            if switch is not None:
                switch.new_episode()
            if corrector is not None:
                corrector.new_episode()
            source = PolicySource(session, runner, fps, episode_time, judge, writer, "evaluation", switch, corrector)
            if switch is not None and not fast:  # a person may take over now, not before (new_episode forgot it)
                out(f"episode {k + 1}/{episodes}: the policy drives (T takes over)")
            finished = _Done()
            session.run_source(Mode.POLICY, source, on_done=finished.set)
            finished.wait(session)
            outcome, note = judge.outcome(k)
            inf = np.array(runner.inference_s or [0.0]) * 1e3
            ep = EvalEpisode(k, ep_seed, outcome, source.seconds, note, runner.late,
                             float(np.percentile(inf, 50)), float(np.percentile(inf, 99)),
                             list(switch.spans) if switch is not None else [],
                             "; ".join(corrector.reasons) if corrector is not None else "")
            if corrector is not None:  # the episode may have ended mid-correction: the hand lets go
                rig.sim.set_leader_source(None)
            result.episodes.append(ep)
            if writer is not None and source.frame >= 0:
                # "scene" as a recording stores it: replay resets the world to it, the seed checks read it
                scene = {"virtual_seed": ep_seed} if ep_seed is not None else {}
                writer.save_episode(extra={"eval": asdict(ep), "policy": str(policy_dir), "scene": scene})
            took = f", taken over {_span_seconds(ep.interventions, fps):.1f} s" if ep.interventions else ""
            why = f" ({ep.corrected})" if ep.corrected else ""
            out(f"episode {k + 1}/{episodes}" + (f" (seed {ep_seed})" if ep_seed is not None else "") +
                f": {outcome}{f' ({note})' if note else ''} in {ep.seconds:.1f} s{took}{why} "
                f"[{result.successes}/{k + 1}, {time.perf_counter() - t0:.0f} s]")
    finally:
        runner.close()
        restore_threads()
        session.close()
        if writer is not None:
            writer.close()
        if own_rig:
            rig.close()
    out(f"mean episode time {result.mean_seconds:.1f} s")
    out(result.summary())
    return result


def _span_seconds(spans: list[tuple[int, int]], fps: int) -> float:
    return sum(b - a + 1 for a, b in spans) / fps


class _Done:
    """Set by the session when the episode's source finishes; waiting also gives up if the session faults."""

    def __init__(self):
        import threading

        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def wait(self, session: Session) -> None:
        while not self._event.wait(0.05):
            if session.mode in (Mode.FAULT, Mode.ESTOP):
                raise RuntimeError(f"evaluation stopped: {session.message}")
