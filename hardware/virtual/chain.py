"""ServoChain: emulated servos daisy-chained on one wire. Bytes in (instruction packets from the host), timed
status packets out. Transports (a pty, or an in-process serial object) carry the bytes; this class is the
servos' side of Protocol 2.0 and knows nothing about how bytes travel."""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from types import ModuleType

import hardware.virtual.protocol as p
from hardware.motors import tables as dxl_tables

from .faults import FaultConfig, FaultInjector
from .servo import VirtualServo

_CLEAR_KEY = bytes([0x01, 0x44, 0x58, 0x4C, 0x22])


def parse_motor_spec(text: str, tables: ModuleType = dxl_tables) -> dict[int, str]:
    """'1:xl430-w250,2:xl330-m288' -> {1: 'xl430-w250', 2: 'xl330-m288'}, with one-line errors; models are looked
    up in `tables` (a control-table module: Dynamixel's, or feetech_tables)."""
    out: dict[int, str] = {}
    example = next(iter(tables.MODELS))
    for part in filter(None, (s.strip() for s in text.split(","))):
        ident, sep, model = part.partition(":")
        if not sep or not ident.strip().isdecimal():
            raise ValueError(f"bad motor entry {part!r}: expected ID:MODEL, e.g. 1:{example}")
        motor_id = int(ident)
        # the model's ID register: Dynamixel ids go to 252 (253 is reserved), Feetech's to 253; 254 is broadcast
        id_reg = tables.get_model(model.strip()).registers["ID"]  # raises UnknownModelError naming the model
        if not id_reg.min_value <= motor_id <= id_reg.max_value:
            raise ValueError(f"motor id {motor_id} is outside {id_reg.min_value}..{id_reg.max_value}, the ids a "
                             f"{model.strip().lower()} can have")
        if motor_id in out:
            raise ValueError(f"motor id {motor_id} is listed twice")
        out[motor_id] = model.strip().lower()
    if not out:
        raise ValueError("no motors given")
    return out


