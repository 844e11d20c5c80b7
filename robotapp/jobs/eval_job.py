"""An evaluation run off the caller's thread: robotapp.eval.evaluate.evaluate() on a worker with a rig this job
opens itself (so a window can show its cameras), outcomes collected as they come, a stop that ends the current
episode, and a person's judge (success / fail / partial + note) for episodes the world cannot judge. Qt-free."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from robotapp.core.field_error import FieldError, raise_first
from robotapp.core.rig_opener import VIRTUAL, is_virtual_rig
from robotapp.eval.eval_datasets import default_eval_dataset
from robotapp.eval.evaluate import OUTCOMES, EvalResult, Judge, WorldJudge
from robotapp.eval.seeds import EVAL_SEED_BASE, overlap_lines, seeds_line
from robotapp.eval.success_rate import wilson_interval
from robotapp.eval.takeover import TakeoverSwitch


class EvalStopped(RuntimeError):
    pass


@dataclass
class EvalSpec:
    checkpoint: str
    episodes: int = 10
    seed: int = EVAL_SEED_BASE  # as `robotapp eval`: scenes no default recording holds
    episode_time: float = 20.0
    rig: str = VIRTUAL  # VIRTUAL or a saved rig's name
    by_hand: bool = False  # a person judges (always on a real rig)
    fast: bool = True  # lock-step (virtual rig judged by the world only)
    corrections: bool = False  # virtual rig: the scripted corrector takes over an episode that goes wrong
    record: str | None = ""  # the episodes' dataset: "" = the default place (eval_datasets), None = not recorded

    def problems(self) -> list[FieldError]:
        """Every bad field, in the form's order."""
        out = []
        p = Path(self.checkpoint) if self.checkpoint else None
        if p is None or not (p / "config.json").is_file():
            out.append(FieldError("checkpoint", f"{self.checkpoint or '(empty)'} is not a policy folder "
                                                f"(config.json + model.safetensors)"))
        if self.episodes < 1:
            out.append(FieldError("episodes", f"must be at least 1, got {self.episodes}"))
        if self.episode_time <= 0:
            out.append(FieldError("episode time", f"must be positive, got {self.episode_time}"))
        return out


class _Judge(Judge):
    """Wraps the world's judge or waits for a person's mark; a stop ends the episode and the run."""

    def __init__(self, job: EvalJob, world: Judge | None):
        self.job, self.world = job, world

    def done(self) -> bool:
        return self.job.stop_requested.is_set() or (self.world is not None and self.world.done())

    def outcome(self, episode: int) -> tuple[str, str]:
        job = self.job
        if job.stop_requested.is_set():
            raise EvalStopped("evaluation stopped")
        if self.world is not None:
            result = self.world.outcome(episode)
        else:
            with job._lock:
                job._mark_ready.clear()
                job._waiting_for = episode
            while not job._mark_ready.wait(0.05):
                if job.stop_requested.is_set():
                    raise EvalStopped("evaluation stopped")
            result = job._mark
        job.outcomes.append(result)
        return result


class EvalJob:
    def __init__(self, spec: EvalSpec):
        raise_first(spec.problems())
        self.spec = spec
        self.rig = None  # the rig being evaluated on, for previews (set on the worker)
        self.session = None  # the session driving its follower (set on the worker), for the E-STOP
        self.outcomes: list[tuple[str, str]] = []
        self.lines: list[str] = []
        self.stop_requested = threading.Event()
        self._mark_ready = threading.Event()
        self._mark: tuple[str, str] = ("fail", "")
        self._waiting_for: int | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="eval")
        self.future: Future | None = None
        self.switch = TakeoverSwitch()  # T: take over / hand back
        self.record = (default_eval_dataset(spec.checkpoint) if spec.record == "" else spec.record)

    def start(self) -> Future:
        self.future = self._pool.submit(self._run)
        self._pool.shutdown(wait=False)
        return self.future

    @property
    def waiting_for_mark(self) -> int | None:
        """The episode (0-based) waiting for a person's outcome, or None."""
        return self._waiting_for

    def mark(self, outcome: str, note: str = "") -> bool:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}")
        with self._lock:  # one mark per episode: the episode stops waiting at once
            if self._waiting_for is None:
                return False
            self._mark, self._waiting_for = (outcome, note), None
            self._mark_ready.set()
        return True

    def stop(self) -> None:
        self.stop_requested.set()

    def toggle_takeover(self) -> bool:
        """T: take over from the policy, or hand back to it. Returns whether the person now has the arm (on the
        virtual rig the scripted hand brings the leader onto the follower and solves the task from there)."""
        return self.switch.toggle()

    @property
    def control(self) -> str:
        """Who drives the follower now: "policy", "aligning" (taken over: the follower holds until the leader is
        on it) or "human"."""
        return self.switch.control.value

    def estop(self, reason: str = "E-STOP pressed") -> None:
        """The follower stops now (the session's e-stop action, from any thread) and the run ends."""
        self.stop_requested.set()
        session = self.session
        if session is not None:
            session.estop(reason)

    def tally(self) -> tuple[int, int, float, float]:
        """(successes, episodes judged, 95% low, 95% high)."""
        n = len(self.outcomes)
        s = sum(o == "success" for o, _ in self.outcomes)
        lo, hi = wilson_interval(s, n) if n else (0.0, 1.0)
        return s, n, lo, hi

    def _run(self) -> EvalResult:
        from policies import load_policy
        from robotapp.core.rig_opener import open_rig
        from robotapp.eval.evaluate import evaluate

        spec = self.spec
        policy = load_policy(spec.checkpoint)
        keys = policy.config.image_keys
        fast = spec.fast and is_virtual_rig(spec.rig) and not spec.by_hand
        if is_virtual_rig(spec.rig):
            shape = policy.config.input_features[keys[0]]["shape"] if keys else [3, 240, 320]
            rig = open_rig(spec.rig, cameras=tuple(k.rsplit(".", 1)[-1] for k in keys), height=shape[1], width=shape[2],
                           realtime=not fast, seed=spec.seed, transport="inprocess")
        else:
            rig = open_rig(spec.rig)
        self.rig = rig
        world = WorldJudge(rig.sim) if rig.sim is not None and not spec.by_hand else None
        try:
            if rig.sim is not None:  # the same lines `robotapp eval` prints first
                self.lines.append(seeds_line(spec.seed, spec.episodes))
                self.lines.extend(overlap_lines(spec.seed, spec.episodes, spec.checkpoint))
            if self.record is not None:
                self.lines.append(f"recording the episodes into {self.record}")
            return evaluate(spec.checkpoint, rig=rig, episodes=spec.episodes, seed=spec.seed, fast=fast,
                            episode_time=spec.episode_time, judge=_Judge(self, world), out=self.lines.append,
                            policy=policy, on_session=lambda s: setattr(self, "session", s), switch=self.switch,
                            corrections=("auto" if spec.corrections else "manual") if rig.sim is not None else False,
                            record=self.record)
        finally:
            self.rig, self.session = None, None
            rig.close()
