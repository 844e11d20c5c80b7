"""Arm profiles: which motors an arm has and how to configure them. Built-in Koch v1.1 leader and follower,
plus a JSON file format so users can describe other Dynamixel arms:

    {"name": "my-arm", "role": "follower", "baudrate": 1000000,
     "motors": {"base": {"id": 1, "model": "xl430-w250", "mode": "extended_position"}, ...,
                "gripper": {"id": 6, "model": "xl330-m288", "mode": "current_position", "gripper": true}},
     "registers": {"elbow": {"Position_P_Gain": 1500}},
     "gripper_trigger": {"position": 50.0, "goal_current": 100}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from hardware.motors.bus import Motor
from hardware.motors.tables import (
    MODE_CURRENT_POSITION,
    MODE_EXTENDED_POSITION,
    MODE_POSITION,
    get_model,
)

MODES = {"position": MODE_POSITION, "extended_position": MODE_EXTENDED_POSITION,
         "current_position": MODE_CURRENT_POSITION}


class ProfileError(ValueError):
    pass


@dataclass(frozen=True)
class JointSpec:
    name: str
    id: int
    model: str
    mode: str = "extended_position"
    gripper: bool = False


@dataclass(frozen=True)
class ArmProfile:
    name: str
    role: str  # "leader" or "follower"
    joints: tuple[JointSpec, ...]
    baudrate: int = 1_000_000
    registers: dict[str, dict[str, int]] = field(default_factory=dict)  # per-motor register settings
    gripper_trigger: dict[str, float] | None = None  # leader only: spring-loaded trigger

    @property
    def motors(self) -> dict[str, Motor]:
        return {j.name: Motor(j.id, j.model) for j in self.joints}

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    def joint(self, name: str) -> JointSpec:
        for j in self.joints:
            if j.name == name:
                return j
        raise ProfileError(f"profile {self.name}: no joint named {name!r}")


def profile_from_dict(data: dict, source: str = "profile") -> ArmProfile:
    def need(obj, key, kind, where):
        if key not in obj:
            raise ProfileError(f"{source}: {where}{key} is missing")
        if not isinstance(obj[key], kind) or isinstance(obj[key], bool) and kind is not bool:
            raise ProfileError(f"{source}: {where}{key} must be {kind.__name__}, got {obj[key]!r}")
        return obj[key]

    if not isinstance(data, dict):
        raise ProfileError(f"{source}: expected a JSON object")
    name = need(data, "name", str, "")
    role = need(data, "role", str, "")
    if role not in ("leader", "follower"):
        raise ProfileError(f"{source}: role must be 'leader' or 'follower', got {role!r}")
    joints = []
    seen_ids: dict[int, str] = {}
    for jname, spec in need(data, "motors", dict, "").items():
        where = f"motors.{jname}."
        if not isinstance(spec, dict):
            raise ProfileError(f"{source}: motors.{jname} must be an object")
        motor_id = need(spec, "id", int, where)
        model = need(spec, "model", str, where)
        try:
            get_model(model)
        except ValueError as e:
            raise ProfileError(f"{source}: {where}model: {e}") from None
        mode = spec.get("mode", "extended_position")
        if mode not in MODES:
            raise ProfileError(f"{source}: {where}mode must be one of {', '.join(MODES)}, got {mode!r}")
        if motor_id in seen_ids:
            raise ProfileError(f"{source}: motors {seen_ids[motor_id]} and {jname} both use id {motor_id}")
        seen_ids[motor_id] = jname
        joints.append(JointSpec(jname, motor_id, model.lower(), mode, bool(spec.get("gripper", False))))
    if not joints:
        raise ProfileError(f"{source}: motors is empty")
    registers = data.get("registers", {})
    for jname, regs in registers.items():
        if jname not in seen_ids.values():
            raise ProfileError(f"{source}: registers.{jname}: no such motor")
        model = get_model(next(j.model for j in joints if j.name == jname))
        for reg, value in regs.items():
            try:
                model.register(reg).check(value, f"registers.{jname}.")
            except ValueError as e:
                raise ProfileError(f"{source}: {e}") from None
    return ArmProfile(name, role, tuple(joints), int(data.get("baudrate", 1_000_000)), registers,
                      data.get("gripper_trigger"))


def load_profile(name_or_path: str | Path) -> ArmProfile:
    """A built-in profile by name (e.g. 'koch-v1.1-follower') or a JSON file path."""
    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        try:
            text = path.read_text()
        except OSError as e:
            raise ProfileError(f"cannot read arm profile {path}: {e.strerror}") from None
        source = str(path)
    else:
        builtin = resources.files("hardware.arms.profiles") / f"{name_or_path}.json"
        if not builtin.is_file():
            raise ProfileError(f"unknown arm profile {str(name_or_path)!r}; built-in: {', '.join(builtin_profiles())}")
        text, source = builtin.read_text(), f"built-in profile {name_or_path}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProfileError(f"{source}: not valid JSON (line {e.lineno}: {e.msg})") from None
    return profile_from_dict(data, source)


def builtin_profiles() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("hardware.arms.profiles").iterdir() if p.name.endswith(".json"))
