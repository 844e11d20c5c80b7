"""Calibrate an arm and save the result: the file is written only after the procedure succeeded and the motors
took the new values, so a failed or aborted calibration never replaces the last good file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hardware.arms.arm import Arm

from .files import save_calibration
from .procedure import CalibrationProcedure, CalibrationResult


def calibrate_and_save(arm: Arm, path: Path, drive: Callable[[CalibrationProcedure], CalibrationResult],
                       drive_modes: dict[str, int] | None = None) -> tuple[Path, CalibrationResult]:
    """`drive` takes the procedure through prepare / record_middle / sample... / finish (a person at the CLI
    or GUI, or the virtual rig's scripted hand) and returns finish()'s result."""
    procedure = CalibrationProcedure(arm, drive_modes)
    result = drive(procedure)
    procedure.apply(result)
    return save_calibration(result.calibration, path), result
