"""`robotapp find-port | find-cameras | setup-motors | calibrate | doctor`: setting the arms up."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("find-port", help="which serial port is this arm? (unplug / replug)")
    p.add_argument("--rig", default=None, help="'virtual' to try it on the virtual rig")
    p.set_defaults(func=lambda a: _commands().find_port(a.rig))

    p = sub.add_parser("find-cameras", help="list cameras, with a snapshot of each")
    p.add_argument("--rig", default=None, help="'virtual' for the virtual rig's cameras")
    p.add_argument("--snapshots", default=None, metavar="DIR", help="save a PNG snapshot per camera here")
    p.set_defaults(func=lambda a: _commands().find_cameras(a.rig, a.snapshots))

    p = sub.add_parser("setup-motors", help="give each motor its id and baud rate, one motor at a time")
    _rig_args(p)
    p.set_defaults(func=lambda a: _commands().setup_motors(a.rig, a.arm, a.port, a.profile))

    p = sub.add_parser("calibrate", help="calibrate an arm (interactive; --auto on the virtual rig)")
    _rig_args(p)
    p.add_argument("--arm-id", default=None, help="name of the calibration file (default from the rig)")
    p.add_argument("--auto", action="store_true", help="virtual rig only: sweep the emulated joints automatically")
    p.add_argument("--drive-mode", action="append", default=[], metavar="JOINT",
                   help="reverse this joint's direction (repeatable)")
    p.set_defaults(func=lambda a: _commands().calibrate(a.rig, a.arm, a.port, a.profile, a.arm_id, a.auto,
                                                        a.drive_mode))

    p = sub.add_parser("doctor", help="motor health, joint ranges and the leader->follower mirror test")
    _rig_args(p, arm=False)
    p.add_argument("--inject", default=None, metavar="FAULTS",
                   help="virtual rig only: break something first, e.g. hot:wrist_flex,unplug:elbow_flex")
    p.add_argument("--host", action="store_true",
                   help="check the host instead: port permissions, USB latency timer, each arm's supply voltage, "
                        "missing or shared motor ids, cameras sharing a USB 2 bus (exit code 1 on a problem)")
    p.set_defaults(func=_doctor)


def _doctor(a: argparse.Namespace) -> int:
    if a.host:
        if a.inject:
            raise ValueError("--inject breaks emulated servos for the motor doctor; --host checks the host as it is")
        from robotapp.terminal.host_commands import doctor_host

        return doctor_host(a.rig, a.port, a.profile)
    return _commands().doctor(a.rig, a.port, a.profile, a.inject)


def _commands():
    from robotapp.terminal import setup_commands

    return setup_commands


def _rig_args(p: argparse.ArgumentParser, arm: bool = True) -> None:
    p.add_argument("--rig", default="virtual",
                   help="'virtual' (default, the Koch), 'virtual-so101', or the name of a saved rig config; or give "
                        "--port and --profile")
    if arm:
        p.add_argument("--arm", choices=["leader", "follower"], default="follower")
    p.add_argument("--port", default=None, help="serial port of the arm (instead of a rig config)")
    p.add_argument("--profile", default=None,
                   help="arm profile: koch-v1.1-leader, koch-v1.1-follower, so101-leader, so101-follower or a file")
