"""A rig config from the window's fields (or `robotapp rig new`'s options): every problem named by field, then the
file written. The rules are written once here; each interface passes its own words (RigFormWords)."""

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


@dataclass(frozen=True)
class RigFormWords:
    """How one interface names the rig config's fields and asks for things."""
    name: str
    leader_profile: str
    follower_profile: str
    leader_port: str
    follower_port: str
    camera: str
    choose_profile: str  # the hint for an empty profile
    choose_follower_port: str  # the hint for a missing follower port

    def profile(self, role: str) -> str:
        return self.leader_profile if role == "leader" else self.follower_profile


WINDOW_WORDS = RigFormWords("Rig name", "Leader profile", "Follower profile", "Leader port", "Follower port",
                            "Camera name", "choose a profile file", "pick the follower's port in the Ports tab")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def rig_config_problems(name: str, arms: list[ArmChoice], cameras: list[CameraRow],
                        words: RigFormWords = WINDOW_WORDS) -> list[FieldError]:
    """What is wrong with the fields for a rig config, every problem in field order."""
    problems = []
    name = name.strip()
    if not name:
        problems.append(FieldError(words.name, "empty: give the rig a name, e.g. koch-desk"))
    elif name == "virtual" or not _NAME.match(name):
        problems.append(FieldError(words.name, f"{name!r} cannot be used: letters, digits, '-', '_' and '.', not "
                                               f"'virtual'"))
    for arm in arms:
        label = words.profile(arm.role)
        if not arm.profile.strip():
            problems.append(FieldError(label, f"empty: {words.choose_profile}"))
        else:
            try:
                prof = load_profile(arm.profile.strip())
            except ValueError as e:
                problems.append(FieldError(label, str(e)))
            else:
                if prof.role != arm.role:
                    problems.append(FieldError(label, f"{prof.name} is a {prof.role} profile, not a {arm.role} one"))
        if arm.port is None and arm.role == "follower":
            problems.append(FieldError(words.follower_port, f"no port chosen: {words.choose_follower_port}"))
    ports = [arm.port.device for arm in arms if arm.port is not None]
    if len(set(ports)) < len(ports):
        problems.append(FieldError(words.leader_port, "leader and follower are on the same port"))
    seen = set()
    for cam in cameras:
        role = cam.name.strip()
        if not role:
            continue  # an unnamed camera is not part of the rig
        if not _NAME.match(role):
            problems.append(FieldError(words.camera, f"{role!r}: use letters, digits, '-' or '_'"))
        elif role in seen:
            problems.append(FieldError(words.camera, f"two cameras are called {role!r}"))
        seen.add(role)
    return problems


def build_rig_config(name: str, arms: list[ArmChoice], cameras: list[CameraRow],
                     words: RigFormWords = WINDOW_WORDS) -> RigConfig:
    """A rig config from the fields; raises the first of rig_config_problems. Arm ids are NAME-leader and
    NAME-follower, so the calibrations follow the rig's name."""
    raise_first(rig_config_problems(name, arms, cameras, words))
    name = name.strip()
    configs = [ArmConfig(arm.role, arm.profile.strip(), f"{name}-{arm.role}", arm.port.device,
                         arm.port.serial_number) for arm in arms if arm.port is not None]
    cams = [CameraConfig(cam.name.strip(), cam.source, cam.width or 640, cam.height or 480, cam.fps or 30)
            for cam in cameras if cam.name.strip()]  # an unnamed camera is not part of the rig
    return RigConfig(name, configs, cams)


def save_rig_config(config: RigConfig):
    """Writes the config where `robotapp --rig NAME` finds it; returns the file."""
    return save_rig(config)


def rig_config_exists(name: str) -> bool:
    return bool(name) and rig_path(name).exists()
