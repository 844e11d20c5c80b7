"""`robotapp sim demo`: the scripted demonstrator moves the virtual leader; the follower copies it over the
emulated buses (dynamixel-sdk sync read of the leader, sync write to the follower), lock-stepped with the
world and as fast as the machine allows. Success is the world's judgement."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.rig import Rig
from hardware.virtual.demonstrator import Demonstrator

SETTLE_S = 0.5  # after the demonstrator's last move: let the cube come to rest before judging


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


def run_sim_demo(episodes: int, seed: int = 0, rate_hz: float = 50.0, out: Callable[[str], None] = print,
                 rig: Rig | None = None) -> list[DemoEpisode]:
    from robotapp.core.rig_opener import open_rig

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
