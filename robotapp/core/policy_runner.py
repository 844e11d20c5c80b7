"""A policy driving the follower without stalling the control loop.

The loop hands in each frame's observation and takes that frame's action. Chunked policies (ACT, Diffusion:
one inference gives the actions of many frames) are run ahead of time on the runner's own thread: while the
current chunk is still being executed, a new chunk is predicted from the newest observation, and when it is
ready it replaces the plan from the current frame on (the chunk predicted from frame j's observation covers
frames j, j+1, ...; the frames that passed while it was computed are skipped). The loop waits at most
`max_wait` for an action: with none planned yet it holds the current position or repeats the last action,
and counts that frame as late. With max_wait=None (lock-step evaluation) it waits for every action, so the
result does not depend on the machine's speed.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

import numpy as np

from policies.frame_keys import STATE_KEY


class PolicyRunner:
    def __init__(self, policy, max_wait: float | None = 0.002, refill_margin: int = 2, fps: float | None = None):
        self.policy = policy
        cfg = policy.config
        self.n_obs_steps = int(getattr(cfg, "n_obs_steps", 1) or 1)
        self.n_steps = int(getattr(cfg, "n_action_steps", 1) or 1)
        self.chunked = hasattr(policy, "predict_action_chunk") and getattr(policy, "ensembler", None) is None
        self.max_wait = max_wait
        self.margin = refill_margin
        self.fps = fps  # real time: refill early enough for the measured inference time to fit
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="policy-runner", daemon=True)
        self.reset()
        self._thread.start()

    # -- control-thread side -------------------------------------------------------------------------------
    def reset(self) -> None:
        """A new episode: forget the plan, the history and any prediction in flight."""
        with self._cond:
            self.clear_plan()
            self._frame = -1
            self.late = 0  # frames without a fresh action in time
            self.inference_s: list[float] = []
            self.error: BaseException | None = None

    def clear_plan(self) -> None:
        """Control handed back mid-episode: forget the plan, the observation history and any prediction in flight
        (they answer a past the person has since changed); the next frame is predicted from the state then. The
        episode's figures (late frames, inference times) go on."""
        with self._cond:
            self.policy.reset()
            self._generation = getattr(self, "_generation", 0) + 1
            self._plan: dict[int, np.ndarray] = {}
            self._history: deque = deque(maxlen=self.n_obs_steps)
            self._latest: tuple[int, dict] | None = None
            self._busy = False
            self._pending_sync: tuple[int, dict] | None = None
            self._sync_result: dict[int, np.ndarray] = {}
            self._last: np.ndarray | None = None

    def step(self, frame: int, observation: dict) -> np.ndarray:
        """The action for this frame (unnormalised, the follower's units)."""
        with self._cond:
            if self.error is not None:
                raise RuntimeError(f"the policy failed: {type(self.error).__name__}: {self.error}") from self.error
            self._frame = frame
            self._latest = (frame, observation)
            self._history.append(observation)  # every frame: Diffusion conditions on consecutive frames
            if not self.chunked:
                self._pending_sync = (frame, observation)
            self._cond.notify_all()
            ready = (lambda: frame in self._plan or self.error is not None) if self.chunked else \
                (lambda: frame in self._sync_result or self.error is not None)
            if self.max_wait is None:
                self._cond.wait_for(ready)
            elif self.max_wait > 0:
                self._cond.wait_for(ready, self.max_wait)
            if self.error is not None:
                raise RuntimeError(f"the policy failed: {type(self.error).__name__}: {self.error}") from self.error
            got = self._plan.get(frame) if self.chunked else self._sync_result.pop(frame, None)
            for old in [k for k in self._plan if k < frame]:
                del self._plan[old]
            if got is None:
                self.late += 1
                got = self._last if self._last is not None else np.asarray(observation[STATE_KEY], np.float64)
            self._last = got
            return got

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)

    # -- runner thread -------------------------------------------------------------------------------------
    def _needs_chunk(self) -> bool:
        planned = sum(1 for k in self._plan if k >= self._frame)
        return self._latest is not None and not self._busy and planned <= self._margin()

    def _margin(self) -> int:
        """Frames still planned when the next prediction starts: the frames the slowest recent inference
        spans, plus one, so a chunk arrives before the plan runs out (at most the chunk's length less one)."""
        if not self.fps or not self.inference_s:
            return self.margin
        need = math.ceil(max(self.inference_s[-5:]) * self.fps) + 1
        return max(self.margin, min(need, self.n_steps - 1))

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or (self.chunked and self._needs_chunk())
                                    or (not self.chunked and self._pending_sync is not None))
                if self._stop:
                    return
                gen = self._generation
                if self.chunked:
                    frame, _ = self._latest
                    obs = list(self._history)
                    self._busy = True
                else:
                    frame, obs = self._pending_sync
                    self._pending_sync = None
            try:
                t0 = time.perf_counter()
                if self.chunked:
                    actions = self._predict_chunk(obs)
                else:
                    actions = self.policy.select_action(obs)[None]
                dt = time.perf_counter() - t0
            except BaseException as e:  # handed to the control thread
                with self._cond:
                    self.error = e
                    self._busy = False
                    self._cond.notify_all()
                continue
            with self._cond:
                if gen != self._generation:  # reset() while predicting: the chunk belongs to the old episode
                    continue
                self.inference_s.append(dt)
                if self.chunked:
                    for i, a in enumerate(actions[:self.n_steps]):
                        self._plan[frame + i] = a
                    self._busy = False
                else:
                    self._sync_result[frame] = actions[0]
                self._cond.notify_all()

    def _predict_chunk(self, history: list[dict]) -> np.ndarray:
        """history: the last n_obs_steps observations, newest last (fewer at an episode's start)."""
        import torch  # here, not at the top: the CLI and the GUI start without loading torch
        if self.n_obs_steps > 1:
            history = [history[0]] * (self.n_obs_steps - len(history)) + history  # repeat the first as history
            prepared = [self.policy.prepare_observation(o)[0] for o in history]
            batch = {k: torch.stack([p[k] for p in prepared], dim=1) for k in prepared[-1]}
        else:
            batch, _ = self.policy.prepare_observation(history[-1])
        chunk = self.policy.predict_action_chunk(batch)
        return chunk[0].detach().to("cpu", torch.float64).numpy()
