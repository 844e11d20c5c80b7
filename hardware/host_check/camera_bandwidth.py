"""Cameras that share one USB 2 bus: UVC cameras reserve their stream's bandwidth up front, so when the bus cannot
carry them all, one fails to start or every camera drops frames. A USB 2 camera on a USB 3 port still sits on that
controller's USB 2 bus, shared with every other USB 2 device on it; sysfs tells each device's bus and speed."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .problem import Problem

# What one bus carries for video in practice, bytes/s, by the bus speed sysfs reports (Mbit/s): USB 2 high speed
# is 480 Mbit/s raw but isochronous transfers get at most 80% of each microframe, and UVC adds headers.
PRACTICAL_BYTES_S = {480: 35e6, 12: 1.0e6, 1.5: 0.1e6}
MJPG_FRACTION = 0.2  # an MJPG stream is roughly a fifth of the same picture in YUYV (an estimate, scene-dependent)


@dataclass(frozen=True)
class CameraTarget:
    name: str  # role name, e.g. "front"
    source: int | str  # /dev/videoN, a /dev/v4l/by-id link, or an index (= /dev/videoN on Linux)
    width: int
    height: int
    fps: float
    fourcc: str = "YUYV"  # what V4L2 cameras deliver unless told otherwise

    def bytes_per_second(self) -> float:
        raw = self.width * self.height * 2 * self.fps  # YUYV: 2 bytes a pixel
        return raw * MJPG_FRACTION if self.fourcc.upper() in ("MJPG", "MJPEG") else raw

    def describe(self) -> str:
        return f"{self.width}x{self.height}@{self.fps:g} {self.fourcc.upper()}"


def video_node(source: int | str) -> str | None:
    """'video2' for 2, '2', '/dev/video2' or a by-id link to it; None for anything else (a file, a URL)."""
    if isinstance(source, int) or str(source).isdigit():
        return f"video{int(source)}"
    name = os.path.basename(os.path.realpath(str(source)))
    return name if re.fullmatch(r"video\d+", name) else None


def usb_bus(source: int | str, sys_root: Path = Path("/sys")) -> tuple[int, float] | None:
    """(bus number, speed in Mbit/s) of the USB device the camera is, from sysfs; None when not USB or unknown."""
    node = video_node(source)
    if node is None:
        return None
    link = Path(sys_root) / "class" / "video4linux" / node / "device"
    if not link.exists():
        return None
    root = Path(sys_root).resolve()
    d = link.resolve()
    while d != root and d != d.parent:  # the interface's parent is the device, with busnum and speed
        if (d / "busnum").is_file() and (d / "speed").is_file():
            try:
                return int((d / "busnum").read_text()), float((d / "speed").read_text())
            except ValueError:
                return None
        d = d.parent
    return None


def check_cameras(cameras: list[CameraTarget], sys_root: Path = Path("/sys")) -> list[Problem]:
    """One line per USB 2 (or slower) bus whose cameras need more than it carries."""
    buses: dict[tuple[int, float], list[CameraTarget]] = {}
    for cam in cameras:
        where = usb_bus(cam.source, sys_root)
        if where is not None and where[1] in PRACTICAL_BYTES_S:
            buses.setdefault(where, []).append(cam)
    problems = []
    for (bus, speed), cams in sorted(buses.items()):
        need = sum(c.bytes_per_second() for c in cams)
        carries = PRACTICAL_BYTES_S[speed]
        if need <= carries:
            continue
        kind = "USB 2" if speed == 480 else f"USB {speed:g} Mbit/s"
        names = " and ".join(f"{c.name} ({c.source})" for c in cams)
        limit = f"more than the ~{carries / 1e6:g} MB/s one {kind} bus carries"
        if len(cams) == 1:
            line = (f"camera {names} on {kind} bus {bus}: {cams[0].describe()} needs {_mb(need)}, {limit}: lower the "
                    f"fps or size, or use MJPG")
        else:
            if len({c.describe() for c in cams}) == 1:
                each = f"{cams[0].describe()} each needs {_mb(cams[0].bytes_per_second())}"
            else:
                each = ", ".join(f"{c.name} {c.describe()} needs {_mb(c.bytes_per_second())}" for c in cams)
            line = (f"cameras {names} share {kind} bus {bus}: {each}, {_mb(need)} in all, {limit}: plug one into a "
                    f"port on another bus, lower the fps or size, or use MJPG")
        problems.append(Problem(line, "camera_bandwidth", fatal=False))
    return problems


def describe_cameras(cameras: list[CameraTarget], sys_root: Path = Path("/sys")) -> list[str]:
    """One line per camera for the doctor: which bus it is on and what it asks of it."""
    out = []
    for cam in cameras:
        where = usb_bus(cam.source, sys_root)
        bus = (f"USB bus {where[0]} at {where[1]:g} Mbit/s" if where else
               "USB bus unknown (not plugged in, or not a USB camera): not checked")
        out.append(f"camera {cam.name} ({cam.source}): {bus}; {cam.describe()} needs about "
                   f"{_mb(cam.bytes_per_second())}")
    return out


def _mb(bytes_s: float) -> str:
    return f"{bytes_s / 1e6:.1f} MB/s"
