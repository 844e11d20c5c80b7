"""Arm: a bus, a profile (motor map and settings) and a calibration. A thin map from motor names to calibrated
values (degrees for joints, 0-100 for the gripper); everything about bytes stays in the bus. What differs between
servo families (modes, Drive_Mode, the homing offset's sign) comes from the profile's ServoFamily (family.py)."""

from __future__ import annotations

import numpy as np

from hardware.motors.sdk_bus import SdkBus

from .profile import ArmProfile
from .safety import GoalClamp
from .units import MotorCalibration, range_in_units, to_raw, to_units


class NotCalibratedError(RuntimeError):
    pass


class Arm:
    def __init__(self, profile: ArmProfile, bus: SdkBus, calibration: dict[str, MotorCalibration] | None = None,
                 *, arm_id: str | None = None, max_step: float = 10.0):
        self.profile = profile
        self.family = profile.servo_family
        self.bus = bus
        self.arm_id = arm_id or profile.name
        self.max_step = max_step  # units per control step (degrees or percent)
        self.names = profile.names
        self.is_gripper = np.array([j.gripper for j in profile.joints])
        self.calibration: dict[str, MotorCalibration] | None = None
        self.clamp: GoalClamp | None = None
        self._last_goal: np.ndarray | None = None
        if calibration is not None:
            self.set_calibration(calibration)

    # --------------------------------------------------------------- setup
    def connect(self) -> None:
        self.bus.connect()

    def disconnect(self) -> None:
        self.bus.disconnect()

    def set_calibration(self, calibration: dict[str, MotorCalibration]) -> None:
        missing = [n for n in self.names if n not in calibration]
        if missing:
            raise NotCalibratedError(f"calibration of {self.arm_id} lacks {', '.join(missing)}")
        self.calibration = {n: calibration[n] for n in self.names}
        limits = [range_in_units(self.calibration[n], bool(g)) for n, g in zip(self.names, self.is_gripper,
                                                                               strict=True)]
        self.clamp = GoalClamp(self.max_step, [lo for lo, _ in limits], [hi for _, hi in limits])

    def configure(self) -> None:
        """Modes, return delay 0, gains; the calibration's drive modes and offsets; a leader's gripper trigger."""
        bus = self.bus
        bus.torque(False)
        for j in self.profile.joints:
            bus.write("Return_Delay_Time", j.name, 0)
            bus.write("Operating_Mode", j.name, self.family.modes[j.mode])
            for reg, value in self.profile.registers.get(j.name, {}).items():
                bus.write(reg, j.name, value)
        if self.calibration:
            self.write_calibration(self.calibration)
        trigger = self.profile.gripper_trigger
        if trigger and self.calibration:
            grip = next(j.name for j in self.profile.joints if j.gripper)
            bus.write("Goal_Current", grip, int(trigger.get("goal_current", 100)))
            raw = to_raw(np.array([trigger["position"]]), [self.calibration[grip]], np.array([True]))[0]
            bus.write("Goal_Position", grip, int(raw))
            bus.write("Torque_Enable", grip, 1)

    def write_calibration(self, calibration: dict[str, MotorCalibration]) -> None:
        """Torque off, then offsets, drive modes and (in position mode) limits into each motor. (A Feetech bus's
        torque off also writes Lock 0, so these EEPROM values are saved.)"""
        self.bus.torque(False)
        for j in self.profile.joints:
            c = calibration[j.name]
            if self.family.drive_mode:
                self.bus.write("Drive_Mode", j.name, c.drive_mode)
            self.bus.write("Homing_Offset", j.name, c.homing_offset)
            if j.mode == "position":
                self.bus.write("Min_Position_Limit", j.name, c.range_min)
                self.bus.write("Max_Position_Limit", j.name, c.range_max)

    # --------------------------------------------------------------- the hot path
    def read_raw(self) -> np.ndarray:
        return self.bus.sync_read("Present_Position", self.names)

    def read_positions(self) -> np.ndarray:
        return to_units(self.read_raw(), self._cals(), self.is_gripper)

    def write_goals(self, goals: np.ndarray, *, clamp: bool = True) -> np.ndarray:
        """Send goals in calibrated units; returns what was actually sent after the safety clamp."""
        goals = np.asarray(goals, dtype=np.float64)
        if clamp and self.clamp is not None:
            previous = self._last_goal if self._last_goal is not None else self.read_positions()
            goals, _ = self.clamp.apply(goals, previous)
        self.bus.sync_write("Goal_Position", to_raw(goals, self._cals(), self.is_gripper), self.names)
        self._last_goal = goals
        return goals

    def torque(self, enabled: bool) -> None:
        if enabled:
            # hold where the arm is: goal = present before torque comes on, so nothing jumps
            raw = self.read_raw()
            self.bus.sync_write("Goal_Position", raw, self.names)
            self._last_goal = to_units(raw, self._cals(), self.is_gripper) if self.calibration else None
        else:
            self._last_goal = None
        self.bus.torque(enabled, self.names)

    def _cals(self) -> list[MotorCalibration]:
        if self.calibration is None:
            raise NotCalibratedError(  # a command that works as printed: this arm's own port, profile and id
                f"arm {self.arm_id} is not calibrated: run `robotapp calibrate --arm {self.profile.role} --port "
                f"{getattr(self.bus, 'port', 'PORT')} --profile {self.profile.name} --arm-id {self.arm_id}` first "
                f"(or with --rig NAME for a saved rig; the Rig page's Calibration tab does the same)")
        return [self.calibration[n] for n in self.names]
