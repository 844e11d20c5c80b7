"""Pick-and-place as an episode: a World, a timeout on sim time and a success check that must hold a moment."""

from __future__ import annotations

import numpy as np

from .world import World


class PickPlaceTask:
    """Put the red cube into the green square. `done()` once the success has held `success_hold` seconds of
    sim time (a cube still rolling in is not yet a success) or after `timeout` seconds."""

    description = "Pick up the red cube and place it in the green square."

    def __init__(self, world: World | None = None, timeout: float = 20.0, success_hold: float = 0.3,
                 **world_kwargs):
        self.world = world if world is not None else World(**world_kwargs)
        self.timeout = timeout
        self.success_hold = success_hold
        self._success_since: float | None = None
        self._t0 = 0.0

    def reset(self, seed: int | None = None) -> None:
        self.world.reset(seed)
        self._t0 = self.world.time
        self._success_since = None

    @property
    def elapsed(self) -> float:
        """Sim seconds since reset."""
        return self.world.time - self._t0

    def step(self, dt: float, action: np.ndarray | None = None) -> None:
        """Optionally set joint targets, advance the world by dt and update the success timer."""
        if action is not None:
            self.world.set_joint_targets(action)
        self.world.step(dt)
        if self.world.success():
            if self._success_since is None:
                self._success_since = self.elapsed
        else:
            self._success_since = None

    def success(self) -> bool:
        return self.world.success()

    def timed_out(self) -> bool:
        return self.elapsed >= self.timeout

    def done(self) -> bool:
        held = self._success_since is not None and self.elapsed - self._success_since >= self.success_hold
        return held or self.timed_out()
