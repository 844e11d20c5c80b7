"""What the arm layer needs to know of a servo family, in one small record per family, so that one Arm class
drives Dynamixel (the Koch) and Feetech (the SO-101) alike:

- the bus class and control tables (model names, registers, baud rates);
- the operating modes a profile may name, as register values;
- which way Homing_Offset works: Dynamixel reads Present = actual + offset, Feetech Present = actual - offset
  (calibration writes the offset that puts the middle pose at 2047 either way, as lerobot does);
- whether the servo has a Drive_Mode register (the STS3215 has none: its calibrations say drive_mode 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from hardware.motors import feetech_tables
from hardware.motors import tables as dxl_tables
from hardware.motors.dynamixel import DynamixelBus
from hardware.motors.feetech import FeetechBus
from hardware.motors.sdk_bus import SdkBus


@dataclass(frozen=True)
class ServoFamily:
    name: str
    bus_class: type[SdkBus]
    tables: ModuleType
    modes: dict[str, int]  # profile mode name -> Operating_Mode value
    default_mode: str
    homing_sign: int  # Present_Position = actual + homing_sign * Homing_Offset
    drive_mode: bool  # has a Drive_Mode register

    def homing_offset(self, present: int, target: int) -> int:
        """The offset that makes a joint reading `present` (with offset 0) read `target`."""
        return self.homing_sign * (target - present)


DYNAMIXEL = ServoFamily(
    "dynamixel", DynamixelBus, dxl_tables,
    {"position": dxl_tables.MODE_POSITION, "extended_position": dxl_tables.MODE_EXTENDED_POSITION,
     "current_position": dxl_tables.MODE_CURRENT_POSITION},
    "extended_position", homing_sign=1, drive_mode=True)

FEETECH = ServoFamily(
    "feetech", FeetechBus, feetech_tables, {"position": feetech_tables.MODE_POSITION},
    "position", homing_sign=-1, drive_mode=False)

FAMILIES = {f.name: f for f in (DYNAMIXEL, FEETECH)}


def get_family(name: str) -> ServoFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown servo family {name!r}; known: {', '.join(FAMILIES)}") from None
