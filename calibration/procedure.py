"""Calibration as a step-by-step state machine, driven the same way by the CLI, the GUI and tests:

    prepare()        torque off, modes and drive modes set, homing offsets zeroed
    record_middle()  the arm is in the middle of every joint's range: offsets put that pose at 2047 (the offset's
                     sign is the family's: Dynamixel adds it to the reading, Feetech subtracts it, as lerobot has)
    sample()         call repeatedly while each joint is swept end to end: live min/max per joint
    finish()         checks every joint moved, handles encoder wrap, returns the calibration
    apply()          writes it to the motors

Encoder wrap: a reading that jumps by more than half a turn between two samples has crossed the encoder's
0/4095 point (servos that fold their reading into one turn); it is unwrapped. A range that ends up beyond
0..4095 (a joint swept more than half a turn past its middle pose) would be unusable in position mode and is
the silent corruption other tools leave behind: the homing offset is re-centred so the range sits inside
0..4095, or, if the joint turned a full turn or more, the calibration is refused with an explanation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from hardware.arms.arm import Arm
from hardware.arms.units import MAX_RES, MotorCalibration
from hardware.motors.tables import RESOLUTION

HALF_TURN = MAX_RES // 2  # 2047


class CalibrationError(RuntimeError):
    pass


class Step(Enum):
    IDLE = "idle"
    PREPARED = "prepared: put the arm in the middle of every joint's range"
    SWEEPING = "sweeping: move every joint through its whole range"
    DONE = "done"


@dataclass
class JointRange:
    name: str
    low: int
    high: int
    current: int
    wraps: int = 0

    @property
    def span_degrees(self) -> float:
        return (self.high - self.low) * 360.0 / MAX_RES


@dataclass
class CalibrationResult:
    calibration: dict[str, MotorCalibration]
    notes: list[str] = field(default_factory=list)  # what was corrected, in plain words


class CalibrationProcedure:
    def __init__(self, arm: Arm, drive_modes: dict[str, int] | None = None, min_sweep_degrees: float = 20.0):
        self.arm = arm
        self.names = arm.names
        # a family without Drive_Mode (Feetech) calibrates with drive_mode 0, as lerobot's SO-101 files have it
        keep = arm.family.drive_mode
        self.drive_modes = {n: (drive_modes or {}).get(n, 0) if keep else 0 for n in self.names}
        self.min_sweep = min_sweep_degrees * MAX_RES / 360.0
        self.step = Step.IDLE
        self._offsets = np.zeros(len(self.names), dtype=np.int64)
        self._last = np.zeros(len(self.names), dtype=np.int64)
        self._shift = np.zeros(len(self.names), dtype=np.int64)
        self.ranges: list[JointRange] = []

    def prepare(self) -> None:
        bus, family = self.arm.bus, self.arm.family
        bus.torque(False, self.names)  # on Feetech also Lock 0: the offsets below are saved in EEPROM
        for j in self.arm.profile.joints:
            bus.write("Operating_Mode", j.name, family.modes[j.mode])
            if family.drive_mode:
                bus.write("Drive_Mode", j.name, self.drive_modes[j.name])
            bus.write("Homing_Offset", j.name, 0)
        self.step = Step.PREPARED

    def record_middle(self) -> None:
        self._expect(Step.PREPARED, "record_middle")
        raw = self.arm.read_raw()
        self._offsets = np.array([self.arm.family.homing_offset(int(r), HALF_TURN) for r in raw], dtype=np.int64)
        for name, offset in zip(self.names, self._offsets, strict=True):
            self.arm.bus.write("Homing_Offset", name, int(offset))
        present = self.arm.read_raw()
        self._last = present.copy()
        self._shift[:] = 0
        self.ranges = [JointRange(n, int(p), int(p), int(p)) for n, p in zip(self.names, present, strict=True)]
        self.step = Step.SWEEPING

    def sample(self) -> list[JointRange]:
        """Read once and update the live ranges (call at 10-50 Hz while the user sweeps)."""
        self._expect(Step.SWEEPING, "sample")
        present = self.arm.read_raw()
        jump = present - self._last
        wrapped = np.abs(jump) > RESOLUTION // 2
        self._shift[wrapped] -= np.sign(jump[wrapped]) * RESOLUTION
        self._last = present
        value = present + self._shift
        for k, r in enumerate(self.ranges):
            r.current = int(value[k])
            r.low, r.high = min(r.low, r.current), max(r.high, r.current)
            r.wraps += int(wrapped[k])
        return self.ranges

    def finish(self) -> CalibrationResult:
        self._expect(Step.SWEEPING, "finish")
        problems, notes, cal = [], [], {}
        for k, (j, r) in enumerate(zip(self.arm.profile.joints, self.ranges, strict=True)):
            span = r.high - r.low
            if span < self.min_sweep:
                problems.append(f"{j.name} moved only {r.span_degrees:.0f}°")
                continue
            if span >= RESOLUTION:
                problems.append(f"{j.name} turned {r.span_degrees:.0f}°, a full turn or more: sweep it over less "
                                f"than one turn")
                continue
            offset, low, high = int(self._offsets[k]), r.low, r.high
            if low < 0 or high > MAX_RES or r.wraps:
                shift = int(round(HALF_TURN - (low + high) / 2))
                offset, low, high = offset + self.arm.family.homing_sign * shift, low + shift, high + shift
                seen = f" (the reading jumped across it {r.wraps}x)" if r.wraps else ""
                notes.append(f"{j.name}: its sweep crossed the encoder's 0/4095 point{seen}; homing offset "
                             f"re-centred by {shift} ticks so its range {low}..{high} stays inside 0..4095")
            reg = self.arm.family.tables.get_model(j.model).register("Homing_Offset")
            if not reg.min_value <= offset <= reg.max_value:  # the STS3215's is only +-2047
                problems.append(f"{j.name} needs a homing offset of {offset}, beyond its servo's "
                                f"{reg.min_value}..{reg.max_value}: turn its horn nearer its middle and calibrate again")
                continue
            cal[j.name] = MotorCalibration(j.id, self.drive_modes[j.name], offset, low, high)
        if problems:
            raise CalibrationError("calibration not finished: " + "; ".join(problems)
                                   + " (keep sweeping, then finish again)")
        self.step = Step.DONE
        return CalibrationResult(cal, notes)

    def apply(self, result: CalibrationResult) -> None:
        self._expect(Step.DONE, "apply")
        self.arm.write_calibration(result.calibration)
        self.arm.set_calibration(result.calibration)

    def _expect(self, step: Step, action: str) -> None:
        if self.step is not step:
            raise CalibrationError(f"cannot {action} now: calibration is {self.step.value}")
