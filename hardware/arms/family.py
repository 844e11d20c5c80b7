"""What the arm layer needs to know of a servo family, in one small record per family, so that one Arm class
drives Dynamixel (the Koch) and Feetech (the SO-101) alike:

- the bus class and control tables (model names, registers, baud rates);
- the operating modes a profile may name, as register values;
- which way Homing_Offset works: Dynamixel reads Present = actual + offset, Feetech Present = actual - offset
  (calibration writes the offset that puts the middle pose at 2047 either way, as lerobot does);
- whether the servo has a Drive_Mode register (the STS3215 has none: its calibrations say drive_mode 0);
- for setup and scans: where a factory-new motor sits (id 1 at 57600 bps on Dynamixel X, 1000000 bps on the
  STS3215), the rates worth scanning (the factory's first), and the register that reads the supply voltage.
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
    scan_baudrates: tuple[int, ...]  # the rates a motor of this family may be found at, the factory's first
    voltage_register: str  # reads the supply, in 0.1 V
    factory_id: int = 1

    @property
    def factory_baudrate(self) -> int:
        return self.scan_baudrates[0]

    @property
    def max_id(self) -> int:
        """The highest id a motor can be given (Dynamixel 252, Feetech 253; 254 is the broadcast id)."""
        return self.bus_class.max_id

    def model_name(self, number: int) -> str:
        return self.tables.model_name(number)

    def homing_offset(self, present: int, target: int) -> int:
        """The offset that makes a joint reading `present` (with offset 0) read `target`."""
        return self.homing_sign * (target - present)


DYNAMIXEL = ServoFamily(
    "dynamixel", DynamixelBus, dxl_tables,
    {"position": dxl_tables.MODE_POSITION, "extended_position": dxl_tables.MODE_EXTENDED_POSITION,
     "current_position": dxl_tables.MODE_CURRENT_POSITION},
    "extended_position", homing_sign=1, drive_mode=True,
    scan_baudrates=(57_600, 1_000_000, 115_200, 2_000_000, 3_000_000, 4_000_000, 9_600),
    voltage_register="Present_Input_Voltage")

FEETECH = ServoFamily(
    "feetech", FeetechBus, feetech_tables, {"position": feetech_tables.MODE_POSITION},
    "position", homing_sign=-1, drive_mode=False,
    scan_baudrates=(1_000_000, 500_000, 250_000, 128_000, 115_200, 57_600, 38_400, 19_200),
    voltage_register="Present_Voltage")

FAMILIES = {f.name: f for f in (DYNAMIXEL, FEETECH)}


def get_family(name: str) -> ServoFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown servo family {name!r}; known: {', '.join(FAMILIES)}") from None
