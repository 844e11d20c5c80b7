"""SdkBus: what a MotorsBus on a vendor SDK does whatever the servo family (DynamixelBus, FeetechBus).

The family supplies its SDK (packet handler, group classes, port handler), its control tables (a module with
get_model, MODEL_BY_NUMBER, model_name, baud_value and BAUD_TABLE) and how its status packets report trouble. Here:
model-aware registers and value encodings, errors that name the port, motor and register, retries with per-cause
counters (exchanges.py), and reused sync read/write groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType

import numpy as np
import serial

from .bus import BusStats, Motor, MotorsBus
from .exchanges import Exchanges
from .motor_errors import (
    CommError,
    ConfigError,
    NotConnectedError,
    PortError,
    UnknownMotorError,
    port_problem,
    sdk_reason,
)
from .tables import ModelSpec, Register

COMM_SUCCESS = 0  # both SDKs


class SdkBus(MotorsBus):
    family = ""  # "Dynamixel", "Feetech": in messages
    tables: ModuleType  # the family's control tables
    port_class: type  # the family's URL-capable PortHandler (ports.py)
    status_overhead = 0  # bytes in a status packet besides its data
    sdk_bauds: frozenset[int] = frozenset()  # rates the SDK's port handler accepts
    max_id = 252

    def __init__(self, port: str, motors: Mapping[str, Motor] | None = None, baudrate: int = 1_000_000, *,
                 retries: int = 3, latency_ms: float = 16.0):
        self.port = port
        self.motors: dict[str, Motor] = dict(motors or {})
        self.baudrate = baudrate
        self.retries = retries
        self.latency_ms = latency_ms
        self.stats = BusStats()
        self._specs: dict[str, ModelSpec] = {}
        ids: dict[int, str] = {}
        for name, m in self.motors.items():
            self._specs[name] = self.tables.get_model(m.model)
            if not 0 <= m.id <= self.max_id:
                raise ConfigError(f"motor {name!r}: id {m.id} is outside 0..{self.max_id}")
            if m.id in ids:
                raise ConfigError(f"motors {ids[m.id]!r} and {name!r} both use id {m.id}")
            ids[m.id] = name
        self._names_by_id = ids
        self._ph = self._packet_handler()
        self._exchanges = self._make_exchanges()
        self._port = None
        self._read_groups: dict[tuple, object] = {}
        self._write_groups: dict[tuple, object] = {}

    # ---------------------------------------------------------------- what a family provides
    def _packet_handler(self):
        raise NotImplementedError

    def _make_exchanges(self) -> Exchanges:
        return Exchanges(self._ph, self.stats)

    def _new_read_group(self, reg: Register):
        raise NotImplementedError

    def _new_write_group(self, reg: Register):
        raise NotImplementedError

    def _check_status(self, error: int, label: str, register: str) -> None:
        """Act on a status packet's error byte (raise, or note a hardware condition)."""

    def _note_status(self, motor_id: int, error: int) -> None:
        """The error byte of one motor's answer to a sync read."""

    def _broadcast_ping(self) -> dict[int, int] | None:
        """{id: model number} of every motor answering a broadcast ping; None when nothing answered."""
        raise NotImplementedError

    def _receive_sync(self, group, port, ids: tuple[int, ...], size: int) -> dict[int, tuple[int, bytes]]:
        """Send a Sync Read and collect {id: (error byte, data)}; each missing or bad reply counted."""
        if group.txPacket() != COMM_SUCCESS:
            return {}
        return self._exchanges.receive_each(port, ids, size)

    # ---------------------------------------------------------------- connection
    @property
    def is_connected(self) -> bool:
        return self._port is not None and self._port.is_open

    def connect(self, handshake: bool = True) -> None:
        """Open the port; with handshake, ping every configured motor and name any that do not answer."""
        if self.is_connected:
            return
        port = self.port_class(self.port, latency_ms=self.latency_ms)
        port.baudrate = self.baudrate
        try:
            ok = port.openPort()
        except (serial.SerialException, OSError, ValueError) as e:
            raise PortError(port_problem(self.port, e), port=self.port) from None
        if not ok:
            raise PortError(f"port {self.port}: baud rate {self.baudrate} is not supported by the {self.family} SDK",
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
        rates = sorted(self.tables.BAUD_TABLE.values())
        if bps not in rates:
            raise ConfigError(f"baud rate {bps} is not a {self.family} rate; choose one of {rates}")
        port = self._require_port()
        if not port.setBaudRate(bps):
            raise PortError(f"port {self.port}: the {self.family} SDK cannot set {bps} bps", port=self.port)
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
        spec = self.tables.get_model(model) if model else self._model_at(motor_id)
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
            got = self._receive_sync(group, port, ids, reg.size)
            for motor_id, (error, _) in got.items():
                self._note_status(motor_id, error)
            return (COMM_SUCCESS if all(i in got for i in ids) else None), got

        def fail(_result: int | None, got: dict[int, tuple[int, bytes]] | None) -> CommError:
            bad = tuple(self._names_by_id.get(i, f"id {i}") for i in ids if i not in (got or {}))
            return CommError(
                f"port {self.port}: sync read of {register} got no valid answer from "
                f"{', '.join(self._label(n) for n in bad)} after {self._n(retries) + 1} attempts",
                port=self.port, motor=bad[0], register=register, motors=bad)

        got = self._exchanges.run(port, attempt, self._n(retries) + 1,
                                  settle_bytes=len(ids) * (reg.size + self.status_overhead), fail=fail)
        return decode_array(reg, b"".join(got[i][1] for i in ids))

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
            for bps in baudrates or self.tables.BAUD_TABLE.values():
                if bps not in self.sdk_bauds:
                    continue  # the SDK cannot open the port at it
                self.set_baudrate(bps)
                if ids is None:
                    hits = self._broadcast_ping() or {}
                else:
                    hits = {i: n for i in ids if (n := self.ping(i)) is not None}
                if hits:
                    found[bps] = dict(sorted(hits.items()))
        finally:
            self.set_baudrate(original)
        return found

    def change_id(self, old_id: int, new_id: int) -> None:
        """Give the motor at old_id a new id (torque off first: ID lives in EEPROM)."""
        if not 0 <= new_id <= self.max_id:
            raise ConfigError(f"new id {new_id} is outside 0..{self.max_id}")
        if old_id == new_id:
            return
        taken = self.ping(new_id)
        if taken is not None:
            raise ConfigError(f"id {new_id} is already taken on {self.port} by a {self.tables.model_name(taken)}")
        spec = self._model_at(old_id)
        self._write_eeprom(spec, old_id, "ID", new_id, reached_at=new_id)
        if self.ping(new_id, retries=2) is None:
            raise CommError(f"port {self.port}: motor did not answer at its new id {new_id}", port=self.port)

    def change_baudrate(self, motor_id: int, bps: int) -> None:
        """Set the motor's Baud_Rate; the port follows so the motor can be reached again, and it is checked."""
        spec = self._model_at(motor_id)
        value = self.tables.baud_value(bps, spec)
        self._write_eeprom(spec, motor_id, "Baud_Rate", value, reached_at=motor_id, bps=bps)
        if self.ping(motor_id, retries=2) is None:
            raise CommError(f"port {self.port}: id {motor_id} did not answer at {bps} bps after the change",
                            port=self.port)

    def _write_eeprom(self, spec: ModelSpec, motor_id: int, register: str, value: int, *, reached_at: int,
                      bps: int | None = None) -> None:
        """Write an EEPROM register so that it stays (Dynamixel: torque off first). Afterwards the motor is
        reached at `reached_at`, and at `bps` when given (the port follows)."""
        self.write_id("Torque_Enable", motor_id, 0, spec.name)
        self.write_id(register, motor_id, value, spec.name)
        if bps is not None:
            self.set_baudrate(bps)

    # ---------------------------------------------------------------- internals
    def _read_raw(self, reg: Register, motor_id: int, label: str, retries: int | None) -> int:
        port = self._require_port()

        def attempt() -> tuple[int, tuple[list[int], int]]:
            data, result, error = self._ph.readTxRx(port, motor_id, reg.address, reg.size)
            return result, (data, error)

        data, error = self._exchanges.run(port, attempt, self._n(retries) + 1,
                                          settle_bytes=reg.size + self.status_overhead,
                                          fail=self._failed(f"reading {reg.name} from {label}", label, reg.name))
        self._check_status(error, label, reg.name)
        return reg.decode(int.from_bytes(bytes(data), "little"))

    def _write_raw(self, reg: Register, motor_id: int, value: int, label: str, retries: int | None) -> None:
        port = self._require_port()
        if not reg.writable:
            raise ConfigError(f"{label}: {reg.name} is read-only", motor=label, register=reg.name)
        data = list(reg.encode(value).to_bytes(reg.size, "little"))
        error = self._exchanges.run(port, lambda: self._ph.writeTxRx(port, motor_id, reg.address, reg.size, data),
                                    self._n(retries) + 1, settle_bytes=self.status_overhead,
                                    fail=self._failed(f"writing {reg.name}={value} to {label}", label, reg.name))
        self._check_status(error, label, reg.name)

    def _failed(self, action: str, label: str, register: str | None = None):
        """The exception for a single-motor exchange that failed every attempt, naming the SDK's reason."""
        def error(result: int, _payload: object) -> CommError:
            text = self._ph.getTxRxResult(result)
            return CommError(f"port {self.port}: {action} failed: {sdk_reason(text)}",
                             port=self.port, motor=label, register=register, sdk_text=text)
        return error

    def _read_group(self, reg: Register, ids: tuple[int, ...]):
        key = (reg.address, reg.size, ids)
        group = self._read_groups.get(key)
        if group is None:
            group = self._new_read_group(reg)
            for i in ids:
                group.addParam(i)
            self._read_groups[key] = group
        return group

    def _write_group(self, reg: Register, ids: tuple[int, ...]):
        key = (reg.address, reg.size, ids)
        group = self._write_groups.get(key)
        if group is None:
            group = self._new_write_group(reg)
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
        if number not in self.tables.MODEL_BY_NUMBER:
            raise ConfigError(f"id {motor_id} is a {self.tables.model_name(number)}, which robotapp has no control "
                              f"table for")
        return self.tables.MODEL_BY_NUMBER[number]

    def _found_ids_hint(self) -> str:
        found = self._broadcast_ping()
        if not found:
            return "nothing answers at this baud rate (check power, cable, and the baud rate)"
        return "ids that do answer: " + ", ".join(f"{i} ({self.tables.model_name(n)})" for i, n in sorted(found.items()))

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

    def _require_port(self):
        if self._port is None:
            raise NotConnectedError(f"bus on {self.port} is not connected; call connect() first", port=self.port)
        return self._port


_UNSIGNED = {1: "<u1", 2: "<u2", 4: "<u4"}
_SIGNED = {1: "<i1", 2: "<i2", 4: "<i4"}


def decode_array(reg: Register, data: bytes) -> np.ndarray:
    """Little-endian register values -> int64 array, in the register's encoding."""
    if reg.sign_bit is not None:
        raw = np.frombuffer(data, dtype=_UNSIGNED[reg.size]).astype(np.int64)
        magnitude = raw & ((1 << reg.sign_bit) - 1)
        return np.where(raw >> reg.sign_bit & 1, -magnitude, magnitude)
    return np.frombuffer(data, dtype=(_SIGNED if reg.signed else _UNSIGNED)[reg.size]).astype(np.int64)
