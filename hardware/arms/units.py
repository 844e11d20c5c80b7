"""Calibrated units, as lerobot defines them: joints in degrees around the middle of their calibrated range,
grippers in 0-100 % of their range. One implementation of the formula, used by the Arm in both directions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hardware.motors.tables import RESOLUTION

MAX_RES = RESOLUTION - 1  # 4095, lerobot's "max_res" for 12-bit encoders


@dataclass(frozen=True)
class MotorCalibration:
    id: int
    drive_mode: int
    homing_offset: int
    range_min: int
    range_max: int

    @property
    def middle(self) -> float:
        return (self.range_min + self.range_max) / 2.0


def to_units(raw: np.ndarray, cals: list[MotorCalibration], gripper: np.ndarray) -> np.ndarray:
    """Raw Present_Position values (homing offset already applied by the servo) -> degrees / percent."""
    lo = np.array([c.range_min for c in cals], dtype=np.float64)
    hi = np.array([c.range_max for c in cals], dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64)
    degrees = (raw - (lo + hi) / 2.0) * 360.0 / MAX_RES
    percent = (raw - lo) / (hi - lo) * 100.0
    return np.where(gripper, percent, degrees)


def to_raw(values: np.ndarray, cals: list[MotorCalibration], gripper: np.ndarray) -> np.ndarray:
    lo = np.array([c.range_min for c in cals], dtype=np.float64)
    hi = np.array([c.range_max for c in cals], dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    from_degrees = values * MAX_RES / 360.0 + (lo + hi) / 2.0
    from_percent = values / 100.0 * (hi - lo) + lo
    return np.rint(np.where(gripper, from_percent, from_degrees)).astype(np.int64)


def range_in_units(cal: MotorCalibration, is_gripper: bool) -> tuple[float, float]:
    if is_gripper:
        return 0.0, 100.0
    half = (cal.range_max - cal.range_min) / 2.0 * 360.0 / MAX_RES
    return -half, half
