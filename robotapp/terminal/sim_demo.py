"""`robotapp sim demo`: the scripted demonstrator moves the virtual leader; the follower copies it over the
emulated buses (dynamixel-sdk sync read of the leader, sync write to the follower), lock-stepped with the
world and as fast as the machine allows. Success is the world's judgement.

The SO-101 (rig "virtual-so101") has no emulated servos yet (its Feetech STS3215 emulator is on its way): its
demonstrator drives the world's joint targets directly, at the same control rate, settle time and timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.rig import Rig
from hardware.virtual.demonstrator import Demonstrator
from hardware.virtual.task import PickPlaceTask
from hardware.virtual.world import World

SETTLE_S = 0.5  # after the demonstrator's last move: let the cube come to rest before judging
EPISODE_TIMEOUT_S = 30.0  # the virtual rig's (SimRig's) task timeout
# virtual rig name -> the world's arm; only "virtual" has emulated servos behind it so far
VIRTUAL_RIGS = {"virtual": "koch", "virtual-so101": "so101"}


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
    if VIRTUAL_RIGS[rig_name] != "koch":
        return _run_world_demo(VIRTUAL_RIGS[rig_name], episodes, seed, rate_hz, out)
    own = rig is None
    rig = rig or open_rig(cameras=(), realtime=False, seed=seed, transport="inprocess")
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


def _run_world_demo(arm: str, episodes: int, seed: int, rate_hz: float, out: Callable[[str], None]
                    ) -> list[DemoEpisode]:
    task = PickPlaceTask(World(cameras=(), seed=seed, arm=arm), timeout=EPISODE_TIMEOUT_S)
    demo = Demonstrator(task, seed=seed)
    out(f"{arm}: the demonstrator drives the world's joints directly (no emulated servos for this arm yet)")
    results = []
    t0 = time.perf_counter()
    for k in range(episodes):
        ep = run_world_episode(task, demo, seed + k, rate_hz)
        results.append(ep)
        wins = sum(r.success for r in results)
        out(f"episode {k + 1}/{episodes} (seed {ep.seed}): {'success' if ep.success else 'FAILED'} "
            f"[{wins}/{k + 1}, {time.perf_counter() - t0:.0f} s]")
    out(f"success: {sum(r.success for r in results)}/{episodes}")
    return results
