"""FeetechChain: emulated Feetech STS servos on one wire, answering the Feetech protocol byte for byte (ping, read,
write, reg write/action, sync read, sync write). The wire, its timing, the transports and fault injection are the
Dynamixel chain's (chain.py, transports.py, faults.py); the servos are feetech_servo.py's.

What a real STS servo does and this one does too: a packet with a bad checksum gets no answer at all; a broadcast
ping is answered by every servo in turn (id order); with Status_Return_Level 0 only ping and read answer; a status
packet carries the servo's condition bits, and a write is answered from the id it had before the write."""

from __future__ import annotations

from hardware.motors import feetech_tables

from . import feetech_protocol as fp
from .chain import ServoChain
from .feetech_servo import FeetechServo
from .protocol import Instruction


class FeetechChain(ServoChain):
    tables = feetech_tables
    servo_class = FeetechServo
    parser_class = fp.PacketParser

    def _dispatch(self, ins: Instruction, listeners: list, now: float):
        """Yields (servo, status packet, action to run after the reply is sent)."""
        if not ins.crc_ok:
            return  # a corrupt instruction is dropped silently
        unicast = [s for s in listeners if s.id == ins.id]
        target = unicast[0] if unicast else None
        broadcast = ins.id == fp.BROADCAST_ID
        op, prm = ins.instruction, ins.params
        if op == fp.PING:
            for s in (sorted(listeners, key=lambda s: s.id) if broadcast else unicast):
                yield s, fp.build_status(s.id, s.status_error()), None
        elif op == fp.READ and target and len(prm) == 2:
            err, data = target.read_bytes(prm[0], prm[1], now)
            yield target, fp.build_status(target.id, err, data), None
        elif op == fp.WRITE and len(prm) >= 2:
            for s in listeners if broadcast else unicast:
                old_id, level = s.id, s.get("Status_Return_Level")
                s.write_bytes(prm[0], prm[1:], now)
                if not broadcast and level >= 1:
                    yield s, fp.build_status(old_id, s.status_error()), None
        elif op == fp.REG_WRITE and len(prm) >= 2:
            for s in listeners if broadcast else unicast:
                s.pending = (prm[0], prm[1:])
                if not broadcast:
                    yield from self._ack(s)
        elif op == fp.ACTION:
            for s in listeners if broadcast else unicast:
                if s.pending:
                    s.write_bytes(*s.pending, now)
                    s.pending = None
                if not broadcast:
                    yield from self._ack(s)
        elif op == fp.SYNC_READ and broadcast and len(prm) >= 3:
            by_id = {s.id: s for s in listeners}
            for i in prm[2:]:  # each answers in the order the host listed them
                if i in by_id:
                    err, data = by_id[i].read_bytes(prm[0], prm[1], now)
                    yield by_id[i], fp.build_status(i, err, data), None
        elif op == fp.SYNC_WRITE and broadcast and len(prm) >= 2:
            addr, length = prm[0], prm[1]
            by_id = {s.id: s for s in listeners}
            for k in range(2, len(prm) - length, length + 1):
                if prm[k] in by_id:
                    by_id[prm[k]].write_bytes(addr, prm[k + 1:k + 1 + length], now)
        # any other instruction: the STS firmware ignores it

    @staticmethod
    def _ack(servo):
        if servo.get("Status_Return_Level") >= 1:
            yield servo, fp.build_status(servo.id, servo.status_error()), None
