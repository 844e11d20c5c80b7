"""`robotapp emulate`: emulated Dynamixel or Feetech servos on a pseudo-terminal, for any tool of that family to open."""

from __future__ import annotations

import argparse

from hardware.motors.feetech_tables import BAUD_TABLE as FEETECH_BAUDS
from hardware.motors.tables import BAUD_TABLE
from robotapp.cli.argtypes import positive_int


def register(sub) -> None:
    from hardware.virtual.hand import COMMANDS

    p = sub.add_parser("emulate", help="serve emulated Dynamixel or Feetech servos on a pseudo-terminal",
                       description="Serve emulated Dynamixel (or, with --protocol feetech, Feetech STS) servos on a\n"
                                   "pseudo-terminal. It prints 'port: /dev/pts/N', a port any Dynamixel or Feetech tool\n"
                                   "(or a saved rig config) can open.",
                       epilog="--hand: " + COMMANDS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--protocol", choices=sorted(DEFAULT_MOTORS), default="dynamixel",
                   help="the servos' family: dynamixel (Protocol 2.0, default) or feetech (STS series, e.g. sts3215)")
    p.add_argument("--motors", type=_motors, default=None,
                   help="ID:MODEL list (default: a Koch v1.1 follower; with --protocol feetech, an SO-101's six "
                        "sts3215)")
    p.add_argument("--baud", type=_baud, default=1_000_000, help="baud rate the servos start at (default 1000000)")
    p.add_argument("--no-timing", action="store_true", help="answer at once instead of at wire speed")
    p.add_argument("--faults", type=_faults, default=None, metavar="SPEC",
                   help="inject faults, e.g. corrupt_crc=0.01,lost_reply=0.005,seed=1; voltage=12.0 is the supply "
                        "every servo reads (a 12 V adapter on a 5 V arm)")
    p.add_argument("--hand", action="store_true",
                   help="move the joints by hand with commands on stdin (see below), as a person moves a real arm")
    p.set_defaults(func=_run)


DEFAULT_MOTORS = {
    "dynamixel": "1:xl430-w250,2:xl430-w250,3:xl330-m288,4:xl330-m288,5:xl330-m288,6:xl330-m288",
    "feetech": ",".join(f"{i}:sts3215" for i in range(1, 7)),
}
_TABLES = {"dynamixel": "hardware.motors.tables", "feetech": "hardware.motors.feetech_tables"}


def _run(args: argparse.Namespace) -> int:
    import importlib

    from hardware.virtual.chain import parse_motor_spec
    from hardware.virtual.emulate import run_emulator

    motors = args.motors or DEFAULT_MOTORS[args.protocol]
    # the models and rate for this family (the argument types accepted either family's); a ValueError is one line
    tables = importlib.import_module(_TABLES[args.protocol])
    for model in parse_motor_spec(motors, tables).values():
        tables.baud_value(args.baud, tables.get_model(model))
    return run_emulator(motors, args.baud, wire_timing=not args.no_timing, faults=args.faults,
                        hand=args.hand, out=lambda line: print(line, flush=True), protocol=args.protocol)


def _baud(text: str) -> int:
    """A Dynamixel X-series or Feetech STS rate; whether each servo model supports it is checked with the --motors."""
    rate = positive_int(text)
    if rate not in BAUD_TABLE.values() and rate not in FEETECH_BAUDS.values():
        raise argparse.ArgumentTypeError(f"{rate} is not a Dynamixel baud rate; choose one of "
                                         f"{', '.join(map(str, sorted(BAUD_TABLE.values())))} (Feetech: "
                                         f"{', '.join(map(str, sorted(FEETECH_BAUDS.values())))})")
    return rate


def _motors(text: str) -> str:
    """Checked against either family's models here; _run checks them against --protocol's."""
    import importlib

    from hardware.virtual.chain import parse_motor_spec

    errors = []
    for module in _TABLES.values():
        try:
            parse_motor_spec(text, importlib.import_module(module))
            return text
        except ValueError as e:
            errors.append(e)
    raise argparse.ArgumentTypeError(str(errors[0])) from None


def _faults(text: str) -> str:
    """Checked here so a bad spec is refused before the pty opens; the emulator parses it again."""
    from hardware.virtual.faults import FaultConfig

    try:
        FaultConfig.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text
