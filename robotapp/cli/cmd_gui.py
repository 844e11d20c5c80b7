"""`robotapp gui` (also what `robotapp` with no command runs)."""

from __future__ import annotations

import argparse
import sys

from robotapp.cli.argtypes import positive_float


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the desktop app (the default with no command)")
    p.add_argument("--quit-after", type=positive_float, default=None, metavar="SECONDS",
                   help="close the window after this many seconds (smoke tests)")
    p.add_argument("--rig", default=None, metavar="NAME",
                   help="open this rig at start: 'virtual' (the Koch), 'virtual-so101', or a saved rig config "
                        "(default: the rig used last time)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from robotapp.gui.system_libraries import startup_problem

    problem = startup_problem()  # before PySide6 is imported: Qt's own abort names the wrong file
    if problem:
        print(f"robotapp gui: {problem}", file=sys.stderr)
        return 1
    from robotapp.gui.app import run_gui

    return run_gui(quit_after=args.quit_after, rig=args.rig)
