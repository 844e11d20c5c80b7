"""`robotapp sim demo`: the scripted demonstrator moves the virtual leader; the follower copies it over the
emulated buses (the vendor SDK's sync read of the leader, sync write to the follower: Dynamixels on the Koch's
rig "virtual", Feetech STS3215s on "virtual-so101"), lock-stepped with the world and as fast as the machine
allows. Success is the world's judgement. run_world_episode drives a world's joints with no servos between (the
bench compares the two)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.rig import Rig
from hardware.virtual.demonstrator import Demonstrator
from hardware.virtual.task import PickPlaceTask
from robotapp.core.rig_opener import VIRTUAL_RIGS

SETTLE_S = 0.5  # after the demonstrator's last move: let the cube come to rest before judging
EPISODE_TIMEOUT_S = 30.0  # the virtual rig's (SimRig's) task timeout


@dataclass
class DemoEpisode:
    seed: int
    success: bool
    sim_seconds: float


def run_demo_episode(rig: Rig, demo: Demonstrator, seed: int, rate_hz: float = 50.0,
                     on_tick: Callable[[], None] | None = None) -> DemoEpisode:
    sim = rig.sim
    sim.reset(seed)
    w = sim.world
    demo.reset(w.cube_pose(), w.target_pose())
    sim.set_leader_source(demo.action)
    end = min(demo.duration + SETTLE_S, sim.task.timeout)
    try:
        while sim.task.elapsed < end - 1e-9:
            rig.follower.write_goals(rig.leader.read_positions())
            sim.advance(1.0 / rate_hz)
            if on_tick is not None:
                on_tick()
    finally:
        sim.set_leader_source(None)
    return DemoEpisode(seed, sim.task.success(), sim.task.elapsed)


def run_world_episode(task: PickPlaceTask, demo: Demonstrator, seed: int, rate_hz: float = 50.0
                      ) -> DemoEpisode:
    """One episode with the demonstrator's targets written straight into the world (no servos between)."""
    task.reset(seed)
    w = task.world
    demo.reset(w.cube_pose(), w.target_pose())
    end = min(demo.duration + SETTLE_S, task.timeout)
    while task.elapsed < end - 1e-9:
        task.step(1.0 / rate_hz, demo.action(task.elapsed))
    return DemoEpisode(seed, task.success(), task.elapsed)


def run_sim_demo(episodes: int, seed: int = 0, rate_hz: float = 50.0, out: Callable[[str], None] = print,
                 rig: Rig | None = None, rig_name: str = "virtual") -> list[DemoEpisode]:
    from robotapp.core.rig_opener import open_rig

    if rig_name not in VIRTUAL_RIGS:
        raise ValueError(f"unknown virtual rig {rig_name!r}; there are {', '.join(VIRTUAL_RIGS)}")
    own = rig is None
    rig = rig or open_rig(rig_name, cameras=(), realtime=False, seed=seed, transport="inprocess")
    results = []
    try:
        demo = Demonstrator(rig.sim.world, seed=seed)
        t0 = time.perf_counter()
        for k in range(episodes):
            ep = run_demo_episode(rig, demo, seed + k, rate_hz)
            results.append(ep)
            wins = sum(r.success for r in results)
            out(f"episode {k + 1}/{episodes} (seed {ep.seed}): {'success' if ep.success else 'FAILED'} "
                f"[{wins}/{k + 1}, {time.perf_counter() - t0:.0f} s]")
    finally:
        if own:
            rig.close()
    out(f"success: {sum(r.success for r in results)}/{episodes}")
    return results

