"""`robotapp <command>`: parsing and calls only; the work lives in the packages.

Errors the user can fix (bad input, missing port) end as one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import sys

from hardware.motors.motor_errors import MotorsError
from hardware.motors.tables import BAUD_TABLE
from policies.argtypes import ArgumentParser, nonneg_float, nonneg_int, positive_float, positive_int, seed


def _cmd_emulate(args: argparse.Namespace) -> int:
    from hardware.virtual.emulate import run_emulator

    return run_emulator(args.motors, args.baud, wire_timing=not args.no_timing, faults=args.faults,
                        out=lambda line: print(line, flush=True))


def _cmd_gui(args: argparse.Namespace) -> int:
    from robotapp.gui.app import run_gui

    return run_gui(quit_after=args.quit_after)


def _cmd_find_port(args: argparse.Namespace) -> int:
    from robotapp.terminal import setup_commands as commands

    return commands.find_port(args.rig)


def _cmd_find_cameras(args: argparse.Namespace) -> int:
    from robotapp.terminal import setup_commands as commands

    return commands.find_cameras(args.rig, args.snapshots)


def _cmd_setup_motors(args: argparse.Namespace) -> int:
    from robotapp.terminal import setup_commands as commands

    return commands.setup_motors(args.rig, args.arm, args.port, args.profile)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from robotapp.terminal import setup_commands as commands

    return commands.calibrate(args.rig, args.arm, args.port, args.profile, args.arm_id, args.auto,
                              args.drive_mode)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from robotapp.terminal import setup_commands as commands

    return commands.doctor(args.rig, args.port, args.profile, args.inject)


def _cmd_sim_demo(args: argparse.Namespace) -> int:
    from robotapp.terminal.sim_demo import run_sim_demo

    results = run_sim_demo(args.episodes, args.seed, out=lambda line: print(line, flush=True))
    return 0 if all(r.success for r in results) else 1


def _cmd_teleop(args: argparse.Namespace) -> int:
    from robotapp.terminal import session_commands as commands

    return commands.teleop(args.rig, args.align, args.seconds, args.fps, args.hz)


def _cmd_record(args: argparse.Namespace) -> int:
    from robotapp.terminal import session_commands as commands

    return commands.record(args.rig, args.dataset, args.task, args.episodes, args.episode_time, args.reset_time,
                           args.warmup_time, args.resume, args.demonstrator, args.seed, args.fps, args.codec,
                           args.align, args.hz, args.fast)


def _cmd_replay(args: argparse.Namespace) -> int:
    from robotapp.terminal import session_commands as commands

    return commands.replay(args.rig, args.dataset, args.episode, args.hz)


def _session_args(p: argparse.ArgumentParser, fps: bool = True) -> None:
    p.add_argument("--rig", default="virtual", help="'virtual' (default) or the name of a saved rig config")
    if fps:  # replay takes the dataset's
        p.add_argument("--fps", type=positive_int, default=30, help="dataset frames per second (default 30)")
    p.add_argument("--hz", type=positive_float, default=None,
                   help="control loop rate, a whole multiple of the fps (default 3x)")


def _rig_args(p: argparse.ArgumentParser, arm: bool = True) -> None:
    p.add_argument("--rig", default="virtual",
                   help="'virtual' (default), or the name of a saved rig config; or give --port and --profile")
    if arm:
        p.add_argument("--arm", choices=["leader", "follower"], default="follower")
    p.add_argument("--port", default=None, help="serial port of the arm (instead of a rig config)")
    p.add_argument("--profile", default=None, help="arm profile: koch-v1.1-leader, koch-v1.1-follower or a file")


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


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="robotapp", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="<command>")

    p = sub.add_parser("gui", help="open the desktop app (the default with no command)")
    p.add_argument("--quit-after", type=positive_float, default=None, metavar="SECONDS",
                   help="close the window after this many seconds (smoke tests)")
    p.set_defaults(func=_cmd_gui)

    p = sub.add_parser("emulate", help="serve emulated Dynamixel servos on a pseudo-terminal")
    p.add_argument("--motors", type=_motors, default="1:xl430-w250,2:xl430-w250,3:xl330-m288,4:xl330-m288,5:xl330-m288,"
                   "6:xl330-m288", help="ID:MODEL list (default: a Koch v1.1 follower)")
    p.add_argument("--baud", type=_baud, default=1_000_000, help="baud rate the servos start at (default 1000000)")
    p.add_argument("--no-timing", action="store_true", help="answer at once instead of at wire speed")
    p.add_argument("--faults", type=_faults, default=None, metavar="SPEC",
                   help="inject faults, e.g. corrupt_crc=0.01,lost_reply=0.005,seed=1")
    p.set_defaults(func=_cmd_emulate)

    p = sub.add_parser("find-port", help="which serial port is this arm? (unplug / replug)")
    p.add_argument("--rig", default=None, help="'virtual' to try it on the virtual rig")
    p.set_defaults(func=_cmd_find_port)

    p = sub.add_parser("find-cameras", help="list cameras, with a snapshot of each")
    p.add_argument("--rig", default=None, help="'virtual' for the virtual rig's cameras")
    p.add_argument("--snapshots", default=None, metavar="DIR", help="save a PNG snapshot per camera here")
    p.set_defaults(func=_cmd_find_cameras)

    p = sub.add_parser("setup-motors", help="give each motor its id and baud rate, one motor at a time")
    _rig_args(p)
    p.set_defaults(func=_cmd_setup_motors)

    p = sub.add_parser("calibrate", help="calibrate an arm (interactive; --auto on the virtual rig)")
    _rig_args(p)
    p.add_argument("--arm-id", default=None, help="name of the calibration file (default from the rig)")
    p.add_argument("--auto", action="store_true", help="virtual rig only: sweep the emulated joints automatically")
    p.add_argument("--drive-mode", action="append", default=[], metavar="JOINT",
                   help="reverse this joint's direction (repeatable)")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser("doctor", help="motor health, joint ranges and the leader->follower mirror test")
    _rig_args(p, arm=False)
    p.add_argument("--inject", default=None, metavar="FAULTS",
                   help="virtual rig only: break something first, e.g. hot:wrist_flex,unplug:elbow_flex")
    p.set_defaults(func=_cmd_doctor)

    p = sub.add_parser("teleop", help="the follower copies the leader")
    _session_args(p)
    p.add_argument("--align", action="store_true", help="move the follower slowly onto the leader first")
    p.add_argument("--seconds", type=positive_float, default=None, help="stop after this long (default: until q)")
    p.set_defaults(func=_cmd_teleop)

    p = sub.add_parser("record", help="record teleoperated episodes into a LeRobot v3.0 dataset")
    _session_args(p)
    p.add_argument("--dataset", required=True, help="dataset folder (new, or existing with --resume)")
    p.add_argument("--task", required=True, help="what the episodes show, e.g. 'pick up the red cube'")
    p.add_argument("--episodes", type=positive_int, default=10)
    p.add_argument("--episode-time", type=positive_float, default=30.0, help="seconds per episode at most")
    p.add_argument("--reset-time", type=nonneg_float, default=5.0, help="seconds between episodes to reset the scene")
    p.add_argument("--warmup-time", type=nonneg_float, default=2.0, help="seconds of teleop before the first episode")
    p.add_argument("--resume", action="store_true", help="add episodes to an existing dataset")
    p.add_argument("--demonstrator", action="store_true",
                   help="virtual rig: the scripted demonstrator moves the leader (training data, headless)")
    p.add_argument("--seed", type=seed, default=0, help="virtual rig: episode k starts from world seed S+k")
    p.add_argument("--codec", choices=["av1", "h264"], default="av1")
    p.add_argument("--fast", action="store_true",
                   help="virtual rig + demonstrator: lock-step with the world, as fast as the machine allows")
    p.add_argument("--align", action="store_true", help="move the follower slowly onto the leader first")
    p.set_defaults(func=_cmd_record)

    p = sub.add_parser("replay", help="send a recorded episode's actions to the follower")
    _session_args(p, fps=False)
    p.add_argument("--dataset", required=True)
    p.add_argument("--episode", type=nonneg_int, required=True)
    p.set_defaults(func=_cmd_replay)

    from robotapp.cli.cmd_dataset import add_dataset_commands

    add_dataset_commands(sub)

    from policies.cli import add_train_command

    add_train_command(sub)

    from robotapp.cli.cmd_eval import add_eval_command

    add_eval_command(sub)

    from robotapp.terminal.demo import add_demo_command

    add_demo_command(sub)

    p = sub.add_parser("sim", help="the virtual world on its own")
    sim = p.add_subparsers(dest="sim_command", metavar="<sim command>", required=True)
    p = sim.add_parser("demo", help="the scripted demonstrator solves the pick-and-place task through the leader")
    p.add_argument("--episodes", type=positive_int, default=10)
    p.add_argument("--seed", type=seed, default=0, help="episode k uses seed S+k for the cube's start")
    p.set_defaults(func=_cmd_sim_demo)
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
