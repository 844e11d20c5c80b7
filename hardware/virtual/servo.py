"""One emulated Dynamixel X-series servo: its control table memory and a motor model.

Memory is laid out from hardware/motors/tables.py (the same table the bus uses). Access rules follow the
e-manual: EEPROM (< 64) is writable only with torque off, read-only registers refuse writes, values outside a
register's range are refused. The motor model: position follows the goal within velocity and acceleration
limits; current (or load on XL430) responds to tracking error; temperature integrates current; a hardware error
bit that Shutdown selects switches torque off. With `external` set (a world that owns the physics, e.g. MuJoCo),
the world writes present state through `set_present()` and reads goals through `goal_actual()`.
"""

from __future__ import annotations

import math

import hardware.virtual.protocol as p
from hardware.motors.tables import (
    EEPROM_END,
    HW_OVERHEATING,
    HW_OVERLOAD,
    MODE_CURRENT_POSITION,
    MODE_EXTENDED_POSITION,
    MODE_POSITION,
    RESOLUTION,
    ModelSpec,
    Register,
)

MEMORY_SIZE = 256
AMBIENT_C = 25.0
_OVERLOAD_AFTER_S = 1.0  # time at the current limit before the overload bit trips
_HEAT = 0.18  # degC/s per A^2
_COOL = 1.0 / 120.0  # 1/s, towards ambient
_TRACK_GAIN = 25.0  # 1/s: first-order approach to the target before the velocity limit
_CURRENT_PER_TICK = 4.0  # mA of holding current per tick of tracking error


