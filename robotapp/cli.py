"""`robotapp <command>`: parsing and calls only; the work lives in the packages.

Errors the user can fix (bad input, missing port) end as one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import sys

from hardware.motors.errors import MotorsError


def _cmd_emulate(args: argparse.Namespace) -> int:
    from hardware.virtual.emulate import run_emulator

    return run_emulator(args.motors, args.baud, wire_timing=not args.no_timing, faults=args.faults,
                        out=lambda line: print(line, flush=True))


def _cmd_gui(args: argparse.Namespace) -> int:
    from robotapp.gui.app import run_gui

    return run_gui(quit_after=args.quit_after)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robotapp", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="<command>")

    p = sub.add_parser("gui", help="open the desktop app (the default with no command)")
    p.add_argument("--quit-after", type=float, default=None, metavar="SECONDS",
                   help="close the window after this many seconds (smoke tests)")
    p.set_defaults(func=_cmd_gui)

    p = sub.add_parser("emulate", help="serve emulated Dynamixel servos on a pseudo-terminal")
    p.add_argument("--motors", default="1:xl430-w250,2:xl430-w250,3:xl330-m288,4:xl330-m288,5:xl330-m288,"
                   "6:xl330-m288", help="ID:MODEL list (default: a Koch v1.1 follower)")
    p.add_argument("--baud", type=int, default=1_000_000, help="baud rate the servos start at (default 1000000)")
    p.add_argument("--no-timing", action="store_true", help="answer at once instead of at wire speed")
    p.add_argument("--faults", default=None, metavar="SPEC",
                   help="inject faults, e.g. corrupt_crc=0.01,lost_reply=0.005,seed=1")
    p.set_defaults(func=_cmd_emulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args(["gui", *(argv or [])])
    try:
        return args.func(args)
    except (MotorsError, ValueError, LookupError, OSError) as e:
        print(f"robotapp {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
