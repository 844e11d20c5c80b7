"""`robotapp rig new | list | show | remove | udev`: the saved rig configs, the same files the window's Rig page
reads and writes. Parsing only; the commands live in robotapp/terminal/rig_commands.py."""

from __future__ import annotations

KOCH_LEADER, KOCH_FOLLOWER = "koch-v1.1-leader", "koch-v1.1-follower"


def _commands():
    from robotapp.terminal import rig_commands

    return rig_commands


def register(sub) -> None:
    rig = sub.add_parser("rig", help="saved rig configs: make, list, show and remove them; udev rules for the arms")
    rs = rig.add_subparsers(dest="rig_command", metavar="<rig command>")
    rig.set_defaults(func=lambda a: (rig.print_help(), 2)[1])

    p = rs.add_parser("new", help="save a rig config: the two arms' ports and profiles, and the cameras")
    p.add_argument("name", metavar="NAME", help="the rig's name, used as `--rig NAME` (calibrations: NAME-leader, "
                                               "NAME-follower)")
    p.add_argument("--leader", required=True, metavar="PORT",
                   help="the leader arm's port (/dev/ttyACM0) or its USB adapter's serial number")
    p.add_argument("--follower", required=True, metavar="PORT",
                   help="the follower arm's port (/dev/ttyACM1) or its USB adapter's serial number")
    p.add_argument("--leader-profile", default=KOCH_LEADER, metavar="P",
                   help=f"built-in profile name or a profile file (default {KOCH_LEADER})")
    p.add_argument("--follower-profile", default=KOCH_FOLLOWER, metavar="P",
                   help=f"built-in profile name or a profile file (default {KOCH_FOLLOWER})")
    p.add_argument("--camera", action="append", default=[], metavar="ROLE=SOURCE[@WxH[@FPS]]",
                   help="a camera, e.g. front=/dev/video0@640x480@30 (repeatable; default size 640x480 at 30 fps)")
    p.add_argument("--force", action="store_true", help="replace a saved rig of the same name")
    p.set_defaults(func=lambda a: _commands().new_rig(a.name, a.leader, a.follower, a.leader_profile,
                                                      a.follower_profile, a.camera, a.force))

    p = rs.add_parser("list", help="the saved rigs: arms with ports and serial numbers, cameras")
    p.set_defaults(func=lambda a: _commands().list_rigs())

    p = rs.add_parser("show", help="a rig's whole config, whether each arm is plugged in and calibrated")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=lambda a: _commands().show_rig(a.name))

    p = rs.add_parser("remove", help="delete a rig config (its calibration files are kept)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=lambda a: _commands().remove_rig(a.name))

    p = rs.add_parser("udev", help="udev rules giving each arm a stable /dev/robotapp-NAME-ROLE link (Linux)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=lambda a: _commands().udev_rules(a.name))
