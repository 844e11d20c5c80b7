"""One emulated Feetech STS servo (the STS3215): the Dynamixel servo's motor model (servo.py) with the STS memory
map and rules (hardware/motors/feetech_tables.py):

- EEPROM (< 40) is guarded by Lock, not torque. A write always changes the working copy (the servo acts on a new
  id or baud rate at once), but only a write made with Lock = 0 is saved: a power cycle (reboot(), a replug)
  brings back what was saved, and powers up with Lock = 1;
- writes to read-only or unmapped bytes are ignored, and values are not range-checked by the servo: a status
  packet carries no error number, only condition bits (Status, 65);
- the reading is one turn, Present_Position = (actual - Homing_Offset) mod 4096, and the goal is the nearest
  encoder position that reads as Goal_Position, within Min/Max_Position_Limit;
- velocities are steps/s (sign-magnitude on the wire), Present_Load is 0.1 % of the torque limit, Present_Current
  is 6.5 mA units; overheat and overload set Status bits, and Unloading_Condition's bits switch torque off.
"""

from __future__ import annotations

from hardware.motors.feetech_tables import (
    EEPROM_END,
    ERR_OVERHEAT,
    ERR_OVERLOAD,
    MODE_POSITION,
    RESOLUTION,
)
from hardware.motors.tables import ModelSpec

from .servo import _COOL, _HEAT, _OVERLOAD_AFTER_S, AMBIENT_C, MEMORY_SIZE, VirtualServo

_ID, _BAUD, _TORQUE, _LOCK, _MODE = 5, 6, 40, 55, 33
_STALL_MA = 2700.0  # STS3215 (7.4 V) stall current
_CURRENT_UNIT_MA = 6.5


