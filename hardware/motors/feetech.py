"""FeetechBus: the MotorsBus on feetech-servo-sdk (`scservo_sdk`), for STS-series servos (the SO-101's STS3215).

The SDK builds and sends every instruction packet (FF FF ID LEN INSTR PARAMS ~SUM) and parses status packets;
sdk_bus.py adds registers by name, errors naming the motor and retries, as for Dynamixel. What differs here:
- the status error byte is a set of condition bits (feetech_tables.ERROR_NAMES): noted per motor in `alerts`,
  never a refusal; check_hardware() turns them into an error;
- EEPROM is guarded by Lock: a setting meant to stay (id, baud rate) is written with Lock 0, then Lock 1 again;
- scservo_sdk has no broadcast ping: one is sent through its own txPacket/rxPacket (every servo answers in turn).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scservo_sdk as scs

from . import feetech_tables
from .exchanges import Exchanges
from .feetech_tables import describe_error
from .motor_errors import HardwareAlertError
from .ports import FeetechPortHandler
from .sdk_bus import COMM_SUCCESS, SdkBus
from .tables import ModelSpec, Register

STATUS_OVERHEAD = 6  # FF FF ID LEN ERR ... SUM
_ID, _ERROR = 2, 4  # where a status packet holds them (the SDK's PKT_ID, PKT_ERROR)


class FeetechBus(SdkBus):
    family = "Feetech"
    tables = feetech_tables
    port_class = FeetechPortHandler
    status_overhead = STATUS_OVERHEAD
    # scservo_sdk's PortHandler.getCFlagBaud list
    sdk_bauds = frozenset({4_800, 9_600, 14_400, 19_200, 38_400, 57_600, 115_200, 128_000, 250_000, 500_000,
                           1_000_000})
    max_id = 253

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.alerts: dict[str, int] = {}  # motor -> condition bits of its last status packet, when any

    def _packet_handler(self):
        return scs.PacketHandler(0)  # protocol_end 0: the STS series' little-endian words

    def _make_exchanges(self) -> Exchanges:
        return Exchanges(self._ph, self.stats, rx=self._ph.rxPacket, id_index=_ID, error_index=_ERROR,
                         codes=(scs.COMM_RX_TIMEOUT, scs.COMM_RX_CORRUPT))

    def _new_read_group(self, reg: Register) -> scs.GroupSyncRead:
        return scs.GroupSyncRead(self._require_port(), self._ph, reg.address, reg.size)

    def _new_write_group(self, reg: Register) -> scs.GroupSyncWrite:
        return scs.GroupSyncWrite(self._require_port(), self._ph, reg.address, reg.size)

    def _check_status(self, error: int, label: str, register: str) -> None:
        self._note(label, error)

    def _note_status(self, motor_id: int, error: int) -> None:
        name = self._names_by_id.get(motor_id, f"id {motor_id}")
        self._note(self._label(name), error)

    def _note(self, label: str, error: int) -> None:
        if error:
            self.alerts[label] = error
        else:
            self.alerts.pop(label, None)

    def _broadcast_ping(self) -> dict[int, int] | None:
        ids, _ = self.ping_replies()
        found = {}
        for i in sorted(set(ids)):
            number = self.model_number(i)
            if number is not None:
                found[i] = number
        return found or None

    def ping_replies(self, max_id: int | None = None) -> tuple[list[int], int]:
        """One broadcast ping: the id of every clean status packet, in arrival order (an id twice: two motors
        share it), and how many arrived broken (replies that collided, or a noisy cable). Every servo answers in
        turn; the wait has room for ids up to max_id (default all)."""
        port = self._require_port()
        packet = [0] * 6
        packet[scs.PKT_ID] = scs.BROADCAST_ID
        packet[scs.PKT_LENGTH] = 2
        packet[scs.PKT_INSTRUCTION] = scs.INST_PING
        if self._ph.txPacket(port, packet) != COMM_SUCCESS:
            return [], 0
        top = self.max_id if max_id is None else max_id
        port.setPacketTimeout(STATUS_OVERHEAD * (top + 1))  # room for every id to answer
        ids: list[int] = []
        garbled = 0
        while True:
            pkt, result = self._ph.rxPacket(port)
            if result == COMM_SUCCESS:
                ids.append(pkt[_ID])
            elif result == scs.COMM_RX_CORRUPT and port.packet_timeout != 0:
                garbled += 1  # a whole packet with a bad checksum is skipped, not the end
            else:
                if result == scs.COMM_RX_CORRUPT and pkt:
                    garbled += 1  # cut short by the end of the wait
                break  # the time is up
        return ids, garbled

    def model_number(self, motor_id: int) -> int | None:
        """Model_Number read from one id (an STS servo's ping does not carry it), or None without an answer."""
        data, result, _ = self._ph.readTxRx(self._require_port(), motor_id, 3, 2)
        return int.from_bytes(bytes(data), "little") if result == COMM_SUCCESS else None

    # ---------------------------------------------------------------- Feetech specifics
    def torque(self, enabled: bool, motors: Sequence[str] | None = None) -> None:
        """Torque and the EEPROM lock together, as lerobot does: torque on locks, torque off unlocks."""
        names = list(motors) if motors is not None else list(self.motors)
        self.sync_write("Torque_Enable", np.full(len(names), int(enabled)), names)
        self.sync_write("Lock", np.full(len(names), int(enabled)), names)

    def _write_eeprom(self, spec: ModelSpec, motor_id: int, register: str, value: int, *, reached_at: int,
                      bps: int | None = None) -> None:
        """Unlock, write, lock again (where the motor now answers): with Lock 1 the value would not be saved."""
        self.write_id("Torque_Enable", motor_id, 0, spec.name)
        self.write_id("Lock", motor_id, 0, spec.name)
        self.write_id(register, motor_id, value, spec.name)
        if bps is not None:
            self.set_baudrate(bps)
        self.write_id("Lock", reached_at, 1, spec.name)

    def hardware_errors(self, motors: Sequence[str] | None = None) -> dict[str, int]:
        """The Status bits of each motor that reports a condition (empty dict = all healthy)."""
        names = self._names(motors)
        bits = self.sync_read("Status", names)
        return {n: int(b) for n, b in zip(names, bits, strict=True) if b}

    def check_hardware(self, motors: Sequence[str] | None = None) -> None:
        """Raise HardwareAlertError naming the first motor that reports a condition, and the condition."""
        for name, bits in self.hardware_errors(motors).items():
            raise HardwareAlertError(f"port {self.port}: {self._label(name)} reports {describe_error(bits)}",
                                     port=self.port, motor=name, bits=bits)


__all__ = ["FeetechBus"]
