"""Feetech STS-series control table (the STS3215 of the SO-100/SO-101 arms), beside tables.py's Dynamixel ones.

Addresses and sizes follow Feetech's SMS/STS memory table and agree with lerobot's motors/feetech/tables.py.
The differences from Dynamixel that matter to code:
- words are little-endian on the STS series (the SDK's protocol_end 0);
- Homing_Offset and the velocities are sign-magnitude (sign bit 11 and 15), not two's complement, and the
  reading is Present_Position = actual - Homing_Offset (Dynamixel adds it);
- EEPROM (addresses below 40) is guarded by Lock (55), not by torque: with Lock = 1 a write changes the working
  copy but is not saved, so the next power-up brings the old value back; Lock = 0 saves it;
- the status packet's error byte is a set of condition bits (voltage, angle sensor, overheat, overcurrent,
  overload), not an error number: a servo never refuses an instruction with it.
The same ModelSpec/Register types as tables.py, so the bus and the emulator read this table as they read that one.
"""

from __future__ import annotations

from .motor_errors import UnknownModelError, ValueRangeError
from .tables import ModelSpec, Register

EEPROM_END = 40
RESOLUTION = 4096

# Baud_Rate register value -> bits per second (STS/SMS series).
BAUD_TABLE = {0: 1_000_000, 1: 500_000, 2: 250_000, 3: 128_000, 4: 115_200, 5: 57_600, 6: 38_400, 7: 19_200}

# Operating_Mode values.
MODE_POSITION, MODE_VELOCITY, MODE_PWM, MODE_STEP = 0, 1, 2, 3

# Status packet error bits (the SDK's ERRBIT_*); Status (65) holds the same bits.
ERR_VOLTAGE, ERR_ANGLE, ERR_OVERHEAT, ERR_OVERCURRENT, ERR_OVERLOAD = 0x01, 0x02, 0x04, 0x08, 0x20
ERROR_NAMES = {ERR_VOLTAGE: "input voltage out of range", ERR_ANGLE: "angle sensor fault",
               ERR_OVERHEAT: "overheating", ERR_OVERCURRENT: "overcurrent", ERR_OVERLOAD: "overload"}


def describe_error(bits: int) -> str:
    names = [name for bit, name in ERROR_NAMES.items() if bits & bit]
    return ", ".join(names) if names else "none"


def _r(name, address, size, writable=True, lo=None, hi=None, sign_bit=None) -> Register:
    return Register(name, address, size, sign_bit is not None, writable, lo, hi, sign_bit)


_STS = [
    # EEPROM
    _r("Firmware_Major_Version", 0, 1, writable=False),
    _r("Firmware_Minor_Version", 1, 1, writable=False),
    _r("Model_Number", 3, 2, writable=False),
    _r("ID", 5, 1, lo=0, hi=253),
    _r("Baud_Rate", 6, 1, lo=0, hi=7),
    _r("Return_Delay_Time", 7, 1, lo=0, hi=254),  # 2 us units
    _r("Status_Return_Level", 8, 1, lo=0, hi=1),  # lerobot: Response_Status_Level; 0: only ping and read answer
    _r("Min_Position_Limit", 9, 2, lo=0, hi=4095),
    _r("Max_Position_Limit", 11, 2, lo=0, hi=4095),
    _r("Max_Temperature_Limit", 13, 1, lo=0, hi=100),
    _r("Max_Voltage_Limit", 14, 1, lo=0, hi=254),  # 0.1 V
    _r("Min_Voltage_Limit", 15, 1, lo=0, hi=254),
    _r("Max_Torque_Limit", 16, 2, lo=0, hi=1000),  # 0.1 %
    _r("Phase", 18, 1),
    _r("Unloading_Condition", 19, 1),  # error bits that switch torque off
    _r("LED_Alarm_Condition", 20, 1),
    _r("P_Coefficient", 21, 1),
    _r("D_Coefficient", 22, 1),
    _r("I_Coefficient", 23, 1),
    _r("Minimum_Startup_Force", 24, 2, lo=0, hi=1000),
    _r("CW_Dead_Zone", 26, 1, lo=0, hi=32),
    _r("CCW_Dead_Zone", 27, 1, lo=0, hi=32),
    _r("Protection_Current", 28, 2, lo=0, hi=511),  # 6.5 mA
    _r("Angular_Resolution", 30, 1, lo=1, hi=3),
    _r("Homing_Offset", 31, 2, lo=-2047, hi=2047, sign_bit=11),
    _r("Operating_Mode", 33, 1, lo=0, hi=3),
    _r("Protective_Torque", 34, 1, lo=0, hi=100),
    _r("Protection_Time", 35, 1),
    _r("Overload_Torque", 36, 1, lo=0, hi=100),
    _r("Velocity_P_Coefficient", 37, 1),
    _r("Over_Current_Protection_Time", 38, 1),
    _r("Velocity_I_Coefficient", 39, 1),
    # SRAM
    _r("Torque_Enable", 40, 1, lo=0, hi=1),
    _r("Acceleration", 41, 1, lo=0, hi=254),  # 100 steps/s^2; 0: the firmware's fastest
    _r("Goal_Position", 42, 2, lo=0, hi=4095),
    _r("Goal_Time", 44, 2),
    _r("Goal_Velocity", 46, 2, lo=-32767, hi=32767, sign_bit=15),  # steps/s; position mode: the speed cap, 0 = max
    _r("Torque_Limit", 48, 2, lo=0, hi=1000),
    _r("Lock", 55, 1, lo=0, hi=1),
    _r("Present_Position", 56, 2, writable=False),
    _r("Present_Velocity", 58, 2, writable=False, sign_bit=15),
    _r("Present_Load", 60, 2, writable=False, sign_bit=10),  # 0.1 % of the torque limit
    _r("Present_Voltage", 62, 1, writable=False),  # 0.1 V
    _r("Present_Temperature", 63, 1, writable=False),
    _r("Status", 65, 1, writable=False),  # the error bits
    _r("Moving", 66, 1, writable=False),
    _r("Present_Current", 69, 2, writable=False, sign_bit=15),  # 6.5 mA
]

