"""Calibration files in lerobot's JSON shape: {motor: {id, drive_mode, homing_offset, range_min, range_max}},
kept under the user data directory, one file per arm id. Saving is atomic and keeps the previous file as .bak,
so a failed or interrupted calibration never leaves the user without the last good one."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from hardware.arms.family import FAMILIES
from hardware.arms.profile import ArmProfile
from hardware.arms.units import MAX_RES, MotorCalibration
from hardware.paths import user_data_dir

FIELDS = ("id", "drive_mode", "homing_offset", "range_min", "range_max")


def _widest(register: str) -> tuple[int, int]:
    """The widest range a register has on any model of any servo family: what a file read without its arm's
    profile may hold (Dynamixel ids go to 252, Feetech's to 253; the STS3215's offset is only +-2047). Read with
    a profile, each value is held to the arm's own models (parse_calibration)."""
    regs = [m.registers[register] for f in FAMILIES.values() for m in f.tables.MODELS.values()]
    return min(r.min_value for r in regs), max(r.max_value for r in regs)


# What each number may be: the registers it is written to, and for the range the encoder's 12 bits, which the
# procedure keeps it within (calibration/procedure.py re-centres a wrapped sweep).
_LIMITS = {
    "id": (*_widest("ID"), "the ID register's range"),
    "homing_offset": (*_widest("Homing_Offset"), "the Homing_Offset register's range; recalibrate the arm"),
    "range_min": (0, MAX_RES, "one encoder turn; recalibrate the arm"),
    "range_max": (0, MAX_RES, "one encoder turn; recalibrate the arm"),
}


class CalibrationFileError(ValueError):
    pass


def calibration_path(arm_id: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", arm_id):
        raise CalibrationFileError(f"arm id {arm_id!r}: use letters, digits, '-', '_' or '.' (max 64)")
    return user_data_dir() / "calibration" / f"{arm_id}.json"


def parse_calibration(data: object, source: str, profile: ArmProfile | None = None) -> dict[str, MotorCalibration]:
    if not isinstance(data, dict) or not data:
        raise CalibrationFileError(f"{source}: expected a JSON object with one entry per motor")
    expected = {j.name: j for j in profile.joints} if profile else None
    out: dict[str, MotorCalibration] = {}
    for motor, entry in data.items():
        if expected is not None and motor not in expected:
            raise CalibrationFileError(f"{source}: unknown motor {motor!r} (the arm has {', '.join(expected)})")
        if not isinstance(entry, dict):
            raise CalibrationFileError(f"{source}: {motor} must be an object with {', '.join(FIELDS)}")
        values = {}
        for field in FIELDS:
            if field not in entry:
                raise CalibrationFileError(f"{source}: {motor}.{field} is missing")
            v = entry[field]
            if not isinstance(v, int) or isinstance(v, bool):
                raise CalibrationFileError(f"{source}: {motor}.{field} must be an integer, got {v!r}")
            values[field] = v
        if values["drive_mode"] not in (0, 1):
            raise CalibrationFileError(f"{source}: {motor}.drive_mode must be 0 or 1, got {values['drive_mode']}")
        for field, (lo, hi, what) in _LIMITS.items():
            if not lo <= values[field] <= hi:
                raise CalibrationFileError(f"{source}: {motor}.{field} is {values[field]}, outside {lo}..{hi} "
                                           f"({what})")
        if values["range_min"] >= values["range_max"]:
            raise CalibrationFileError(f"{source}: {motor}: range_min ({values['range_min']}) must be below "
                                       f"range_max ({values['range_max']})")
        if expected is not None:  # the arm's own servo may hold less (the STS3215's offset is only +-2047)
            reg = profile.servo_family.tables.get_model(expected[motor].model).register("Homing_Offset")
            if not reg.min_value <= values["homing_offset"] <= reg.max_value:
                raise CalibrationFileError(f"{source}: {motor}.homing_offset is {values['homing_offset']}, outside "
                                           f"{reg.min_value}..{reg.max_value} (its {expected[motor].model}'s "
                                           f"Homing_Offset); recalibrate the arm")
        if expected is not None and values["drive_mode"] and not profile.servo_family.drive_mode:
            raise CalibrationFileError(f"{source}: {motor}.drive_mode is 1 but its {expected[motor].model} has no "
                                       f"Drive_Mode register (a {profile.family} arm calibrates with drive_mode 0); "
                                       f"recalibrate the arm")
        if expected is not None and values["id"] != expected[motor].id:
            raise CalibrationFileError(f"{source}: {motor}.id is {values['id']} but the arm profile says "
                                       f"{expected[motor].id}")
        out[motor] = MotorCalibration(**values)
    if expected is not None:
        missing = [m for m in expected if m not in out]
        if missing:
            raise CalibrationFileError(f"{source}: motor {missing[0]!r} is missing"
                                       + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return out


def load_calibration(path: Path, profile: ArmProfile | None = None) -> dict[str, MotorCalibration]:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise CalibrationFileError(f"no calibration file at {path}: calibrate the arm first (`robotapp "
                                   f"calibrate --rig NAME --arm leader|follower`, or the Rig page)") from None
    except OSError as e:
        raise CalibrationFileError(f"cannot read {path}: {e.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CalibrationFileError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None
    return parse_calibration(data, str(path), profile)


def save_calibration(calibration: dict[str, MotorCalibration], path: Path) -> Path:
    """Write atomically (temp file, fsync, rename); the previous file, if any, is kept as <name>.bak."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {m: {f: getattr(c, f) for f in FIELDS} for m, c in calibration.items()}
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=4)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.replace(path, path.with_suffix(path.suffix + ".bak"))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
