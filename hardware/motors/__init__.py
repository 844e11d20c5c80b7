from .bus import BusStats, Motor, MotorsBus
from .dynamixel import DynamixelBus
from .feetech import FeetechBus
from .motor_errors import (
    CommError,
    ConfigError,
    HardwareAlertError,
    MotorsError,
    MotorStatusError,
    NotConnectedError,
    PortError,
    UnknownModelError,
    UnknownMotorError,
    UnknownRegisterError,
    ValueRangeError,
)
from .tables import MODELS, get_model

__all__ = [
    "BusStats", "Motor", "MotorsBus", "DynamixelBus", "FeetechBus", "CommError", "ConfigError", "HardwareAlertError",
    "MotorsError", "MotorStatusError", "NotConnectedError", "PortError", "UnknownModelError", "UnknownMotorError",
    "UnknownRegisterError", "ValueRangeError", "MODELS", "get_model",
]
