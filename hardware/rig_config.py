"""Rig configs: which arms (profile, and how to find their port) and which cameras make up a rig.

An arm is found by its USB adapter's serial number when it has one, so a port renamed after a reboot
(/dev/ttyACM0 -> /dev/ttyACM1) is found again and the calibration, keyed by arm id, still applies."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .discovery import SerialPortInfo, find_port_by_serial
from .paths import user_data_dir


class RigConfigError(ValueError):
    pass


@dataclass
class ArmConfig:
    role: str  # "leader" or "follower"
    profile: str  # built-in profile name or a profile file path
    arm_id: str  # names the calibration file
    port: str | None = None  # last known device path
    serial_number: str | None = None  # USB serial number: survives renaming


@dataclass
class CameraConfig:
    name: str  # role name, e.g. "front", "wrist"
    source: str  # /dev/v4l/by-id/... path, /dev/videoN, or an index
    width: int = 640
    height: int = 480
    fps: int = 30


@dataclass
class RigConfig:
    name: str
    arms: list[ArmConfig] = field(default_factory=list)
    cameras: list[CameraConfig] = field(default_factory=list)

    def arm(self, role: str) -> ArmConfig:
        for a in self.arms:
            if a.role == role:
                return a
        raise RigConfigError(f"rig {self.name!r} has no {role} arm")


def resolve_port(arm: ArmConfig, ports: list[SerialPortInfo] | None = None) -> str:
    """The device path for an arm now: by serial number if known, else the stored path."""
    if arm.serial_number:
        try:
            return find_port_by_serial(arm.serial_number, ports)
        except LookupError as e:
            raise RigConfigError(f"{arm.role} arm {arm.arm_id!r}: {e}") from None
    if arm.port:
        return arm.port
    raise RigConfigError(f"{arm.role} arm {arm.arm_id!r} has neither a port nor a USB serial number; run "
                         f"`robotapp find-port`")


def rigs_dir() -> Path:
    return user_data_dir() / "rigs"


def rig_path(name: str) -> Path:
    return rigs_dir() / f"{name}.json"


def saved_rig_names() -> list[str]:
    """The names of the saved rigs, sorted (an unreadable file is still listed: `rig show` says what is wrong)."""
    folder = rigs_dir()
    return sorted(p.stem for p in folder.glob("*.json") if p.is_file()) if folder.is_dir() else []


def unknown_rig_message(name: str) -> str:
    """What to say for a rig name with no saved config: what is saved, and how to make this one."""
    saved = saved_rig_names()
    listing = f"saved: {', '.join(saved)}" if saved else "none saved yet"
    return (f"no saved rig {name!r} ({listing}); make one with: robotapp rig new {name} --leader PORT --follower PORT "
            f"(or on the Rig page)")


def saved_rig_path(name: str) -> Path:
    """The file of the rig called `name`; refuses a name that is a path (`rig remove ../x` must stay in rigs/)."""
    if not name or name.startswith(".") or Path(name).name != name or "\\" in name:
        raise RigConfigError(f"{name!r} is not a rig name: use letters, digits, '-', '_' and '.'")
    return rig_path(name)


def remove_rig(name: str) -> Path:
    """Deletes the saved config only (calibrations are keyed by arm id and outlive it); returns the file."""
    path = saved_rig_path(name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise RigConfigError(unknown_rig_message(name)) from None
    return path


def save_rig(config: RigConfig, path: Path | None = None) -> Path:
    path = path or rig_path(config.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(config), f, indent=2)
    os.replace(tmp, path)
    return path


def load_rig(name_or_path: str | Path) -> RigConfig:
    path = Path(name_or_path)
    by_name = path.suffix != ".json"
    if by_name:
        path = rig_path(str(name_or_path))
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        # a name gets what is saved and how to make it; a path the user gave is taken as given
        message = unknown_rig_message(str(name_or_path)) if by_name else f"no rig config at {path}"
        raise RigConfigError(message) from None
    except json.JSONDecodeError as e:
        raise RigConfigError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None
    try:
        arms = [ArmConfig(**a) for a in data.get("arms", [])]
        cams = [CameraConfig(**c) for c in data.get("cameras", [])]
        config = RigConfig(data["name"], arms, cams)
    except (TypeError, KeyError) as e:
        raise RigConfigError(f"{path}: {e}") from None
    for a in arms:
        if a.role not in ("leader", "follower"):
            raise RigConfigError(f"{path}: arm {a.arm_id!r} has role {a.role!r}; use leader or follower")
    return config
