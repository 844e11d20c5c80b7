"""The doctor: what is wrong with this arm, in plain words. Three checks:

- range report: each joint's calibrated range, where it is now, and what looks off;
- mirror test: the follower copies the leader through a set of poses; per-joint tracking error in degrees;
- health table: model, firmware, voltage, temperature and hardware errors per motor, one motor at a time so a
  missing motor shows up by name instead of failing the whole table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from hardware.arms.arm import Arm
from hardware.arms.units import MAX_RES
from hardware.motors import feetech_tables
from hardware.motors import tables as dxl_tables
from hardware.motors.motor_errors import MotorsError
from hardware.motors.sdk_bus import SdkBus


@dataclass
class RangeRow:
    joint: str
    range_min: int
    range_max: int
    span_degrees: float
    position: float  # calibrated units now
    problem: str = ""


@dataclass
class MirrorRow:
    joint: str
    mean_error: float
    max_error: float
    problem: str = ""


@dataclass
class HealthRow:
    motor: str
    id: int
    model: str = "-"
    firmware: str = "-"
    voltage: str = "-"
    temperature: str = "-"
    hardware_error: str = "-"
    problem: str = ""


def range_report(arm: Arm, min_span_degrees: float = 30.0) -> list[RangeRow]:
    if arm.calibration is None:
        arm._cals()  # raises NotCalibratedError with the fix in its message
    now = arm.read_positions()
    rows = []
    for k, name in enumerate(arm.names):
        c = arm.calibration[name]
        span = (c.range_max - c.range_min) * 360.0 / MAX_RES
        row = RangeRow(name, c.range_min, c.range_max, span, float(now[k]))
        lo, hi = arm.clamp.lower[k], arm.clamp.upper[k]
        if span < min_span_degrees:
            row.problem = f"range is only {span:.0f}°: was the joint swept end to end?"
        elif not lo - 5 <= now[k] <= hi + 5:
            row.problem = f"now at {now[k]:.0f}, outside its calibrated range {lo:.0f}..{hi:.0f}: recalibrate"
        elif c.range_min < 0 or c.range_max > MAX_RES:
            row.problem = "range crosses the encoder's 0/4095 point: recalibrate"
        rows.append(row)
    return rows


def mirror_test(leader: Arm, follower: Arm, poses: Iterable[Callable[[], None]], settle: Callable[[], None],
                tolerance: float = 5.0) -> list[MirrorRow]:
    """For each pose (a callable that puts the leader somewhere), command the follower to the leader's reading,
    let it settle, and measure |follower - leader| per joint in calibrated units."""
    errors = []
    follower.torque(True)
    try:
        for put_leader in poses:
            put_leader()
            target = leader.read_positions()
            follower.write_goals(target, clamp=False)
            settle()
            errors.append(np.abs(_stopped_positions(follower) - target))
    finally:
        follower.torque(False)
    err = np.array(errors)
    rows = []
    for k, name in enumerate(follower.names):
        row = MirrorRow(name, float(err[:, k].mean()), float(err[:, k].max()))
        if row.max_error > tolerance:
            row.problem = f"follower misses the leader by up to {row.max_error:.1f}: check calibration and wiring"
        rows.append(row)
    return rows


def _stopped_positions(arm: Arm, limit_s: float = 2.0, poll_s: float = 0.05, still: float = 0.2) -> np.ndarray:
    """The arm's reading once it has stopped (two reads poll_s apart within `still` units), or after limit_s: a
    slow servo may still be on its way after the caller's settle (the SO-101's STS3215 turns at 45 rpm, the Koch's
    XL330 at 103), and an error measured in motion is lag, not a calibration or wiring fault."""
    last, deadline = arm.read_positions(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(poll_s)
        now = arm.read_positions()
        if np.max(np.abs(now - last)) < still:
            return now
        last = now
    return last


@dataclass(frozen=True)
class _HealthRegisters:
    """Where each family keeps what the health table shows (the STS series names and sizes them its own way)."""
    firmware: tuple[str, ...]
    voltage: str
    temperature_limit: str
    error: str
    model_name: Callable[[int], str]
    describe: Callable[[int], str]
    error_note: str


_HEALTH = {
    "Dynamixel": _HealthRegisters(("Firmware_Version",), "Present_Input_Voltage", "Temperature_Limit",
                                  "Hardware_Error_Status", dxl_tables.model_name, dxl_tables.describe_hardware_error,
                                  "torque is off until the motor is rebooted"),
    "Feetech": _HealthRegisters(("Firmware_Major_Version", "Firmware_Minor_Version"), "Present_Voltage",
                                "Max_Temperature_Limit", "Status", feetech_tables.model_name,
                                feetech_tables.describe_error, "those in Unloading_Condition turn torque off"),
}


def health_table(bus: SdkBus) -> list[HealthRow]:
    regs = _HEALTH[bus.family]
    rows = []
    for name, motor in bus.motors.items():
        row = HealthRow(name, motor.id)
        number = bus.ping(motor.id, retries=1)
        if number is None:
            row.problem = f"not answering at id {motor.id}: unplugged, wrong id, or wrong baud rate"
            rows.append(row)
            continue
        row.model = regs.model_name(number)
        if row.model != motor.model:
            row.problem = f"expected a {motor.model}, found a {row.model}"
        try:
            row.firmware = "v" + ".".join(str(bus.read(r, name)) for r in regs.firmware)
            volts = bus.read(regs.voltage, name) / 10.0
            vmin, vmax = bus.read("Min_Voltage_Limit", name) / 10.0, bus.read("Max_Voltage_Limit", name) / 10.0
            temp, limit = bus.read("Present_Temperature", name), bus.read(regs.temperature_limit, name)
            bits = bus.read(regs.error, name)
        except MotorsError as e:
            row.problem = str(e)
            rows.append(row)
            continue
        row.voltage, row.temperature = f"{volts:.1f} V", f"{temp} °C"
        row.hardware_error = regs.describe(bits)
        notes = [row.problem] if row.problem else []
        if bits:
            notes.append(f"hardware error: {row.hardware_error} ({regs.error_note})")
        if temp >= limit - 10:
            notes.append(f"hot: {temp} °C, shuts down at {limit} °C")
        if not vmin <= volts <= vmax:
            notes.append(f"supply {volts:.1f} V is outside {vmin:.1f}..{vmax:.1f} V")
        row.problem = "; ".join(notes)
        rows.append(row)
    return rows


def format_rows(rows: list, title: str) -> str:
    """Plain-text table for the terminal."""
    if not rows:
        return f"{title}: nothing to show"
    cols = list(vars(rows[0]))
    cells = [[_fmt(getattr(r, c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.replace("_", " ").ljust(w) for c, w in zip(cols, widths, strict=True))
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([title, line, *body])


def _fmt(v) -> str:
    return f"{v:.1f}" if isinstance(v, float) else str(v)
