"""The USB-serial latency timer: an FTDI adapter (U2D2 and most USB-TTL boards on ttyUSB) holds back what it has
received for up to this many milliseconds. Linux defaults it to 16 ms, so every status packet is late and a 6-motor
read loop tops out near 30 Hz; 1 ms is what servo buses want. CDC devices (ttyACM) have no such timer."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .problem import Problem, arm_label

UDEV_RULE = 'ACTION=="add", SUBSYSTEM=="usb-serial", DRIVER=="ftdi_sio", ATTR{latency_timer}="1"'
UDEV_FILE = "/etc/udev/rules.d/99-robotapp-ftdi-latency.rules"
KEEP_IT = f"to keep it after a replug: echo '{UDEV_RULE}' | sudo tee {UDEV_FILE}"


def latency_file(port: str, sys_root: Path = Path("/sys")) -> Path | None:
    """sysfs's latency_timer for the port's tty (a /dev/serial/by-id link is followed), or None (not USB-serial)."""
    name = os.path.basename(os.path.realpath(port))
    path = Path(sys_root) / "bus" / "usb-serial" / "devices" / name / "latency_timer"
    return path if path.is_file() else None


def check_latency(port: str, *, role: str | None = None, sys_root: Path = Path("/sys"), fix: bool = True,
                  writable: Callable[[Path], bool] | None = None) -> Problem | None:
    """None when the port has no latency timer or it is 1 ms. Above that, with `fix` and a writable file (root,
    or a udev rule that gave the user the file), it is set to 1 for this session and the line says so."""
    if "://" in port:
        return None
    path = latency_file(port, sys_root)
    if path is None:
        return None
    try:
        ms = int(path.read_text().strip())
    except (OSError, ValueError):
        return None  # unreadable: nothing to say that would help
    if ms <= 1:
        return None
    label = arm_label(role, port)
    can_write = writable(path) if writable is not None else os.access(path, os.W_OK)
    if fix and can_write:
        try:
            path.write_text("1")
            if int(path.read_text().strip()) == 1:
                return Problem(f"{label}: the USB latency timer was {ms} ms (each read waited for it): set to 1 ms for "
                               f"this session; {KEEP_IT}", "latency", fatal=False, fixed=True)
        except (OSError, ValueError):
            pass  # fall through to the fix the user runs
    return Problem(f"{label}: the USB latency timer is {ms} ms, so each read waits up to {ms} ms: run "
                   f"`echo 1 | sudo tee {path}`; {KEEP_IT}", "latency", fatal=False)