class ServoChain:
    # what another servo family (feetech_chain.py) replaces: its control tables, servo model and packet parser
    tables: ModuleType = dxl_tables
    servo_class: type[VirtualServo] = VirtualServo
    parser_class: type = p.PacketParser

    def __init__(self, motors: Mapping[int, str] | str, *, baudrate: int = 1_000_000,
                 faults: FaultConfig | None = None, wire_timing: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        if isinstance(motors, str):
            motors = parse_motor_spec(motors, self.tables)
        self.clock = clock
        now = clock()
        self.servos: list[VirtualServo] = []
        for motor_id, model in motors.items():
            spec = self.tables.get_model(model)
            self.servos.append(self.servo_class(spec, motor_id, self.tables.baud_value(baudrate, spec), now))
        self.faults = FaultInjector(faults)
        self.wire_timing = wire_timing
        self.lock = threading.RLock()
        if faults is not None and faults.voltage is not None:
            self.set_supply(faults.voltage)
        self._parser = self.parser_class()
        self.packets_in = 0

    # ------------------------------------------------------------ test and GUI hooks
    def servo(self, motor_id: int) -> VirtualServo:
        for s in self.servos:
            if s.id == motor_id:
                return s
        raise KeyError(f"no emulated servo with id {motor_id}")

    def unplug(self, motor_id: int) -> None:
        with self.lock:
            self.servo(motor_id).plugged = False

    def replug(self, motor_id: int) -> None:
        """Plugging back in is a power-up: the servo reboots."""
        with self.lock:
            s = self.servo(motor_id)
            s.plugged = True
            s.reboot(self.clock())

    def set_faults(self, config: FaultConfig | None) -> None:
        with self.lock:
            self.faults = FaultInjector(config)
            if config is not None and config.voltage is not None:
                self.set_supply(config.voltage)

    def set_supply(self, volts: float, ids: Collection[int] | None = None) -> None:
        """The supply these servos see (a 12 V adapter on a 5 V arm): Present_Input_Voltage reads it, and a reboot
        keeps it, as it is the wire's voltage and not a register setting. Nothing else changes: real servos keep
        answering out of range (their Input Voltage error bit is not modelled)."""
        with self.lock:
            for s in self.servos:
                if ids is None or s.id in ids:
                    s.spec = replace(s.spec, supply_decivolts=int(round(volts * 10)))
                    s.set(s.VOLTAGE_REGISTER, s.spec.supply_decivolts)

    # ------------------------------------------------------------ the wire
    def handle(self, data: bytes, baudrate: int, line_free_in: float = 0.0) -> tuple[list[tuple[float, bytes]], float]:
        """Feed host bytes. The wire is half duplex: if it is still busy for `line_free_in` seconds (an earlier
        packet or reply still travelling), this data goes out after that. Returns ([(seconds from now until the
        reply has fully arrived, reply bytes)], seconds from now until the line is free again); all times are
        0 with the wire-timing model off."""
        with self.lock:
            now = self.clock()
            byte_time = 10.0 / baudrate  # 8N1: 10 bits a byte
            out: list[tuple[float, bytes]] = []
            t = max(0.0, line_free_in)
            for ins in self._parser.feed(data):
                self.packets_in += 1
                t += ins.wire_length * byte_time
                listeners = [s for s in self.servos
                             if s.plugged and self.tables.BAUD_TABLE.get(s.baud_value) == baudrate]
                for servo, reply, after in self._dispatch(ins, listeners, now):
                    start = t + servo.get("Return_Delay_Time") * 2e-6
                    damaged = self.faults.apply(reply)
                    t = start + len(reply) * byte_time
                    if damaged is not None:
                        out.append((t if self.wire_timing else 0.0, damaged))
                    if after:
                        after()
            return out, (t if self.wire_timing else 0.0)

    def _dispatch(self, ins: p.Instruction, listeners: list[VirtualServo], now: float):
        """Yields (servo, status packet, action to run after the reply is sent)."""
        unicast = [s for s in listeners if s.id == ins.id]
        target = unicast[0] if unicast else None
        if not ins.crc_ok:
            if target:
                yield target, p.build_status(target.id, p.ERR_CRC | target.status_error()), None
            return
        op, prm = ins.instruction, ins.params
        if op == p.PING:
            for s in (sorted(listeners, key=lambda s: s.id) if ins.id == p.BROADCAST_ID else unicast):
                fw = s.get("Firmware_Version")
                yield s, p.build_status(s.id, s.status_error(), struct.pack("<HB", s.spec.number, fw)), None
        elif op == p.READ and target and len(prm) == 4:
            addr, length = struct.unpack("<HH", prm)
            if target.get("Status_Return_Level") >= 1:
                err, data = target.read_bytes(addr, length, now)
                yield target, p.build_status(target.id, err | target.status_error(), data), None
        elif op == p.WRITE and len(prm) > 2:
            addr = prm[0] | prm[1] << 8
            for s in unicast if ins.id != p.BROADCAST_ID else listeners:
                old_id, level = s.id, s.get("Status_Return_Level")  # the reply follows the settings before the write
                err = s.write_bytes(addr, prm[2:], now)
                if target and level == 2:
                    yield s, p.build_status(old_id, err | s.status_error()), None
        elif op == p.REG_WRITE and target and len(prm) > 2:
            target.pending = (prm[0] | prm[1] << 8, prm[2:])
            yield from self._ack(target)
        elif op == p.ACTION:
            for s in unicast if ins.id != p.BROADCAST_ID else listeners:
                if s.pending:
                    s.write_bytes(*s.pending, now)
                    s.pending = None
            if target:
                yield from self._ack(target)
        elif op == p.REBOOT and target:
            yield target, p.build_status(target.id, target.status_error()), lambda s=target: s.reboot(now)
        elif op == p.FACTORY_RESET and target and len(prm) == 1:
            yield target, p.build_status(target.id, 0), lambda s=target: s.factory_reset(prm[0], now)
        elif op == p.CLEAR and target:
            if prm == _CLEAR_KEY and not target.torque_on:
                target.clear_multi_turn(now)
                yield from self._ack(target)
            else:
                yield target, p.build_status(target.id, p.ERR_RESULT_FAIL | target.status_error()), None
        elif op in (p.SYNC_READ, p.FAST_SYNC_READ) and len(prm) >= 5:
            addr, length = struct.unpack("<HH", prm[:4])
            by_id = {s.id: s for s in listeners if s.get("Status_Return_Level") >= 1}
            answering = [by_id[i] for i in prm[4:] if i in by_id]
            if op == p.SYNC_READ:
                for s in answering:
                    err, data = s.read_bytes(addr, length, now)
                    yield s, p.build_status(s.id, err | s.status_error(), data), None
            elif answering:
                blocks = []
                for s in answering:
                    err, data = s.read_bytes(addr, length, now)
                    blocks.append((err | s.status_error(), s.id, data.ljust(length, b"\0")))
                yield answering[-1], p.build_fast_status(blocks), None
        elif op == p.SYNC_WRITE and len(prm) > 4:
            addr, length = struct.unpack("<HH", prm[:4])
            by_id = {s.id: s for s in listeners}
            for k in range(4, len(prm) - length, length + 1):
                s = by_id.get(prm[k])
                if s:
                    s.write_bytes(addr, prm[k + 1:k + 1 + length], now)
        elif op == p.BULK_READ:
            by_id = {s.id: s for s in listeners}
            for k in range(0, len(prm) - 4, 5):
                motor_id, addr, length = prm[k], *struct.unpack("<HH", prm[k + 1:k + 5])
                if motor_id in by_id:
                    s = by_id[motor_id]
                    err, data = s.read_bytes(addr, length, now)
                    yield s, p.build_status(s.id, err | s.status_error(), data), None
        elif op == p.BULK_WRITE:
            by_id = {s.id: s for s in listeners}
            k = 0
            while k + 5 <= len(prm):
                motor_id, addr, length = prm[k], *struct.unpack("<HH", prm[k + 1:k + 5])
                if motor_id in by_id:
                    by_id[motor_id].write_bytes(addr, prm[k + 5:k + 5 + length], now)
                k += 5 + length
        elif target:
            yield target, p.build_status(target.id, p.ERR_INSTRUCTION | target.status_error()), None

    @staticmethod
    def _ack(servo: VirtualServo):
        if servo.get("Status_Return_Level") == 2:
            yield servo, p.build_status(servo.id, servo.status_error()), None