class FeetechServo(VirtualServo):
    VOLTAGE_REGISTER = "Present_Voltage"

    def __init__(self, spec: ModelSpec, servo_id: int, baud_value: int = 0, now: float = 0.0):
        super().__init__(spec, servo_id, baud_value, now)
        self.flash = bytes(self.mem[:EEPROM_END])  # what survives a power cycle
        self.set("Goal_Position", self.get("Present_Position"))  # powers up holding where it is, as reboot() does

    @property
    def id(self) -> int:
        return self.mem[_ID]

    @property
    def baud_value(self) -> int:
        return self.mem[_BAUD]

    @property
    def torque_on(self) -> bool:
        return self.mem[_TORQUE] == 1

    @property
    def locked(self) -> bool:
        return self.mem[_LOCK] != 0

    def _factory(self, keep_id: bool, keep_baud: bool) -> None:
        self.mem[:] = bytes(MEMORY_SIZE)
        for name, value in self.spec.defaults.items():
            self.set(name, value)
        self.set("Model_Number", self.spec.number)
        self.set(self.VOLTAGE_REGISTER, self.spec.supply_decivolts)

    # ------------------------------------------------------------ protocol-level access
    def status_error(self) -> int:
        return self.mem[65]  # Status: the condition bits every status packet carries

    def read_bytes(self, address: int, length: int, now: float) -> tuple[int, bytes]:
        self.update(now)
        data = bytes(self.mem[address:address + length]).ljust(length, b"\0")  # past the table reads 0
        return self.status_error(), data

    def write_bytes(self, address: int, data: bytes, now: float) -> int:
        """Write what lands on writable registers (whole ones); the rest is dropped, as the firmware does."""
        self.update(now)
        end = address + len(data)
        touched = [r for r in self.spec.registers.values()
                   if r.writable and r.address >= address and r.address + r.size <= end]
        save = not self.locked  # the lock in force when the packet arrived
        torque_before = self.torque_on
        for r in touched:
            self.mem[r.address:r.address + r.size] = data[r.address - address:r.address - address + r.size]
        if save and any(r.address < EEPROM_END for r in touched):
            self.flash = bytes(self.mem[:EEPROM_END])
        if self.torque_on and not torque_before:
            self.velocity = 0.0
        self._publish(now)
        return 0

    def reboot(self, now: float) -> None:
        """Power cycle: EEPROM back to what was saved, RAM to its defaults (Lock 1, torque off), errors cleared."""
        self._factory(keep_id=False, keep_baud=False)
        self.mem[:EEPROM_END] = self.flash
        self.current, self.velocity, self._saturated_since = 0.0, 0.0, None
        self._publish(now)
        self.set("Goal_Position", self.get("Present_Position"))

    def factory_reset(self, option: int, now: float) -> None:
        raise NotImplementedError("STS servos have no factory reset instruction")

    def clear_multi_turn(self, now: float) -> None:
        raise NotImplementedError("STS servos read one turn")

    # ------------------------------------------------------------ motor model
    @property
    def direction(self) -> int:
        return 1

    def goal_actual(self) -> float:
        goal = self.get("Goal_Position")
        lo, hi = self.get("Min_Position_Limit"), self.get("Max_Position_Limit")
        if lo < hi:  # the firmware keeps the goal within the limits (both 0: no limits)
            goal = min(max(goal, lo), hi)
        target = goal + self.get("Homing_Offset")
        return target + round((self.actual - target) / RESOLUTION) * RESOLUTION  # the nearest turn

    def _holding(self) -> bool:
        return self.torque_on and self.mem[_MODE] == MODE_POSITION

    def _spring(self) -> bool:
        return False

    def _motion_limits(self) -> tuple[float, float]:
        vmax = self.spec.no_load_rpm * RESOLUTION / 60.0
        v = abs(self.get("Goal_Velocity"))
        if v:
            vmax = min(vmax, float(v))
        acc = self.get("Acceleration")
        return vmax, (acc * 100.0 if acc else vmax * 50.0)

    def _hardware_current_limit(self) -> float:
        return _STALL_MA

    def _current_limit(self) -> float:
        return _STALL_MA * self.get("Torque_Limit") / 1000.0

    def _thermal_and_faults(self, dt: float, now: float) -> None:
        amps = self.current / 1000.0
        self.temperature += dt * (_HEAT * amps * amps - _COOL * (self.temperature - AMBIENT_C))
        bits = self.mem[65]
        if self.temperature > self.get("Max_Temperature_Limit"):
            bits |= ERR_OVERHEAT
        limit = self._current_limit()
        if limit and abs(self.current) >= 0.95 * limit and self.torque_on:
            if self._saturated_since is None:
                self._saturated_since = now - dt
            if now - self._saturated_since >= _OVERLOAD_AFTER_S:
                bits |= ERR_OVERLOAD
        else:
            self._saturated_since = None
        self.raise_hardware_error(bits)

    def raise_hardware_error(self, bits: int) -> None:
        """Set Status bits; those Unloading_Condition selects switch torque off (cleared by a power cycle)."""
        self.mem[65] = bits & 0xFF
        if bits & self.get("Unloading_Condition"):
            self.mem[_TORQUE] = 0
            self.velocity = 0.0

    def _fold_turns(self) -> None:
        self.turn_base = 0

    def _publish(self, now: float) -> None:
        self._store(self.spec.registers["Present_Position"],
                    (int(round(self.actual)) - self.get("Homing_Offset")) % RESOLUTION)
        reg = self.spec.registers
        self._store(reg["Present_Velocity"], _clip(int(round(self.velocity)), reg["Present_Velocity"].max_value))
        limit = self._current_limit() or _STALL_MA
        self._store(reg["Present_Load"], _clip(int(round(1000.0 * self.current / limit)), 1000))
        self._store(reg["Present_Current"], _clip(int(round(self.current / _CURRENT_UNIT_MA)), 32767))
        self._store(reg["Present_Temperature"], int(round(self.temperature)))
        self.mem[66] = 1 if abs(self.velocity) > 20 else 0  # Moving


def _clip(v: int, most: int) -> int:
    return max(-most, min(most, v))
