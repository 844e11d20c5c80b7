"""DynamixelBus: the MotorsBus on dynamixel-sdk (Protocol 2.0).

The SDK builds and sends every instruction packet and parses status packets. What every vendor-SDK bus adds
(registers by name, errors naming the motor, retries) lives in sdk_bus.py; here is what Protocol 2.0 adds: status
error numbers and the hardware-alert bit, Fast Sync Read, reboot and factory reset, Hardware_Error_Status.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from dynamixel_sdk import BROADCAST_ID, COMM_SUCCESS, GroupSyncRead, GroupSyncWrite, PacketHandler
from dynamixel_sdk.protocol2_packet_handler import ERRBIT_ALERT

from . import tables
from .bus import Motor
from .exchanges import STATUS_OVERHEAD
from .motor_errors import STATUS_ERROR_TEXT, ConfigError, HardwareAlertError, MotorStatusError
from .ports import UrlPortHandler
from .sdk_bus import SdkBus
from .tables import Register, describe_hardware_error


class DynamixelBus(SdkBus):
    family = "Dynamixel"
    tables = tables
    port_class = UrlPortHandler
    status_overhead = STATUS_OVERHEAD
    sdk_bauds = frozenset({9_600, 57_600, 115_200, 1_000_000, 2_000_000, 3_000_000, 4_000_000})  # not 4.5M

    def __init__(self, port: str, motors: Mapping[str, Motor] | None = None, baudrate: int = 1_000_000, *,
                 retries: int = 3, latency_ms: float = 16.0, fast_sync_read: bool = True):
        super().__init__(port, motors, baudrate, retries=retries, latency_ms=latency_ms)
        self.alerts: set[str] = set()  # motors whose last status packet carried the hardware-alert bit
        self.fast_sync_read = fast_sync_read and all(s.fast_sync_read for s in self._specs.values())

    def _packet_handler(self):
        return PacketHandler(2.0)

    def _new_read_group(self, reg: Register) -> GroupSyncRead:
        return GroupSyncRead(self._require_port(), self._ph, reg.address, reg.size)

    def _new_write_group(self, reg: Register) -> GroupSyncWrite:
        return GroupSyncWrite(self._require_port(), self._ph, reg.address, reg.size)

    def _receive_sync(self, group, port, ids, size):
        if not self.fast_sync_read:
            return super()._receive_sync(group, port, ids, size)
        if group.fastSyncReadTxPacket() != COMM_SUCCESS:
            return {}
        return self._exchanges.receive_fast(port, ids, size)

    def _broadcast_ping(self) -> dict[int, int] | None:
        data, result = self._ph.broadcastPing(self._require_port())
        return {i: v[0] for i, v in data.items()} if result == COMM_SUCCESS else None

    # ---------------------------------------------------------------- Protocol 2.0 extras
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

    def _note_status(self, motor_id: int, error: int) -> None:
        name = self._names_by_id.get(motor_id, f"id {motor_id}")
        (self.alerts.add if error & ERRBIT_ALERT else self.alerts.discard)(name)


__all__ = ["DynamixelBus", "Motor", "BROADCAST_ID"]
