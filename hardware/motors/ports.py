"""The vendor SDKs' PortHandlers (dynamixel-sdk's, and feetech-servo-sdk's, which is its fork) with two changes that matter in practice:

- ports open through pyserial's URL mechanism (serial.serial_for_url), so besides /dev/ttyUSB0 and COM3 a bus can
  sit on `socket://host:port` or `rfc2217://` serial bridges, and on the in-process servo emulator's `emu://name`;
  plain device paths behave exactly as with the SDK's own handler;
- the packet timeout uses the port's real latency timer (FTDI adapters are commonly set to 1 ms; the SDK
  hard-codes 16 ms), and the port is opened exclusively so a second program gets a clear "busy" error.
"""

from __future__ import annotations

import scservo_sdk
import serial
from dynamixel_sdk import PortHandler


class _UrlPort:
    """The shared changes; mixed in before either SDK's PortHandler."""

    def __init__(self, port_name: str, latency_ms: float = 16.0):
        super().__init__(port_name)
        self.latency_ms = latency_ms

    def setupPort(self, cflag_baud):  # noqa: N802 (SDK naming)
        if self.is_open:
            self.closePort()
        kwargs = {"exclusive": True} if "://" not in self.port_name else {}
        self.ser = serial.serial_for_url(self.port_name, baudrate=self.baudrate, bytesize=serial.EIGHTBITS,
                                         timeout=0, **kwargs)
        self.is_open = True
        self.ser.reset_input_buffer()
        self.tx_time_per_byte = (1000.0 / self.baudrate) * 10.0
        return True

    def setPacketTimeout(self, packet_length):  # noqa: N802
        self.packet_start_time = self.getCurrentTime()
        self.packet_timeout = self.tx_time_per_byte * packet_length + self.latency_ms * 2.0 + 2.0


class UrlPortHandler(_UrlPort, PortHandler):
    """dynamixel-sdk's port."""


class FeetechPortHandler(_UrlPort, scservo_sdk.PortHandler):
    """feetech-servo-sdk's port. Its clearPort only flushes output; like dynamixel-sdk's, this one drops what has
    arrived, so a late reply left from a failed attempt is never read as the answer to the next instruction."""

    def clearPort(self):  # noqa: N802
        self.ser.reset_input_buffer()
