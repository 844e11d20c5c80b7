"""Where robotapp keeps the user's files (calibrations, rig configs): one place, overridable for tests."""

from __future__ import annotations

import os
from pathlib import Path


def user_data_dir() -> Path:
    """$ROBOTAPP_HOME, else $XDG_DATA_HOME/robotapp, else ~/.local/share/robotapp."""
    if os.environ.get("ROBOTAPP_HOME"):
        return Path(os.environ["ROBOTAPP_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "robotapp"
