"""Safety between a command and the servos: per-step goal clamp, joint limits, and align-before-engage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class AlignmentError(RuntimeError):
    """Leader and follower are too far apart to engage teleoperation without a jump."""

    def __init__(self, message: str, errors: dict[str, float]):
        super().__init__(message)
        self.errors = errors

    def __reduce__(self):  # pickles with both parts (it crosses from the control process to the window)
        return type(self), (str(self), self.errors)


class GoalClamp:
    """Limits each goal to `max_step` away from the previous goal and to [lower, upper] (calibrated units).
    The follower can then never be told to jump, whatever the leader, a policy or a replay sends."""

    def __init__(self, max_step: float | Sequence[float], lower: Sequence[float], upper: Sequence[float]):
        self.lower = np.asarray(lower, dtype=np.float64)
        self.upper = np.asarray(upper, dtype=np.float64)
        self.max_step = np.broadcast_to(np.asarray(max_step, dtype=np.float64), self.lower.shape).copy()
        if np.any(self.lower > self.upper):
            raise ValueError("joint limits: a lower limit is above its upper limit")
        if np.any(self.max_step <= 0):
            raise ValueError("per-step limit must be positive")
        self.clamped_steps = 0  # how many calls changed something: telemetry for the user

    def apply(self, goal: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        goal = np.asarray(goal, dtype=np.float64)
        step = np.clip(goal - previous, -self.max_step, self.max_step)
        out = np.clip(previous + step, self.lower, self.upper)
        changed = ~np.isclose(out, goal)
        if changed.any():
            self.clamped_steps += 1
        return out, changed


def check_alignment(names: Sequence[str], leader: np.ndarray, follower: np.ndarray, threshold: float) -> None:
    """Raise AlignmentError naming every joint where follower and leader differ by more than `threshold`."""
    diff = np.abs(np.asarray(leader, dtype=np.float64) - np.asarray(follower, dtype=np.float64))
    bad = {n: float(d) for n, d in zip(names, diff, strict=True) if d > threshold}
    if bad:
        worst = ", ".join(f"{n} {d:.1f}" for n, d in sorted(bad.items(), key=lambda kv: -kv[1]))
        raise AlignmentError(
            f"follower is too far from the leader to engage (limit {threshold:g}): {worst}; "
            f"move the leader closer, or let the follower move slowly onto the leader first", bad)
