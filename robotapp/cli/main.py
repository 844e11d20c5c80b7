"""`robotapp <command>`: parsing and calls only; each command family registers itself from its own module
(cmd_*.py: `register(subparsers)`), and the work lives in the packages.

Errors the user can fix (bad input, missing port) end as one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import sys

from hardware.motors.motor_errors import MotorsError
from robotapp.cli import (
    cmd_dataset,
    cmd_demo,
    cmd_emulate,
    cmd_eval,
    cmd_gui,
    cmd_rig,
    cmd_session,
    cmd_setup,
    cmd_sim,
    cmd_train,
)
from robotapp.cli.argtypes import ArgumentParser

COMMANDS = (cmd_gui, cmd_emulate, cmd_setup, cmd_rig, cmd_session, cmd_dataset, cmd_train, cmd_eval, cmd_demo,
            cmd_sim)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="robotapp", description="Set up, teleoperate, record, train and evaluate low-cost "
                            "robot arms, on hardware or on a virtual rig.")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            args = build_parser().parse_args(["gui", *(argv or [])])
    except SystemExit as e:  # -h (0), or a bad argument (2) whose one line argparse has printed
        return e.code if isinstance(e.code, int) else 2
    try:
        return args.func(args)
    except (MotorsError, ValueError, LookupError, OSError, RuntimeError) as e:
        print(f"robotapp {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