class VirtualServo:
    VOLTAGE_REGISTER = "Present_Input_Voltage"  # what reads the supply

    def __init__(self, spec: ModelSpec, servo_id: int, baud_value: int = 1, now: float = 0.0):
        self.spec = spec
        self.mem = bytearray(MEMORY_SIZE)
        self.plugged = True
        self.external = False  # physics owned by a world (see module doc)
        self.blocked = False  # an obstacle holds the horn: position can't follow the goal
        # X-series keep counting turns while torque is off; some firmware (and other makers' servos) fold the
        # reading into one turn at all times, so it jumps 4095 <-> 0 as the joint passes the encoder zero.
        self.single_turn = False
        self.pending: tuple[int, bytes] | None = None  # REG_WRITE waiting for ACTION
        self.held: float | None = None  # a hand holds a current-limited joint here (see hand_move)
        self._factory(keep_id=False, keep_baud=False)
        self.set("ID", servo_id)
        self.set("Baud_Rate", baud_value)
        self.actual = float(RESOLUTION // 2)  # multi-turn encoder position in ticks
        self.velocity = 0.0  # ticks/s
        self.current = 0.0  # mA
        self.temperature = AMBIENT_C
        self.turn_base = 0  # multiple of 4096 subtracted when the reading is folded into one turn
        self._saturated_since: float | None = None
        self._t = now
        self._publish(now)

    # ------------------------------------------------------------ register helpers
    @property
    def id(self) -> int:
        return self.mem[7]

    @property
    def baud_value(self) -> int:
        return self.mem[8]

    @property
    def torque_on(self) -> bool:
        return self.mem[64] == 1

    def get(self, name: str) -> int:
        reg = self.spec.register(name)
        return reg.decode(int.from_bytes(self.mem[reg.address:reg.address + reg.size], "little"))

    def set(self, name: str, value: int) -> None:
        self._store(self.spec.register(name), int(value))

    def _store(self, reg: Register, value: int) -> None:
        self.mem[reg.address:reg.address + reg.size] = reg.encode(value).to_bytes(reg.size, "little")

    def _factory(self, keep_id: bool, keep_baud: bool) -> None:
        saved_id, saved_baud = self.mem[7], self.mem[8]
        self.mem[:] = bytes(MEMORY_SIZE)
        for name, value in self.spec.defaults.items():
            self.set(name, value)
        self.set("Model_Number", self.spec.number)
        self.set(self.VOLTAGE_REGISTER, self.spec.supply_decivolts)
        if keep_id:
            self.mem[7] = saved_id
        if keep_baud:
            self.mem[8] = saved_baud

    # ------------------------------------------------------------ protocol-level access
    def status_error(self) -> int:
        return p.ERR_ALERT if self.get("Hardware_Error_Status") else 0

    def read_bytes(self, address: int, length: int, now: float) -> tuple[int, bytes]:
        if address + length > MEMORY_SIZE or length == 0:
            return p.ERR_ACCESS, b""
        self.update(now)
        return self.status_error(), bytes(self.mem[address:address + length])

    def write_bytes(self, address: int, data: bytes, now: float) -> int:
        """Apply a write the way firmware does: all or nothing; returns the status error number (0 = ok)."""
        end = address + len(data)
        if end > MEMORY_SIZE or not data:
            return p.ERR_ACCESS
        touched = [r for r in self.spec.registers.values() if r.address < end and r.address + r.size > address]
        if not touched:
            return p.ERR_ACCESS
        if any(r.address < address or r.address + r.size > end for r in touched):
            return p.ERR_DATA_LENGTH  # a write must cover whole registers
        if any(not r.writable for r in touched):
            return p.ERR_ACCESS
        if self.torque_on and address < EEPROM_END:
            return p.ERR_ACCESS  # EEPROM is locked while torque is on
        trial = bytearray(self.mem)
        trial[address:end] = data
        for r in touched:
            v = r.decode(int.from_bytes(trial[r.address:r.address + r.size], "little"))
            if not r.min_value <= v <= r.max_value:
                return p.ERR_DATA_RANGE
        self.update(now)
        goal = self.spec.registers["Goal_Position"]
        if any(r is goal for r in touched) and self.mem[11] == MODE_POSITION:
            v = goal.decode(int.from_bytes(trial[goal.address:goal.address + 4], "little"))
            if not self.get("Min_Position_Limit") <= v <= self.get("Max_Position_Limit"):
                return p.ERR_DATA_LIMIT
        torque_before, mode_before, drive_before = self.torque_on, self.mem[11], self.mem[10]
        if any(r.name == "Torque_Enable" for r in touched) and trial[64] == 1 and self.get("Hardware_Error_Status"):
            return p.ERR_RESULT_FAIL  # firmware refuses torque while a hardware error is latched
        self.mem[:] = trial
        if self.mem[11] != mode_before or self.mem[10] != drive_before or \
                (self.torque_on and not torque_before and self.mem[11] == MODE_POSITION):
            self._fold_turns()
        self._publish(now)
        return 0

    def reboot(self, now: float) -> None:
        """Power-cycle: RAM back to defaults, hardware errors cleared, reading folded into one turn."""
        eeprom = bytes(self.mem[:EEPROM_END])
        self._factory(keep_id=True, keep_baud=True)
        self.mem[:EEPROM_END] = eeprom
        self.current, self.velocity, self._saturated_since = 0.0, 0.0, None
        self._fold_turns()
        self._publish(now)
        self.set("Goal_Position", self.get("Present_Position"))

    def factory_reset(self, option: int, now: float) -> None:
        """0xFF: everything; 0x01: all but ID; 0x02: all but ID and baud rate."""
        self._factory(keep_id=option in (0x01, 0x02), keep_baud=option == 0x02)
        if option == 0xFF:
            self.set("ID", 1)
        self.reboot(now)

    def clear_multi_turn(self, now: float) -> None:
        self.update(now)
        self._fold_turns()
        self._publish(now)

    # ------------------------------------------------------------ motor model
    @property
    def direction(self) -> int:
        """Drive_Mode bit 0 reverses the direction: the firmware negates position, velocity and current."""
        return -1 if self.mem[10] & 1 else 1

    def goal_actual(self) -> float:
        """The goal as an encoder position (what a world should drive the joint to)."""
        goal = self.get("Goal_Position") - self.get("Homing_Offset")
        if self.mem[11] == MODE_POSITION:  # only plain position mode folds into one turn
            goal += self.turn_base
        return self.direction * goal

    def move_by_hand(self, actual_ticks: float, now: float) -> None:
        """Someone turns the horn (torque off), or a replay/demonstrator sets a leader's position."""
        self.update(now)
        self.actual = float(actual_ticks)
        self.velocity = 0.0
        self._publish(now)

    @property
    def backdrivable(self) -> bool:
        """Can a hand turn the horn? With torque off, yes; under torque only a current-limited spring (current-based
        position mode, a leader's gripper trigger) gives way; position modes hold against the hand."""
        return not self.torque_on or self._spring()

    def hand_move(self, actual_ticks: float, now: float) -> bool:
        """A person moves the joint: False (nothing moves) when the motor holds against it. A torque-off joint stays
        where it is put; a spring (current-based position under torque) is held there until release()."""
        self.update(now)
        if not self.backdrivable:
            return False
        self.held = float(actual_ticks) if self.torque_on else None
        self.move_by_hand(actual_ticks, now)
        return True

    def release(self) -> None:
        """The hand lets go: a spring returns to its goal."""
        self.held = None

    def set_present(self, actual_ticks: float, velocity: float, current_ma: float, now: float) -> None:
        """Used by an external world that owns the physics."""
        self.actual, self.velocity, self.current = float(actual_ticks), float(velocity), float(current_ma)
        self._t = now
        self._thermal_and_faults(0.0, now)
        self._publish(now)

    def update(self, now: float) -> None:
        dt = now - self._t
        if dt <= 0:
            return
        self._t = now
        if not self.external:
            self._integrate(min(dt, 1.0))
        self._thermal_and_faults(dt, now)
        self._publish(now)

    # The motor model below is shared with other makers' servos (feetech_servo.py): what differs between families
    # is asked of these three methods (and of the register-level ones above).
    def _holding(self) -> bool:
        """Does the motor drive towards a goal position now?"""
        return self.torque_on and self.mem[11] in (MODE_POSITION, MODE_EXTENDED_POSITION, MODE_CURRENT_POSITION)

    def _spring(self) -> bool:
        """Is it a current-limited spring a hand can overpower (current-based position mode)?"""
        return self.mem[11] == MODE_CURRENT_POSITION

    def _motion_limits(self) -> tuple[float, float]:
        """(top speed in ticks/s, acceleration in ticks/s^2) from the profile registers."""
        vmax = self.spec.no_load_rpm * RESOLUTION / 60.0
        pv = self.get("Profile_Velocity")
        if pv:
            vmax = min(vmax, pv * 0.229 * RESOLUTION / 60.0)
        pa = self.get("Profile_Acceleration")
        return vmax, (pa * 214.577 * RESOLUTION / 3600.0 if pa else vmax * 50.0)

    def _integrate(self, dt: float) -> None:
        if not self._holding():
            self.velocity, self.current = 0.0, 0.0
            return
        target = self.goal_actual()
        if self.held is not None and self._spring():  # the hand overpowers the spring
            self.actual, self.velocity = self.held, 0.0
            limit = self._current_limit()
            self.current = max(-limit, min(limit, _CURRENT_PER_TICK * (target - self.actual)))
            return
        vmax, amax = self._motion_limits()
        steps = max(1, math.ceil(dt / 0.002))
        h = dt / steps
        for _ in range(steps):
            err = target - self.actual
            if self.blocked:
                self.velocity = 0.0
                break
            want = max(-vmax, min(vmax, _TRACK_GAIN * err))
            dv = max(-amax * h, min(amax * h, want - self.velocity))
            self.velocity += dv
            self.actual += self.velocity * h
        limit = self._current_limit()
        self.current = max(-limit, min(limit, _CURRENT_PER_TICK * (target - self.actual)))

    def _hardware_current_limit(self) -> float:
        if "Current_Limit" in self.spec.registers:
            return float(self.get("Current_Limit"))
        return 1400.0  # XL430-W250 stall current, mA

    def _current_limit(self) -> float:
        """What the current may reach now: Goal_Current caps it in current-based position mode."""
        limit = self._hardware_current_limit()
        if self.mem[11] == MODE_CURRENT_POSITION and "Goal_Current" in self.spec.registers:
            limit = min(limit, float(abs(self.get("Goal_Current"))))
        return limit

    def _thermal_and_faults(self, dt: float, now: float) -> None:
        amps = self.current / 1000.0
        self.temperature += dt * (_HEAT * amps * amps - _COOL * (self.temperature - AMBIENT_C))
        bits = self.get("Hardware_Error_Status")
        if self.temperature > self.get("Temperature_Limit"):
            bits |= HW_OVERHEATING
        # Overload is judged against the motor's own limit, not Goal_Current: a current-based position servo
        # held off its goal at Goal_Current (a leader's gripper trigger squeezed by hand) is working as meant.
        limit = self._hardware_current_limit()
        if limit and abs(self.current) >= 0.95 * limit and self.torque_on:
            if self._saturated_since is None:  # updates are lazy: the stall began when the interval did
                self._saturated_since = now - dt
            if now - self._saturated_since >= _OVERLOAD_AFTER_S:
                bits |= HW_OVERLOAD
        else:
            self._saturated_since = None
        self.raise_hardware_error(bits)

    def raise_hardware_error(self, bits: int) -> None:
        """Latch hardware error bits; the ones Shutdown selects switch torque off (cleared only by reboot)."""
        self._store(self.spec.registers["Hardware_Error_Status"], bits & 0xFF)
        if bits & self.get("Shutdown"):
            self.mem[64] = 0
            self.velocity = 0.0

    def _fold_turns(self) -> None:
        """Position mode, reboot and torque-on fold the reading into one turn (0..4095), as X-series do."""
        self.turn_base = math.floor(self.direction * self.actual / RESOLUTION) * RESOLUTION

    def _publish(self, now: float) -> None:
        """Write the model state into the Present_* registers."""
        offset = self.get("Homing_Offset")
        sign = self.direction
        reading = sign * self.actual - (self.turn_base if self.mem[11] == MODE_POSITION else 0)
        present = int(round(reading)) + offset
        if self.single_turn:
            present %= RESOLUTION
        self._store(self.spec.registers["Present_Position"], present)
        rpm_units = int(round(sign * self.velocity * 60.0 / RESOLUTION / 0.229))
        self._store(self.spec.registers["Present_Velocity"], rpm_units)
        if "Present_Current" in self.spec.registers:
            self._store(self.spec.registers["Present_Current"], int(round(sign * self.current)))
        else:
            load = int(round(1000.0 * sign * self.current / self._current_limit()))
            self._store(self.spec.registers["Present_Load"], max(-1000, min(1000, load)))
        self._store(self.spec.registers["Present_Temperature"], int(round(self.temperature)))
        self._store(self.spec.registers["Realtime_Tick"], int(now * 1000) % 32768)
        self.mem[122] = 1 if abs(self.velocity) > self.get("Moving_Threshold") * 0.229 * RESOLUTION / 60 else 0