_STS_DEFAULTS = {
    "Firmware_Major_Version": 3, "Firmware_Minor_Version": 10, "ID": 1, "Baud_Rate": 0, "Return_Delay_Time": 0,
    "Status_Return_Level": 1, "Min_Position_Limit": 0, "Max_Position_Limit": 4095, "Max_Temperature_Limit": 70,
    "Max_Voltage_Limit": 80, "Min_Voltage_Limit": 40, "Max_Torque_Limit": 1000, "Phase": 12,
    "Unloading_Condition": 44, "LED_Alarm_Condition": 47, "P_Coefficient": 32, "D_Coefficient": 32,
    "I_Coefficient": 0, "Minimum_Startup_Force": 16, "CW_Dead_Zone": 1, "CCW_Dead_Zone": 1,
    "Protection_Current": 500, "Angular_Resolution": 1, "Operating_Mode": MODE_POSITION, "Protective_Torque": 20,
    "Protection_Time": 200, "Overload_Torque": 80, "Velocity_P_Coefficient": 10, "Over_Current_Protection_Time": 200,
    "Velocity_I_Coefficient": 200, "Torque_Limit": 1000,
    "Lock": 1,  # powers up locked: EEPROM writes are not saved until a host writes Lock = 0
}

MODELS: dict[str, ModelSpec] = {
    m.name: m
    for m in [
        # the 7.4 V STS3215 of the SO-101 kits: ~0.222 s / 60 deg unloaded = 45 rpm
        ModelSpec("sts3215", 777, {r.name: r for r in _STS}, _STS_DEFAULTS, dict(BAUD_TABLE), fast_sync_read=False,
                  no_load_rpm=45.0, supply_decivolts=74, eeprom_end=EEPROM_END),
    ]
}
MODEL_BY_NUMBER = {m.number: m for m in MODELS.values()}


def get_model(name: str) -> ModelSpec:
    try:
        return MODELS[name.lower()]
    except KeyError:
        raise UnknownModelError(f"unknown Feetech model {name!r}; known: {', '.join(sorted(MODELS))}") from None


def model_name(number: int) -> str:
    spec = MODEL_BY_NUMBER.get(number)
    return spec.name if spec else f"unknown Feetech model {number}"


def baud_value(bps: int, model: ModelSpec | None = None) -> int:
    """bps -> Baud_Rate register value (refused if the model can't do it)."""
    table = model.baudrates if model else BAUD_TABLE
    for value, rate in table.items():
        if rate == bps:
            return value
    raise ValueRangeError(f"baud rate {bps} is not supported by {model.name if model else 'the STS series'}; "
                          f"choose one of {sorted(table.values())}")
