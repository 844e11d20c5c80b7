"""`robotapp emulate`: emulated Dynamixel servos on a pseudo-terminal, for any Dynamixel tool to open."""

from __future__ import annotations

import argparse

from hardware.motors.tables import BAUD_TABLE
from robotapp.cli.argtypes import positive_int


def register(sub) -> None:
    from hardware.virtual.hand import COMMANDS

    p = sub.add_parser("emulate", help="serve emulated Dynamixel servos on a pseudo-terminal",
                       description="Serve emulated Dynamixel servos on a pseudo-terminal. It prints 'port: /dev/pts/N',\n"
                                   "a port any Dynamixel tool (or a saved rig config) can open.",
                       epilog="--hand: " + COMMANDS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--motors", type=_motors, default="1:xl430-w250,2:xl430-w250,3:xl330-m288,4:xl330-m288,5:xl330-m288,"
                   "6:xl330-m288", help="ID:MODEL list (default: a Koch v1.1 follower)")
    p.add_argument("--baud", type=_baud, default=1_000_000, help="baud rate the servos start at (default 1000000)")
    p.add_argument("--no-timing", action="store_true", help="answer at once instead of at wire speed")
    p.add_argument("--faults", type=_faults, default=None, metavar="SPEC",
                   help="inject faults, e.g. corrupt_crc=0.01,lost_reply=0.005,seed=1; voltage=12.0 is the supply "
                        "every servo reads (a 12 V adapter on a 5 V arm)")
    p.add_argument("--hand", action="store_true",
                   help="move the joints by hand with commands on stdin (see below), as a person moves a real arm")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from hardware.virtual.emulate import run_emulator

    return run_emulator(args.motors, args.baud, wire_timing=not args.no_timing, faults=args.faults,
                        hand=args.hand, out=lambda line: print(line, flush=True))


def _baud(text: str) -> int:
    """A Dynamixel X-series rate; whether each servo model supports it is checked with the --motors."""
    rate = positive_int(text)
    if rate not in BAUD_TABLE.values():
        raise argparse.ArgumentTypeError(f"{rate} is not a Dynamixel baud rate; choose one of "
                                         f"{', '.join(map(str, sorted(BAUD_TABLE.values())))}")
    return rate


def _motors(text: str) -> str:
    from hardware.virtual.chain import parse_motor_spec

    try:
        parse_motor_spec(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _faults(text: str) -> str:
    """Checked here so a bad spec is refused before the pty opens; the emulator parses it again."""
    from hardware.virtual.faults import FaultConfig

    try:
        FaultConfig.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text
