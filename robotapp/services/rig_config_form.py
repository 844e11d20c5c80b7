"""A rig config from the window's fields: every problem named by field, then the file written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hardware.arms import load_profile
from hardware.discovery import SerialPortInfo
from hardware.rig_config import ArmConfig, CameraConfig, RigConfig, rig_path, save_rig
from robotapp.core.field_error import FieldError, raise_first
from robotapp.services.hardware_scan import CameraRow


@dataclass
class ArmChoice:
    role: str
    profile: str  # built-in name or a file path
    port: SerialPortInfo | None


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def rig_config_problems(name: str, arms: list[ArmChoice], cameras: list[CameraRow]) -> list[FieldError]:
    """What is wrong with the window's fields for a rig config, every problem in field order."""
    problems = []
    name = name.strip()
    if not name:
        problems.append(FieldError("Rig name", "empty: give the rig a name, e.g. koch-desk"))
    elif name == "virtual" or not _NAME.match(name):
        problems.append(FieldError("Rig name", f"{name!r} cannot be used: letters, digits, '-', '_' and '.', not "
                                               f"'virtual'"))
    for arm in arms:
        label = f"{arm.role.capitalize()} profile"
        if not arm.profile.strip():
            problems.append(FieldError(label, "empty: choose a profile file"))
        else:
            try:
                prof = load_profile(arm.profile.strip())
            except ValueError as e:
                problems.append(FieldError(label, str(e)))
            else:
                if prof.role != arm.role:
                    problems.append(FieldError(label, f"{prof.name} is a {prof.role} profile, not a {arm.role} one"))
        if arm.port is None and arm.role == "follower":
            problems.append(FieldError("Follower port", "no port chosen: pick the follower's port in the Ports tab"))
    ports = [arm.port.device for arm in arms if arm.port is not None]
    if len(set(ports)) < len(ports):
        problems.append(FieldError("Leader port", "leader and follower are on the same port"))
    seen = set()
    for cam in cameras:
        role = cam.name.strip()
        if not role:
            continue  # an unnamed camera is not part of the rig
        if not _NAME.match(role):
            problems.append(FieldError("Camera name", f"{role!r}: use letters, digits, '-' or '_'"))
        elif role in seen:
            problems.append(FieldError("Camera name", f"two cameras are called {role!r}"))
        seen.add(role)
    return problems


def build_rig_config(name: str, arms: list[ArmChoice], cameras: list[CameraRow]) -> RigConfig:
    """A rig config from the window's fields; raises the first of rig_config_problems."""
    raise_first(rig_config_problems(name, arms, cameras))
    name = name.strip()
    configs = [ArmConfig(arm.role, arm.profile.strip(), f"{name}-{arm.role}", arm.port.device,
                         arm.port.serial_number) for arm in arms if arm.port is not None]
    cams = [CameraConfig(cam.name.strip(), cam.source, cam.width or 640, cam.height or 480)
            for cam in cameras if cam.name.strip()]  # an unnamed camera is not part of the rig
    return RigConfig(name, configs, cams)


def save_rig_config(config: RigConfig):
    """Writes the config where `robotapp --rig NAME` finds it; returns the file."""
    return save_rig(config)


def rig_config_exists(name: str) -> bool:
    return bool(name) and rig_path(name).exists()
