"""Coupled virtual rig in real time: a 100 Hz teleop loop (leader sync-read + follower sync-write over the
emulated buses on ptys, dynamixel-sdk underneath) while the world thread steps MuJoCo on the wall clock and
renders 2 cameras at 240x320, 30 fps, and the scripted demonstrator moves the leader.

Prints a markdown table: achieved loop Hz, tick work p50/p99, wake-up lateness p99, missed deadlines, camera fps
and frames per run, world overruns (physics ticks skipped) and the sim/wall clock ratio.

    .venv/bin/python bench/virtual.py [--seconds 20] [--repeats 3] [--hz 100] [--wire-timing]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("ROBOTAPP_HOME", tempfile.mkdtemp(prefix="robotapp-bench-"))

from hardware.deadline_timer import DeadlineTimer  # noqa: E402
from hardware.virtual.demonstrator import Demonstrator  # noqa: E402
from robotapp.core.rig_opener import open_rig  # noqa: E402


def one_run(seconds: float, hz: float, wire_timing: bool, seed: int) -> dict:
    rig = open_rig(cameras=("front", "wrist"), width=320, height=240, camera_fps=30, realtime=True, seed=seed,
                   wire_timing=wire_timing)
    try:
        sim = rig.sim
        demo = Demonstrator(sim.world, seed=seed)
        with sim.lock:
            demo.reset(sim.world.cube_pose(), sim.world.target_pose())
        sim.set_leader_source(demo.action)
        frames0 = {n: c.stats.frames for n, c in rig.cameras.items()}
        sim_t0, overruns0 = sim.world.time, sim.overruns
        stop = threading.Event()
        timer = DeadlineTimer(hz)
        work, late, missed = [], [], 0
        t_start = time.monotonic()
        n = int(seconds * hz)
        for _ in range(n):
            skipped = timer.wait_next(stop)
            woke = time.monotonic()
            missed += skipped
            late.append(woke - timer.tick_time)
            rig.follower.write_goals(rig.leader.read_positions())
            work.append(time.monotonic() - woke)
        wall = time.monotonic() - t_start
        fps = {name: (cam.stats.frames - frames0[name]) / wall for name, cam in rig.cameras.items()}
        return {
            "hz": n / wall, "work_p50": np.percentile(work, 50) * 1e3, "work_p99": np.percentile(work, 99) * 1e3,
            "late_p99": np.percentile(late, 99) * 1e3, "missed": missed, "fps": fps,
            "overruns": sim.overruns - overruns0, "rtf": (sim.world.time - sim_t0) / wall,
        }
    finally:
        rig.close()


def fmt(values, spec: str) -> str:
    med = statistics.median(values)
    if spec == "d":
        med = int(med)
    return f"{med:{spec}} ({min(values):{spec}}–{max(values):{spec}})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--hz", type=float, default=100.0)
    ap.add_argument("--wire-timing", action="store_true", help="delay replies by the real 1 Mbps wire time")
    args = ap.parse_args()
    runs = [one_run(args.seconds, args.hz, args.wire_timing, seed=k) for k in range(args.repeats)]
    print(f"machine: {platform.node() or 'vm'} · {os.cpu_count()} cores · {platform.machine()} · "
          f"Python {platform.python_version()}")
    print(f"command: python bench/virtual.py --seconds {args.seconds:g} --repeats {args.repeats} --hz {args.hz:g}"
          + (" --wire-timing" if args.wire_timing else ""))
    print("median (min–max) over runs\n")
    print("| measure | value | goal |")
    print("|---|---|---|")
    print(f"| control loop Hz | {fmt([r['hz'] for r in runs], '.1f')} | {args.hz:g} |")
    print(f"| tick work p50 ms (leader read + follower write) | {fmt([r['work_p50'] for r in runs], '.2f')} | |")
    print(f"| tick work p99 ms | {fmt([r['work_p99'] for r in runs], '.2f')} | < {1e3 / args.hz:.0f} |")
    print(f"| wake-up lateness p99 ms | {fmt([r['late_p99'] for r in runs], '.2f')} | |")
    print(f"| missed deadlines per run | {fmt([r['missed'] for r in runs], 'd')} | 0 |")
    for cam in runs[0]["fps"]:
        print(f"| camera '{cam}' fps (240x320) | {fmt([r['fps'][cam] for r in runs], '.1f')} | 30 |")
    print(f"| world physics ticks skipped per run | {fmt([r['overruns'] for r in runs], 'd')} | 0 |")
    print(f"| sim time / wall time | {fmt([r['rtf'] for r in runs], '.3f')} | 1.000 |")


if __name__ == "__main__":
    main()
