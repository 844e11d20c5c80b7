"""The scripted demonstrator's success rate on each arm of the virtual world, measured as `robotapp sim demo`
measures it (lock-step, 50 Hz control, 0.5 s settle, the world's success judgement), and how long it took.

Both go through their emulated servos (leader -> bus -> follower): the Koch's Dynamixels, the SO-101's
("virtual-so101") Feetech STS3215s.

    .venv/bin/python bench/demonstrator_arms.py [--episodes 100] [--seed 0] [--rigs virtual,virtual-so101]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("ROBOTAPP_HOME", tempfile.mkdtemp(prefix="robotapp-bench-"))

from robotapp.terminal.sim_demo import VIRTUAL_RIGS, run_sim_demo  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rigs", default=",".join(VIRTUAL_RIGS))
    args = ap.parse_args()
    print("| rig | success | seeds | wall s |\n|---|---|---|---|")
    for rig in args.rigs.split(","):
        t0 = time.perf_counter()
        results = run_sim_demo(args.episodes, args.seed, out=lambda _line: None, rig_name=rig)
        wins = sum(r.success for r in results)
        print(f"| {rig} | {wins}/{len(results)} | {args.seed}-{args.seed + args.episodes - 1} | "
              f"{time.perf_counter() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
