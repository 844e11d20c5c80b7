"""DynamixelBus: the MotorsBus on dynamixel-sdk (Protocol 2.0).

The SDK builds and sends every instruction packet and parses status packets. We add what it leaves to callers:
model-aware registers and signed values, errors that name the port, motor and register, and (in exchanges.py)
retries with per-cause counters and a sync-read receiver that accounts for every motor's reply.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import serial
from dynamixel_sdk import BROADCAST_ID, COMM_SUCCESS, GroupSyncRead, GroupSyncWrite, PacketHandler
from dynamixel_sdk.protocol2_packet_handler import ERRBIT_ALERT

from .bus import BusStats, Motor, MotorsBus
from .exchanges import STATUS_OVERHEAD, Exchanges
from .motor_errors import (
    STATUS_ERROR_TEXT,
    CommError,
    ConfigError,
    HardwareAlertError,
    MotorStatusError,
    NotConnectedError,
    PortError,
    UnknownMotorError,
    port_problem,
    sdk_reason,
)
from .ports import UrlPortHandler
from .tables import (
    BAUD_TABLE,
    MODEL_BY_NUMBER,
    ModelSpec,
    Register,
    baud_value,
    describe_hardware_error,
    get_model,
    model_name,
)


class DynamixelBus(MotorsBus):
    def __init__(self, port: str, motors: Mapping[str, Motor] | None = None, baudrate: int = 1_000_000, *,
                 retries: int = 3, latency_ms: float = 16.0, fast_sync_read: bool = True):
        self.port = port
        self.motors: dict[str, Motor] = dict(motors or {})
        self.baudrate = baudrate
        self.retries = retries
        self.latency_ms = latency_ms
        self.stats = BusStats()
        self.alerts: set[str] = set()  # motors whose last status packet carried the hardware-alert bit
        self._specs: dict[str, ModelSpec] = {}
        ids: dict[int, str] = {}
        for name, m in self.motors.items():
            self._specs[name] = get_model(m.model)
            if not 0 <= m.id <= 252:
                raise ConfigError(f"motor {name!r}: id {m.id} is outside 0..252")
            if m.id in ids:
                raise ConfigError(f"motors {ids[m.id]!r} and {name!r} both use id {m.id}")
            ids[m.id] = name
        self._names_by_id = ids
        self.fast_sync_read = fast_sync_read and all(s.fast_sync_read for s in self._specs.values())
        self._ph = PacketHandler(2.0)
        self._exchanges = Exchanges(self._ph, self.stats)
        self._port: UrlPortHandler | None = None
        self._read_groups: dict[tuple, GroupSyncRead] = {}
        self._write_groups: dict[tuple, GroupSyncWrite] = {}

    # ---------------------------------------------------------------- connection
    @property
    def is_connected(self) -> bool:
        return self._port is not None and self._port.is_open

    def connect(self, handshake: bool = True) -> None:
        """Open the port; with handshake, ping every configured motor and name any that do not answer."""
        if self.is_connected:
            return
        port = UrlPortHandler(self.port, latency_ms=self.latency_ms)
        port.baudrate = self.baudrate
        try:
            ok = port.openPort()
        except (serial.SerialException, OSError, ValueError) as e:
            raise PortError(port_problem(self.port, e), port=self.port) from None
        if not ok:
            raise PortError(f"port {self.port}: baud rate {self.baudrate} is not supported by dynamixel-sdk",
                            port=self.port)
        self._port = port
        if handshake and self.motors:
            # with the bus retries: one late reply (a busy machine, a noisy line) is not a missing motor
            missing = [n for n, m in self.motors.items() if self.ping(m.id, retries=None) is None]
            if missing:
                found = self._found_ids_hint()
                self.disconnect()
                raise CommError(
                    f"port {self.port} at {self.baudrate} bps: no answer from "
                    f"{', '.join(self._label(n) for n in missing)}; {found}",
                    port=self.port, motor=missing[0], motors=tuple(missing))

    def disconnect(self) -> None:
        if self._port is not None:
            if self._port.is_open:
                self._port.closePort()
            self._port = None
        self._read_groups.clear()
        self._write_groups.clear()

    def set_baudrate(self, bps: int) -> None:
        """Switch the port's own baud rate (the motors are not told; see change_baudrate)."""
        if bps not in BAUD_TABLE.values():
            raise ConfigError(f"baud rate {bps} is not a Dynamixel rate; choose one of {sorted(BAUD_TABLE.values())}")
        port = self._require_port()
        if not port.setBaudRate(bps):
            raise PortError(f"port {self.port}: dynamixel-sdk cannot set {bps} bps", port=self.port)
        self.baudrate = bps

    # ---------------------------------------------------------------- single-motor access
    def ping(self, motor_id: int, *, retries: int | None = 0) -> int | None:
        port = self._require_port()

        def attempt() -> tuple[int, int]:
            number, result, _ = self._ph.ping(port, motor_id)
            return result, number

        return self._exchanges.run(port, attempt, self._n(retries) + 1)

    def read(self, register: str, motor: str, *, retries: int | None = None) -> int:
        reg = self._register(register, motor)
        return self._read_raw(reg, self._id(motor), self._label(motor), retries)

    def write(self, register: str, motor: str, value: int, *, retries: int | None = None) -> None:
        reg = self._register(register, motor)
        self._write_raw(reg, self._id(motor), reg.check(value, f"{self._label(motor)}: "), self._label(motor), retries)

    def write_id(self, register: str, motor_id: int, value: int, model: str | None = None, *,
                 retries: int | None = None) -> None:
        spec = get_model(model) if model else self._model_at(motor_id)
        reg = spec.register(register)
        self._write_raw(reg, motor_id, reg.check(value, f"id {motor_id}: "), f"id {motor_id}", retries)

    # ---------------------------------------------------------------- sync access
    def sync_read(self, register: str, motors: Sequence[str] | None = None, *,
                  retries: int | None = None) -> np.ndarray:
        names = self._names(motors)
        reg = self._common_register(register, names)
        ids = tuple(self._id(n) for n in names)
        group = self._read_group(reg, ids)
        port = self._require_port()

        def attempt() -> tuple[int | None, dict[int, tuple[int, bytes]]]:
            """One Sync Read; the receivers count each motor's fault, so a failed attempt's result is None."""
            if self.fast_sync_read:
                sent = group.fastSyncReadTxPacket() == COMM_SUCCESS
                got = self._exchanges.receive_fast(port, ids, reg.size) if sent else {}
            else:
                sent = group.txPacket() == COMM_SUCCESS
                got = self._exchanges.receive_each(port, ids, reg.size) if sent else {}
            for motor_id, (error, _) in got.items():
                self._note_alert(motor_id, error)
            return (COMM_SUCCESS if all(i in got for i in ids) else None), got

        def fail(_result: int | None, got: dict[int, tuple[int, bytes]] | None) -> CommError:
            bad = tuple(self._names_by_id.get(i, f"id {i}") for i in ids if i not in (got or {}))
            return CommError(
                f"port {self.port}: sync read of {register} got no valid answer from "
                f"{', '.join(self._label(n) for n in bad)} after {self._n(retries) + 1} attempts",
                port=self.port, motor=bad[0], register=register, motors=bad)

        got = self._exchanges.run(port, attempt, self._n(retries) + 1,
                                  settle_bytes=len(ids) * (reg.size + STATUS_OVERHEAD), fail=fail)
        raw = np.frombuffer(b"".join(got[i][1] for i in ids), dtype=_DTYPE[reg.size, reg.signed])
        return raw.astype(np.int64)

    def sync_write(self, register: str, values: Mapping[str, int] | np.ndarray | Sequence[int],
                   motors: Sequence[str] | None = None) -> None:
        if isinstance(values, Mapping):
            names = self._names(list(values))
            vals = [values[n] for n in names]
        else:
            names = self._names(motors)
            vals = list(np.asarray(values).reshape(-1))
            if len(vals) != len(names):
                raise ConfigError(f"sync write of {register}: {len(vals)} values for {len(names)} motors")
        reg = self._common_register(register, names)
        if not reg.writable:
            raise ConfigError(f"{register} is read-only")
        ids = tuple(self._id(n) for n in names)
        checked = [reg.check(v, f"{self._label(n)}: ") for n, v in zip(names, vals, strict=True)]
        group = self._write_group(reg, ids)
        for motor_id, v in zip(ids, checked, strict=True):
            group.changeParam(motor_id, list(reg.encode(v).to_bytes(reg.size, "little")))
        self.stats.transactions += 1
        result = group.txPacket()
        if result != COMM_SUCCESS:
            self.stats.failures += 1
            raise CommError(f"port {self.port}: sync write of {register} failed: {self._ph.getTxRxResult(result)}",
                            port=self.port, register=register, sdk_text=self._ph.getTxRxResult(result))

    # ---------------------------------------------------------------- discovery and setup
    def scan(self, baudrates: Iterable[int] | None = None, ids: Iterable[int] | None = None
             ) -> dict[int, dict[int, int]]:
        """Find motors: broadcast ping at each baud rate (or ping `ids` one by one, faster for a few ids).
        Leaves the port at its original baud rate."""
        original = self.baudrate
        found: dict[int, dict[int, int]] = {}
        try:
            for bps in baudrates or BAUD_TABLE.values():
                if bps not in _SDK_BAUDS:
                    continue  # e.g. 4.5 Mbps: dynamixel-sdk cannot open the port at it
                self.set_baudrate(bps)
                if ids is None:
                    data, result = self._ph.broadcastPing(self._require_port())
                    hits = {i: v[0] for i, v in data.items()} if result == COMM_SUCCESS else {}
                else:
                    hits = {i: n for i in ids if (n := self.ping(i)) is not None}
                if hits:
                    found[bps] = dict(sorted(hits.items()))
        finally:
            self.set_baudrate(original)
        return found

    def change_id(self, old_id: int, new_id: int) -> None:
        """Give the motor at old_id a new id (torque off first: ID lives in EEPROM)."""
        if not 0 <= new_id <= 252:
            raise ConfigError(f"new id {new_id} is outside 0..252")
        if old_id == new_id:
            return
        taken = self.ping(new_id)
        if taken is not None:
            raise ConfigError(f"id {new_id} is already taken on {self.port} by a {model_name(taken)}")
        spec = self._model_at(old_id)
        self.write_id("Torque_Enable", old_id, 0, spec.name)
        self.write_id("ID", old_id, new_id, spec.name)
        if self.ping(new_id, retries=2) is None:
            raise CommError(f"port {self.port}: motor did not answer at its new id {new_id}", port=self.port)

    def change_baudrate(self, motor_id: int, bps: int) -> None:
        """Set the motor's Baud_Rate; the port follows so the motor can be reached again, and it is checked."""
        spec = self._model_at(motor_id)
        value = baud_value(bps, spec)
        self.write_id("Torque_Enable", motor_id, 0, spec.name)
        self.write_id("Baud_Rate", motor_id, value, spec.name)
        self.set_baudrate(bps)
        if self.ping(motor_id, retries=2) is None:
            raise CommError(f"port {self.port}: id {motor_id} did not answer at {bps} bps after the change",
                            port=self.port)

    def reboot(self, motor: str, *, retries: int | None = None) -> None:
        """Power-cycle one motor: clears latched hardware errors; torque comes back off."""
        self._instruction(lambda port, i: self._ph.reboot(port, i), motor, "reboot", retries)
        time.sleep(0.001)  # a real servo needs a moment before it answers again

    def factory_reset(self, motor_id: int, keep: str = "id_and_baud") -> None:
        """Reset the control table. keep: 'nothing' (id -> 1, baud -> 57600), 'id', or 'id_and_baud'."""
        option = {"nothing": 0xFF, "id": 0x01, "id_and_baud": 0x02}.get(keep)
        if option is None:
            raise ConfigError(f"factory reset keep={keep!r}: choose nothing, id or id_and_baud")
        label = self._names_by_id.get(motor_id, f"id {motor_id}")
        self._instruction(lambda port, i: self._ph.factoryReset(port, i, option), label, "factory reset", None,
                          motor_id=motor_id)

    def hardware_errors(self, motors: Sequence[str] | None = None) -> dict[str, int]:
        """Hardware_Error_Status of each motor that has one latched (empty dict = all healthy)."""
        names = self._names(motors)
        bits = self.sync_read("Hardware_Error_Status", names)
        return {n: int(b) for n, b in zip(names, bits, strict=True) if b}

    def check_hardware(self, motors: Sequence[str] | None = None) -> None:
        """Raise HardwareAlertError naming the first motor with a latched hardware error and its cause."""
        for name, bits in self.hardware_errors(motors).items():
            raise HardwareAlertError(
                f"port {self.port}: {self._label(name)} reports {describe_hardware_error(bits)}; its torque is off "
                f"(fix the cause, then reboot the motor)", port=self.port, motor=name, bits=bits)

    # ---------------------------------------------------------------- internals
    def _instruction(self, call, motor: str, what: str, retries: int | None, motor_id: int | None = None) -> None:
        """Send a reply-bearing instruction (reboot, factory reset) with retries and the usual errors."""
        port = self._require_port()
        motor_id = self._id(motor) if motor_id is None else motor_id
        label = self._label(motor)
        error = self._exchanges.run(port, lambda: call(port, motor_id), self._n(retries) + 1,
                                    settle_bytes=STATUS_OVERHEAD, fail=self._failed(f"{what} of {label}", label))
        self._check_status(error & ~ERRBIT_ALERT, label, what)

    def _read_raw(self, reg: Register, motor_id: int, label: str, retries: int | None) -> int:
        port = self._require_port()

        def attempt() -> tuple[int, tuple[list[int], int]]:
            data, result, error = self._ph.readTxRx(port, motor_id, reg.address, reg.size)
            return result, (data, error)

        data, error = self._exchanges.run(port, attempt, self._n(retries) + 1,
                                          settle_bytes=reg.size + STATUS_OVERHEAD,
                                          fail=self._failed(f"reading {reg.name} from {label}", label, reg.name))
        self._check_status(error, label, reg.name)
        return reg.decode(int.from_bytes(bytes(data), "little"))

    def _write_raw(self, reg: Register, motor_id: int, value: int, label: str, retries: int | None) -> None:
        port = self._require_port()
        if not reg.writable:
            raise ConfigError(f"{label}: {reg.name} is read-only", motor=label, register=reg.name)
        data = list(reg.encode(value).to_bytes(reg.size, "little"))
        error = self._exchanges.run(port, lambda: self._ph.writeTxRx(port, motor_id, reg.address, reg.size, data),
                                    self._n(retries) + 1, settle_bytes=STATUS_OVERHEAD,
                                    fail=self._failed(f"writing {reg.name}={value} to {label}", label, reg.name))
        self._check_status(error, label, reg.name)

    def _failed(self, action: str, label: str, register: str | None = None):
        """The exception for a single-motor exchange that failed every attempt, naming the SDK's reason."""
        def error(result: int, _payload: object) -> CommError:
            text = self._ph.getTxRxResult(result)
            return CommError(f"port {self.port}: {action} failed: {sdk_reason(text)}",
                             port=self.port, motor=label, register=register, sdk_text=text)
        return error

    def _check_status(self, error: int, label: str, register: str) -> None:
        motor = label
        if error & ERRBIT_ALERT:
            self.alerts.add(motor)
        else:
            self.alerts.discard(motor)
        code = error & ~ERRBIT_ALERT
        if code:
            self.stats.status_errors += 1
            raise MotorStatusError(f"port {self.port}: {label} refused {register}: {STATUS_ERROR_TEXT.get(code, code)}",
                                   port=self.port, motor=label, register=register, error_code=code)

    def _note_alert(self, motor_id: int, error: int) -> None:
        name = self._names_by_id.get(motor_id, f"id {motor_id}")
        (self.alerts.add if error & ERRBIT_ALERT else self.alerts.discard)(name)

    def _read_group(self, reg: Register, ids: tuple[int, ...]) -> GroupSyncRead:
        key = (reg.address, reg.size, ids)
        group = self._read_groups.get(key)
        if group is None:
            group = GroupSyncRead(self._require_port(), self._ph, reg.address, reg.size)
            for i in ids:
                group.addParam(i)
            self._read_groups[key] = group
        return group

    def _write_group(self, reg: Register, ids: tuple[int, ...]) -> GroupSyncWrite:
        key = (reg.address, reg.size, ids)
        group = self._write_groups.get(key)
        if group is None:
            group = GroupSyncWrite(self._require_port(), self._ph, reg.address, reg.size)
            for i in ids:
                group.addParam(i, [0] * reg.size)
            self._write_groups[key] = group
        return group

    def _model_at(self, motor_id: int) -> ModelSpec:
        name = self._names_by_id.get(motor_id)
        if name:
            return self._specs[name]
        number = self.ping(motor_id, retries=2)
        if number is None:
            raise CommError(f"port {self.port} at {self.baudrate} bps: nothing answers at id {motor_id}",
                            port=self.port, motor=f"id {motor_id}")
        if number not in MODEL_BY_NUMBER:
            raise ConfigError(f"id {motor_id} is a {model_name(number)}, which robotapp has no control table for")
        return MODEL_BY_NUMBER[number]

    def _found_ids_hint(self) -> str:
        data, result = self._ph.broadcastPing(self._port)
        if result != COMM_SUCCESS or not data:
            return "nothing answers at this baud rate (check power, cable, and the baud rate)"
        return "ids that do answer: " + ", ".join(f"{i} ({model_name(v[0])})" for i, v in sorted(data.items()))

    def _register(self, register: str, motor: str) -> Register:
        return self._spec(motor).register(register)

    def _common_register(self, register: str, names: Sequence[str]) -> Register:
        regs = {self._register(register, n) for n in names}
        if len(regs) != 1:
            raise ConfigError(f"{register} differs in address or size between motors {', '.join(names)}")
        return regs.pop()

    def _spec(self, motor: str) -> ModelSpec:
        if motor not in self._specs:
            raise UnknownMotorError(f"unknown motor {motor!r} on {self.port}; known: {', '.join(self.motors)}")
        return self._specs[motor]

    def _id(self, motor: str) -> int:
        self._spec(motor)
        return self.motors[motor].id

    def _names(self, motors: Sequence[str] | None) -> list[str]:
        names = list(self.motors) if motors is None else list(motors)
        if not names:
            raise ConfigError("no motors given")
        for n in names:
            self._spec(n)
        return names

    def _label(self, motor: str) -> str:
        m = self.motors.get(motor)
        return f"{motor} (id {m.id})" if m else motor

    def _n(self, retries: int | None) -> int:
        return self.retries if retries is None else retries

    def _require_port(self) -> UrlPortHandler:
        if self._port is None:
            raise NotConnectedError(f"bus on {self.port} is not connected; call connect() first", port=self.port)
        return self._port


_DTYPE = {(1, False): "<u1", (1, True): "<i1", (2, False): "<u2", (2, True): "<i2",
          (4, False): "<u4", (4, True): "<i4"}
_SDK_BAUDS = {9_600, 57_600, 115_200, 1_000_000, 2_000_000, 3_000_000, 4_000_000}


__all__ = ["DynamixelBus", "Motor", "BROADCAST_ID"]
