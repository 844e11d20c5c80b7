"""What is plugged in: serial ports (with USB serial numbers, which survive replugging while /dev/ttyACM0 does
not) and cameras (with a snapshot each, so a user can tell the wrist camera from the top one).

Every function returns an empty list on a machine with nothing plugged in; nothing here raises for that.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SerialPortInfo:
    device: str  # /dev/ttyACM0, COM3
    description: str = ""
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    manufacturer: str | None = None
    location: str | None = None  # USB bus path, e.g. "1-1.2:1.0": stable per physical socket

    def label(self) -> str:
        parts = [p for p in (self.description if self.description not in ("", "n/a") else None,
                             f"serial {self.serial_number}" if self.serial_number else None) if p]
        return f"{self.device} ({', '.join(parts)})" if parts else self.device


# Ports of emulated arms in this process (the virtual rig's "USB adapters"). The OS cannot list a pty as a USB
# device, so the virtual rig registers its ports here and they show up like plugged-in adapters.
_virtual_ports: dict[str, SerialPortInfo] = {}


def register_virtual_port(info: SerialPortInfo) -> None:
    _virtual_ports[info.device] = info


def unregister_virtual_port(device: str) -> None:
    _virtual_ports.pop(device, None)


def virtual_ports() -> list[SerialPortInfo]:
    """The emulated arms' ports registered in this process (the window mirrors its control process's)."""
    return list(_virtual_ports.values())


def list_serial_ports(include_all: bool = False) -> list[SerialPortInfo]:
    """Serial ports sorted by device, the virtual rig's included. Ports pyserial knows nothing about (hwid "n/a":
    the phantom /dev/ttyS* UARTs every Linux PC lists) are left out unless `include_all`; an arm's adapter is
    never one of them."""
    from serial.tools import list_ports  # imported here: discovery is optional for most of the app

    ports = [SerialPortInfo(device=p.device, description=p.description or "", vid=p.vid, pid=p.pid,
                            serial_number=p.serial_number, manufacturer=p.manufacturer, location=p.location)
             for p in list_ports.comports() if include_all or getattr(p, "hwid", "") != "n/a"]
    ports += [p for p in _virtual_ports.values() if p.device not in {q.device for q in ports}]
    return sorted(ports, key=lambda p: p.device)


def _plugged_in(ports: Sequence[SerialPortInfo]) -> str:
    return ", ".join(p.label() for p in ports) if ports else "nothing"


def find_port_by_serial(serial_number: str, ports: Sequence[SerialPortInfo] | None = None) -> str:
    """The device path of the adapter with this USB serial number. Raises LookupError naming it and listing
    what is plugged in, so the user sees at once whether the arm is unplugged or the number is wrong."""
    ports = list_serial_ports() if ports is None else list(ports)
    matches = [p.device for p in ports if p.serial_number == serial_number]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise LookupError(f"serial number {serial_number!r} is on several ports ({', '.join(matches)})")
    raise LookupError(f"no serial port with serial number {serial_number!r}; plugged in: {_plugged_in(ports)}")


def _key(p: SerialPortInfo) -> tuple[str, str | None]:
    # Device and serial together: another adapter taking over /dev/ttyACM0 is a removal plus an addition.
    return (p.device, p.serial_number)


def diff_ports(before: Iterable[SerialPortInfo], after: Iterable[SerialPortInfo]
               ) -> tuple[list[SerialPortInfo], list[SerialPortInfo]]:
    """(removed, added) between two listings, each sorted by device."""
    b = {_key(p): p for p in before}
    a = {_key(p): p for p in after}
    removed = sorted((p for k, p in b.items() if k not in a), key=lambda p: p.device)
    added = sorted((p for k, p in a.items() if k not in b), key=lambda p: p.device)
    return removed, added


def detect_replug(before: Iterable[SerialPortInfo], after: Iterable[SerialPortInfo]) -> SerialPortInfo:
    """The one port that changed between two listings, for "unplug the arm, press Enter" (it is in removed)
    or "plug it in, press Enter" (in added). Raises LookupError when nothing or more than one port changed."""
    removed, added = diff_ports(before, after)
    changed = removed or added
    if len(changed) == 1 and not (removed and added):
        return changed[0]
    if not removed and not added:
        raise LookupError("no serial port appeared or disappeared; check the USB cable and try again")
    desc = "; ".join(f"{what}: {_plugged_in(ps)}" for what, ps in (("removed", removed), ("added", added)) if ps)
    raise LookupError(f"more than one serial port changed ({desc}); change only the arm's cable")


@dataclass(frozen=True)
class CameraInfo:
    source: int | str  # what OpenCVCamera takes: /dev/video2 on Linux, an index elsewhere
    name: str = ""  # the driver's name for the device, where the OS tells it
    stable_path: str | None = None  # /dev/v4l/by-id/... link: survives replugging and reordering
    width: int = 0
    height: int = 0
    fourcc: str = ""
    fps: float = 0.0
    backend: str = ""
    snapshot: np.ndarray | None = field(default=None, repr=False, compare=False)  # RGB


def _video_nodes() -> list[str]:
    def number(path: str) -> int:
        m = re.search(r"(\d+)$", path)
        return int(m.group(1)) if m else -1
    return sorted(glob.glob("/dev/video*"), key=number)


def _v4l_links() -> dict[str, str]:
    links: dict[str, str] = {}
    for link in sorted(glob.glob("/dev/v4l/by-id/*")):
        links.setdefault(os.path.realpath(link), link)
    return links


def stable_camera_path(source: str) -> str | None:
    """The /dev/v4l/by-id/... link to a /dev/videoN node, if any: it survives replugging and renumbering."""
    return _v4l_links().get(os.path.realpath(source))


def list_cameras(max_index: int = 10, sources: Iterable[int | str] | None = None) -> list[CameraInfo]:
    """Cameras that open and deliver a frame, each with a snapshot. On Linux the /dev/video* nodes are probed
    (nodes that are metadata or busy are skipped quietly); elsewhere indexes 0..max_index-1. `sources`
    probes exactly those instead (a path the user typed, a video file)."""
    import cv2

    from .cameras.opencv import fourcc_str, quiet_opencv, to_rgb

    if sources is None:
        sources = _video_nodes() if sys.platform.startswith("linux") else range(max_index)
    links = _v4l_links()
    found: list[CameraInfo] = []
    for src in sources:
        if isinstance(src, str) and "://" not in src and not os.path.exists(src):
            continue
        with quiet_opencv():
            cap = cv2.VideoCapture(src)
            try:
                if not cap.isOpened():
                    continue
                image = None
                for _ in range(5):  # some cameras fail the first reads while their exposure settles
                    ok, image = cap.read()
                    if ok and image is not None:
                        break
                else:
                    continue
                rgb = to_rgb(image)
                name = ""
                if isinstance(src, str) and src.startswith("/dev/video"):
                    sys_name = Path("/sys/class/video4linux") / Path(src).name / "name"
                    name = sys_name.read_text().strip() if sys_name.exists() else ""
                found.append(CameraInfo(
                    source=src, name=name, fourcc=fourcc_str(cap.get(cv2.CAP_PROP_FOURCC)),
                    stable_path=links.get(os.path.realpath(src)) if isinstance(src, str) else None,
                    width=rgb.shape[1], height=rgb.shape[0], fps=float(cap.get(cv2.CAP_PROP_FPS)),
                    backend=cap.getBackendName(), snapshot=rgb))
            finally:
                cap.release()
    return found
