"""`robotapp sim demo`: the virtual world on its own."""

from __future__ import annotations

import argparse

from robotapp.cli.argtypes import positive_int, seed


def register(sub) -> None:
    p = sub.add_parser("sim", help="the virtual world on its own")
    sim = p.add_subparsers(dest="sim_command", metavar="<sim command>", required=True)
    p = sim.add_parser("demo", help="the scripted demonstrator solves the pick-and-place task through the leader")
    p.add_argument("--episodes", type=positive_int, default=10)
    p.add_argument("--seed", type=seed, default=0, help="episode k uses seed S+k for the cube's start")
    p.add_argument("--rig", default="virtual", choices=("virtual", "virtual-so101"),
                   help="'virtual' (the Koch, through its emulated Dynamixels) or 'virtual-so101' (the SO-101, "
                        "through its emulated Feetech STS3215s)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from robotapp.terminal.sim_demo import run_sim_demo

    results = run_sim_demo(args.episodes, args.seed, out=lambda line: print(line, flush=True), rig_name=args.rig)
    return 0 if all(r.success for r in results) else 1
