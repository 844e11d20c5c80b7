"""Calibration: the procedure, lerobot-shaped files, and the doctor. Qt-free."""

from .files import (
    CalibrationFileError,
    calibration_path,
    load_calibration,
    parse_calibration,
    save_calibration,
    user_data_dir,
)
from .procedure import CalibrationError, CalibrationProcedure, CalibrationResult, JointRange, Step

__all__ = ["CalibrationFileError", "calibration_path", "load_calibration",
           "parse_calibration", "save_calibration", "user_data_dir", "CalibrationError", "CalibrationProcedure",
           "CalibrationResult", "JointRange", "Step"]
