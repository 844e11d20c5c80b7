"""Dynamixel X-series control tables, per model.

One source of truth for register addresses, sizes, signedness, access and factory defaults. The bus uses it to
encode/decode values and to refuse bad input before anything reaches the wire; the servo emulator uses the same
table to lay out each servo's memory, so the two can never disagree. Adding a model = one entry in MODELS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .motor_errors import UnknownModelError, UnknownRegisterError, ValueRangeError

EEPROM_END = 64  # addresses below this are EEPROM: writable only while torque is off
RESOLUTION = 4096  # encoder ticks per turn

# Baud_Rate register value -> bits per second. 7 (4.5 Mbps) exists on XL430 only.
BAUD_TABLE = {0: 9_600, 1: 57_600, 2: 115_200, 3: 1_000_000, 4: 2_000_000, 5: 3_000_000, 6: 4_000_000, 7: 4_500_000}

# Operating_Mode values.
MODE_CURRENT, MODE_VELOCITY, MODE_POSITION, MODE_EXTENDED_POSITION, MODE_CURRENT_POSITION, MODE_PWM = 0, 1, 3, 4, 5, 16

# Hardware_Error_Status bits.
HW_INPUT_VOLTAGE, HW_OVERHEATING, HW_ENCODER, HW_ELECTRICAL_SHOCK, HW_OVERLOAD = 0x01, 0x04, 0x08, 0x10, 0x20
HW_ERROR_NAMES = {
    HW_INPUT_VOLTAGE: "input voltage out of range",
    HW_OVERHEATING: "overheating",
    HW_ENCODER: "motor encoder fault",
    HW_ELECTRICAL_SHOCK: "electrical shock",
    HW_OVERLOAD: "overload",
}


def describe_hardware_error(bits: int) -> str:
    names = [name for bit, name in HW_ERROR_NAMES.items() if bits & bit]
    return ", ".join(names) if names else "none"


@dataclass(frozen=True)
class Register:
    name: str
    address: int
    size: int  # bytes: 1, 2 or 4
    signed: bool = False
    writable: bool = True
    lo: int | None = None  # valid range for writes; None = whatever the size allows
    hi: int | None = None
    # Feetech stores some signed values as sign and magnitude: this bit holds the sign (None: two's complement
    # when `signed`, as Dynamixel does)
    sign_bit: int | None = None

    @property
    def eeprom(self) -> bool:
        return self.address < EEPROM_END

    @property
    def min_value(self) -> int:
        if self.lo is not None:
            return self.lo
        if self.sign_bit is not None:
            return -((1 << self.sign_bit) - 1)
        return -(1 << (8 * self.size - 1)) if self.signed else 0

    @property
    def max_value(self) -> int:
        if self.hi is not None:
            return self.hi
        if self.sign_bit is not None:
            return (1 << self.sign_bit) - 1
        return (1 << (8 * self.size - 1)) - 1 if self.signed else (1 << (8 * self.size)) - 1

    def check(self, value: int, where: str = "") -> int:
        """Return value as int, or raise ValueRangeError naming the register."""
        v = int(value)
        if v != value:
            raise ValueRangeError(f"{where}{self.name}: {value!r} is not an integer")
        if not self.min_value <= v <= self.max_value:
            raise ValueRangeError(
                f"{where}{self.name}: {v} is outside {self.min_value}..{self.max_value} ({self.size}-byte register)"
            )
        return v

    def encode(self, value: int) -> int:
        """Signed value -> unsigned wire integer (two's complement in `size` bytes, or sign and magnitude)."""
        if self.sign_bit is not None:
            return -value | (1 << self.sign_bit) if value < 0 else value
        return value & ((1 << (8 * self.size)) - 1)

    def decode(self, raw: int) -> int:
        if self.sign_bit is not None:
            magnitude = raw & ((1 << self.sign_bit) - 1)
            return -magnitude if raw >> self.sign_bit & 1 else magnitude
        if self.signed and raw >= 1 << (8 * self.size - 1):
            return raw - (1 << (8 * self.size))
        return raw


def _r(name, address, size, signed=False, writable=True, lo=None, hi=None, sign_bit=None) -> Register:
    return Register(name, address, size, signed, writable, lo, hi, sign_bit)


# The registers every X-series model here shares (e-manual, X-series "Control Table").
_COMMON = [
    _r("Model_Number", 0, 2, writable=False),
    _r("Model_Information", 2, 4, writable=False),
    _r("Firmware_Version", 6, 1, writable=False),
    _r("ID", 7, 1, lo=0, hi=252),
    _r("Baud_Rate", 8, 1, lo=0, hi=6),
    _r("Return_Delay_Time", 9, 1, lo=0, hi=254),
    _r("Drive_Mode", 10, 1, lo=0, hi=13),
    _r("Operating_Mode", 11, 1, lo=0, hi=16),
    _r("Secondary_ID", 12, 1, lo=0, hi=255),
    _r("Protocol_Type", 13, 1, lo=1, hi=2),
    _r("Homing_Offset", 20, 4, signed=True, lo=-1_044_479, hi=1_044_479),
    _r("Moving_Threshold", 24, 4, lo=0, hi=1023),
    _r("Temperature_Limit", 31, 1, lo=0, hi=100),
    _r("Max_Voltage_Limit", 32, 2),
    _r("Min_Voltage_Limit", 34, 2),
    _r("PWM_Limit", 36, 2, lo=0, hi=885),
    _r("Velocity_Limit", 44, 4, lo=0, hi=2047),
    _r("Max_Position_Limit", 48, 4, lo=0, hi=4095),
    _r("Min_Position_Limit", 52, 4, lo=0, hi=4095),
    _r("Startup_Configuration", 60, 1, lo=0, hi=3),
    _r("Shutdown", 63, 1),
    _r("Torque_Enable", 64, 1, lo=0, hi=1),
    _r("LED", 65, 1, lo=0, hi=1),
    _r("Status_Return_Level", 68, 1, lo=0, hi=2),
    _r("Registered_Instruction", 69, 1, writable=False),
    _r("Hardware_Error_Status", 70, 1, writable=False),
    _r("Velocity_I_Gain", 76, 2, lo=0, hi=16383),
    _r("Velocity_P_Gain", 78, 2, lo=0, hi=16383),
    _r("Position_D_Gain", 80, 2, lo=0, hi=16383),
    _r("Position_I_Gain", 82, 2, lo=0, hi=16383),
    _r("Position_P_Gain", 84, 2, lo=0, hi=16383),
    _r("Feedforward_2nd_Gain", 88, 2, lo=0, hi=16383),
    _r("Feedforward_1st_Gain", 90, 2, lo=0, hi=16383),
    _r("Bus_Watchdog", 98, 1, lo=0, hi=127),
    _r("Goal_PWM", 100, 2, signed=True, lo=-885, hi=885),
    _r("Goal_Velocity", 104, 4, signed=True),
    _r("Profile_Acceleration", 108, 4, lo=0, hi=32767),
    _r("Profile_Velocity", 112, 4, lo=0, hi=32767),
    _r("Goal_Position", 116, 4, signed=True, lo=-1_048_575, hi=1_048_575),
    _r("Realtime_Tick", 120, 2, writable=False),
    _r("Moving", 122, 1, writable=False),
    _r("Moving_Status", 123, 1, writable=False),
    _r("Present_PWM", 124, 2, signed=True, writable=False),
    _r("Present_Current", 126, 2, signed=True, writable=False),
    _r("Present_Velocity", 128, 4, signed=True, writable=False),
    _r("Present_Position", 132, 4, signed=True, writable=False),
    _r("Velocity_Trajectory", 136, 4, signed=True, writable=False),
    _r("Position_Trajectory", 140, 4, signed=True, writable=False),
    _r("Present_Input_Voltage", 144, 2, writable=False),
    _r("Present_Temperature", 146, 1, writable=False),
]

_COMMON_DEFAULTS = {
    "Firmware_Version": 52, "ID": 1, "Baud_Rate": 1, "Return_Delay_Time": 250, "Drive_Mode": 0,
    "Operating_Mode": 3, "Secondary_ID": 255, "Protocol_Type": 2, "Homing_Offset": 0, "Moving_Threshold": 10,
    "PWM_Limit": 885, "Max_Position_Limit": 4095, "Min_Position_Limit": 0, "Shutdown": 52,
    "Status_Return_Level": 2, "LED": 0, "Position_D_Gain": 0, "Position_I_Gain": 0,
}


@dataclass(frozen=True)
class ModelSpec:
    """One servo model: its control table, factory defaults and the physics the emulator needs."""

    name: str
    number: int
    registers: dict[str, Register]
    defaults: dict[str, int]
    baudrates: dict[int, int]  # Baud_Rate value -> bps supported by this model
    fast_sync_read: bool = True
    eeprom_end: int = EEPROM_END  # registers below this address live in EEPROM
    no_load_rpm: float = 100.0  # top speed, for the emulator's motor model
    supply_decivolts: int = 50  # what Present_Input_Voltage reads at rest (0.1 V units)
    by_address: dict[int, Register] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_address", {r.address: r for r in self.registers.values()})

    def register(self, name: str) -> Register:
        try:
            return self.registers[name]
        except KeyError:
            raise UnknownRegisterError(
                f"unknown register {name!r} for {self.name}; known: {', '.join(sorted(self.registers))}"
            ) from None


def _model(name, number, extra, defaults, baud_max=6, drop=(), **physics) -> ModelSpec:
    regs = {r.name: r for r in _COMMON if r.name not in drop}
    for r in extra:
        regs[r.name] = r
    if baud_max != 6:
        regs["Baud_Rate"] = _r("Baud_Rate", 8, 1, lo=0, hi=baud_max)
    bauds = {k: v for k, v in BAUD_TABLE.items() if k <= baud_max}
    return ModelSpec(name, number, regs, {**_COMMON_DEFAULTS, **defaults}, bauds, **physics)


_XL330_EXTRA = [
    _r("Current_Limit", 38, 2, lo=0, hi=1750),
    _r("Goal_Current", 102, 2, signed=True, lo=-1750, hi=1750),
]
_XL330_DEFAULTS = {
    "Temperature_Limit": 70, "Max_Voltage_Limit": 70, "Min_Voltage_Limit": 35, "Current_Limit": 1750,
    "Velocity_Limit": 445, "Position_P_Gain": 400, "Velocity_I_Gain": 1000, "Velocity_P_Gain": 100,
}

MODELS: dict[str, ModelSpec] = {
    m.name: m
    for m in [
        _model("xl330-m077", 1190, _XL330_EXTRA, {**_XL330_DEFAULTS, "Velocity_Limit": 1620},
               no_load_rpm=383.0, supply_decivolts=50),
        _model("xl330-m288", 1200, _XL330_EXTRA, _XL330_DEFAULTS, no_load_rpm=103.0, supply_decivolts=50),
        _model(
            "xl430-w250", 1060,
            # XL430 has no current control: address 126 reads Present_Load (0.1 % units).
            [_r("Present_Load", 126, 2, signed=True, writable=False)],
            {"Temperature_Limit": 72, "Max_Voltage_Limit": 140, "Min_Voltage_Limit": 60, "Velocity_Limit": 265,
             "Position_P_Gain": 640, "Velocity_I_Gain": 1920, "Velocity_P_Gain": 100},
            baud_max=7, drop=("Present_Current",), no_load_rpm=57.0, supply_decivolts=120,
        ),
    ]
}
MODEL_BY_NUMBER = {m.number: m for m in MODELS.values()}


def get_model(name: str) -> ModelSpec:
    try:
        return MODELS[name.lower()]
    except KeyError:
        raise UnknownModelError(f"unknown motor model {name!r}; known: {', '.join(sorted(MODELS))}") from None


def model_name(number: int) -> str:
    spec = MODEL_BY_NUMBER.get(number)
    return spec.name if spec else f"unknown model {number}"


def baud_value(bps: int, model: ModelSpec | None = None) -> int:
    """bps -> Baud_Rate register value (refused if the model can't do it)."""
    table = model.baudrates if model else BAUD_TABLE
    for value, rate in table.items():
        if rate == bps:
            return value
    who = model.name if model else "X-series"
    raise ValueRangeError(f"baud rate {bps} is not supported by {who}; choose one of {sorted(table.values())}")
