"""Replay: an episode's recorded actions sent to the follower at the dataset fps, through the same clamp as
teleop. The follower first moves slowly from wherever it is to the episode's first action, so nothing jumps."""

from __future__ import annotations

import numpy as np

APPROACH_SPEED = 30.0  # degrees (or %) per second while moving to the start


class ReplaySource:
    def __init__(self, actions: np.ndarray, fps: float, approach_speed: float = APPROACH_SPEED):
        self.actions = np.asarray(actions, dtype=np.float64)
        if self.actions.ndim != 2 or len(self.actions) == 0:
            raise ValueError(f"replay needs a non-empty [frames, joints] action array, got {self.actions.shape}")
        self.fps = fps
        self.speed = approach_speed
        self._from: np.ndarray | None = None
        self._approach = 0.0
        self.frame = -1  # index of the action being sent, -1 while approaching
        self.states: list[np.ndarray] = []  # the follower's state at each replayed frame

    def __call__(self, t: float, state: np.ndarray) -> np.ndarray | None:
        if self._from is None:
            self._from = np.asarray(state, dtype=np.float64).copy()
            self._approach = float(np.max(np.abs(self.actions[0] - self._from)) / self.speed)
        if t < self._approach:
            return self._from + (self.actions[0] - self._from) * (t / self._approach)
        # one frame at a time: a late tick sends the next action, never skips one (the loop ticks faster than
        # fps, so it catches up within a few ticks)
        k = min(self.frame + 1, int((t - self._approach) * self.fps))
        if k >= len(self.actions):
            return None
        if k != self.frame:
            self.frame = k
            self.states.append(np.asarray(state, dtype=np.float64).copy())
        return self.actions[k]

    @property
    def progress(self) -> float:
        return max(0, self.frame + 1) / len(self.actions)
