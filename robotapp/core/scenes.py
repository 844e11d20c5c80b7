"""Scenes for the virtual rig: between episodes the world resets itself (arm home, cube at a new seeded start)
instead of a person tidying the table, and the scripted demonstrator moves the leader during the episode."""

from __future__ import annotations

from hardware.virtual.demonstrator import Demonstrator
from robotapp.core.recording import Scene

SETTLE_S = 0.5  # after the demonstrator's last move, so the cube comes to rest inside the episode


class VirtualResetScene(Scene):
    """Episode k starts from world seed `seed + k` (reproducible datasets); the leader is left to its source."""

    def __init__(self, sim, seed: int = 0):
        self.sim = sim
        self.seed = seed
        self.episode_seed = seed

    def prepare(self, episode_number: int) -> None:
        self.episode_seed = self.seed + episode_number
        self.sim.reset(self.episode_seed)

    def info(self) -> dict:
        return {"virtual_seed": self.episode_seed}


class DemonstratorScene(VirtualResetScene):
    """The scripted demonstrator solves each episode through the leader; the episode ends when it is done."""

    def __init__(self, sim, seed: int = 0):
        super().__init__(sim, seed)
        self.demo = Demonstrator(sim.world, seed=seed)
        self._start = 0.0
        self.successes: list[bool] = []

    def prepare(self, episode_number: int) -> None:
        super().prepare(episode_number)
        with self.sim.lock:
            cube, target = self.sim.world.cube_pose(), self.sim.world.target_pose()
        self.demo.reset(cube, target)  # ~0.1 s of IK: on the worker, never on the control thread

    def begin(self) -> None:
        self._start = self.sim.world.time
        self.sim.set_leader_source(self.demo.action)

    def finished(self) -> bool:
        return self.sim.world.time - self._start >= self.demo.duration + SETTLE_S

    def end(self) -> None:
        self.sim.set_leader_source(None)
        self.successes.append(self.sim.task.success())
