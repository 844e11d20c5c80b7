"""pyserial URL handler for `emu://<name>`: pyserial imports `protocol_<scheme>` from the packages listed in
serial.protocol_handler_packages (hardware.virtual adds itself). The Serial class below is what
`serial.serial_for_url("emu://name")` returns: a port whose other end is an in-process ServoChain."""

from __future__ import annotations

import time

from serial import PortNotOpenError, SerialBase, SerialException

from .transports import attach


class Serial(SerialBase):
    def open(self):
        if self._port is None:
            raise SerialException("port must be configured before it can be used")
        if self.is_open:
            raise SerialException("port is already open")
        name = str(self._port).split("://", 1)[-1]
        try:
            self._link = attach(name)
        except LookupError as e:
            raise SerialException(f"could not open port {self._port}: [Errno 2] No such file or directory ({e})") \
                from None
        except BlockingIOError as e:
            raise SerialException(f"could not open port {self._port}: [Errno 16] Device or resource busy ({e})") \
                from None
        self.is_open = True

    def close(self):
        if self.is_open:
            self._link.in_use = False
            self.is_open = False

    def _reconfigure_port(self, *args, **kwargs):
        pass  # the baud rate is read on every write

    @property
    def in_waiting(self):
        self._check()
        return self._link.available()

    def read(self, size=1):
        self._check()
        data = self._link.read(size)
        if len(data) >= size or self._timeout == 0:
            return data
        deadline = None if self._timeout is None else time.perf_counter() + self._timeout
        while len(data) < size and (deadline is None or time.perf_counter() < deadline):
            nxt = self._link.next_ready()
            if nxt is None:
                break  # nothing in flight: nothing will ever arrive
            time.sleep(max(0.0, nxt - time.perf_counter()))
            data += self._link.read(size - len(data))
        return data

    def write(self, data):
        self._check()
        self._link.write(bytes(data), self._baudrate)
        return len(data)

    def reset_input_buffer(self):
        self._check()
        self._link.clear_ready()

    def reset_output_buffer(self):
        self._check()

    def flush(self):
        self._check()

    def _check(self):
        if not self.is_open:
            raise PortNotOpenError()
