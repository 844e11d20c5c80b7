"""Arm profiles: which motors an arm has and how to configure them. Built-in Koch v1.1 leader and follower,
plus the SO-101's (Feetech STS3215) and a JSON file format so users can describe other arms:

    {"name": "my-arm", "role": "follower", "baudrate": 1000000, "family": "dynamixel",
     "motors": {"base": {"id": 1, "model": "xl430-w250", "mode": "extended_position"}, ...,
                "gripper": {"id": 6, "model": "xl330-m288", "mode": "current_position", "gripper": true}},
     "registers": {"elbow": {"Position_P_Gain": 1500}},
     "gripper_trigger": {"position": 50.0, "goal_current": 100}}

"family" (dynamixel by default, or feetech) picks the bus, the control tables and the modes (family.py);
"robot_type" is the name datasets carry (lerobot's, e.g. "so101_follower"; the profile's name by default).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from hardware.motors.bus import Motor
from hardware.motors.motor_errors import UnknownModelError

from .family import DYNAMIXEL, ServoFamily, get_family

MODES = DYNAMIXEL.modes  # the Dynamixel modes; a profile's own are profile.servo_family.modes


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
    family: str = "dynamixel"
    robot_type: str | None = None  # what datasets call it (None: the profile's name)

    @property
    def servo_family(self) -> ServoFamily:
        return get_family(self.family)

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


TOP_FIELDS = ("name", "role", "baudrate", "family", "robot_type", "motors", "registers", "gripper_trigger")
MOTOR_FIELDS = ("id", "model", "mode", "gripper")
TRIGGER_FIELDS = ("position", "goal_current")
# Registers the app sets from elsewhere (the motor's id, the baud rate, the mode, the calibration, torque): a
# profile that also set them would silently fight those settings.
MANAGED_REGISTERS = ("ID", "Baud_Rate", "Operating_Mode", "Drive_Mode", "Homing_Offset", "Torque_Enable", "Lock")


class _Fields:
    """Field checks whose errors name the source (a file's path) and the field."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str):
        raise ProfileError(f"{self.source}: {message}")

    def need(self, obj: dict, key: str, kind, where: str, default=None, required: bool = True):
        if key not in obj:
            if required:
                self.fail(f"{where}{key} is missing")
            return default
        v = obj[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(v, kinds) or (isinstance(v, bool) and bool not in kinds):
            self.fail(f"{where}{key} must be {' or '.join(k.__name__ for k in kinds)}, got {v!r}")
        return v

    def known(self, obj: dict, fields: tuple[str, ...], where: str) -> None:
        for key in obj:
            if key not in fields:
                self.fail(f"{where}{key}: unknown field (known: {', '.join(fields)})")


def profile_from_dict(data: dict, source: str = "profile") -> ArmProfile:
    """Every field is checked here, when the file is loaded, not when a value first reaches a motor."""
    f = _Fields(source)
    if not isinstance(data, dict):
        f.fail("expected a JSON object")
    f.known(data, TOP_FIELDS, "")
    name = f.need(data, "name", str, "")
    if not name.strip():
        f.fail("name is empty")
    role = f.need(data, "role", str, "")
    if role not in ("leader", "follower"):
        f.fail(f"role must be 'leader' or 'follower', got {role!r}")
    family_name = f.need(data, "family", str, "", "dynamixel", required=False)
    try:
        family = get_family(family_name)
    except ValueError as e:
        f.fail(f"family: {e}")
    get_model, modes = family.tables.get_model, family.modes
    robot_type = f.need(data, "robot_type", str, "", None, required=False)
    joints = []
    seen_ids: dict[int, str] = {}
    for jname, spec in f.need(data, "motors", dict, "").items():
        where = f"motors.{jname}."
        if not isinstance(spec, dict):
            f.fail(f"motors.{jname} must be an object")
        f.known(spec, MOTOR_FIELDS, where)
        motor_id = f.need(spec, "id", int, where)
        model = f.need(spec, "model", str, where)
        try:
            get_model(model).register("ID").check(motor_id, where)
        except UnknownModelError as e:
            f.fail(f"{where}model: {e}")
        except ValueError as e:
            f.fail(str(e).replace(".ID:", ".id:", 1))
        mode = f.need(spec, "mode", str, where, family.default_mode, required=False)
        if mode not in modes:
            f.fail(f"{where}mode must be one of {', '.join(modes)} ({family.name}), got {mode!r}")
        if motor_id in seen_ids:
            f.fail(f"motors {seen_ids[motor_id]} and {jname} both use id {motor_id}")
        seen_ids[motor_id] = jname
        gripper = f.need(spec, "gripper", bool, where, False, required=False)
        joints.append(JointSpec(jname, motor_id, model.lower(), mode, gripper))
    if not joints:
        f.fail("motors is empty")
    models = {j.name: get_model(j.model) for j in joints}
    baudrate = f.need(data, "baudrate", int, "", 1_000_000, required=False)
    for j in joints:
        try:
            family.tables.baud_value(baudrate, models[j.name])
        except ValueError as e:
            f.fail(f"baudrate: {e} (motors.{j.name})")
    registers = f.need(data, "registers", dict, "", {}, required=False)
    for jname, regs in registers.items():
        if jname not in models:
            f.fail(f"registers.{jname}: no such motor")
        if not isinstance(regs, dict):
            f.fail(f"registers.{jname} must be an object of register: value")
        for reg, value in regs.items():
            _check_register(f, models[jname], f"registers.{jname}.", reg, value)
    trigger = f.need(data, "gripper_trigger", dict, "", None, required=False)
    if trigger is not None:
        _check_trigger(f, trigger, joints, models)
    return ArmProfile(name, role, tuple(joints), baudrate, registers, trigger, family.name, robot_type)


def _check_register(f: _Fields, model, where: str, reg: str, value) -> None:
    try:
        register = model.register(reg)
    except ValueError as e:
        f.fail(f"{where}{reg}: {e}")
    if not register.writable or reg in MANAGED_REGISTERS:
        f.fail(f"{where}{reg}: {'read-only' if not register.writable else 'set by the app, not by a profile'}")
    if not isinstance(value, int) or isinstance(value, bool):
        f.fail(f"{where}{reg} must be int, got {value!r}")
    try:
        register.check(value, where)
    except ValueError as e:
        f.fail(str(e))


def _check_trigger(f: _Fields, trigger: dict, joints: list[JointSpec], models: dict) -> None:
    """A leader's spring-loaded gripper: held at `position` (0-100 %) with `goal_current` (the gripper's units)."""
    f.known(trigger, TRIGGER_FIELDS, "gripper_trigger.")
    grippers = [j for j in joints if j.gripper]
    if not grippers:
        f.fail('gripper_trigger needs a motor marked "gripper": true')
    position = f.need(trigger, "position", (int, float), "gripper_trigger.")
    if not 0.0 <= position <= 100.0:
        f.fail(f"gripper_trigger.position must be within 0..100 (% of the gripper's range), got {position!r}")
    current = f.need(trigger, "goal_current", int, "gripper_trigger.", 100, required=False)
    model = models[grippers[0].name]
    if "Goal_Current" not in model.registers:
        f.fail(f"gripper_trigger: the gripper {grippers[0].name} is an {model.name}, which has no current control")
    try:
        model.register("Goal_Current").check(current, "gripper_trigger.")
    except ValueError as e:
        f.fail(str(e).replace(".Goal_Current:", ".goal_current:", 1))


# the built-in (leader, follower) profiles of each arm (the virtual rigs use these too)
ARM_PROFILES = {"koch": ("koch-v1.1-leader", "koch-v1.1-follower"), "so101": ("so101-leader", "so101-follower")}


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
