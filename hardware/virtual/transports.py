"""How an emulated chain meets a host: a pseudo-terminal any process can open as a serial port, or an
in-process link that pyserial opens as `emu://<name>` (no threads, no syscalls: fast tests).

Both honour the chain's wire-timing model: a reply becomes readable only when it would have fully arrived at
the configured baud rate plus each servo's return delay."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
import termios
import threading
import time
import tty
from collections import deque
from itertools import count

from hardware.thread_priority import DEVICE, raise_priority

from .chain import ServoChain

# ------------------------------------------------------------------ in-process
_registry: dict[str, InProcessLink] = {}
_registry_lock = threading.Lock()
_names = count(1)


class InProcessLink:
    """Host end of an in-process wire; one host at a time, like a real port."""

    def __init__(self, chain: ServoChain, name: str):
        self.chain, self.name = chain, name
        self.in_use = False
        self._rx: deque[list] = deque()  # [ready_time, bytearray]
        self._line_free_at = 0.0  # half-duplex wire: when the last packet or reply has finished travelling

    @property
    def url(self) -> str:
        return f"emu://{self.name}"

    def write(self, data: bytes, baudrate: int) -> None:
        now = time.perf_counter()
        replies, busy = self.chain.handle(data, baudrate, self._line_free_at - now)
        self._line_free_at = now + busy
        for delay, reply in replies:
            self._rx.append([now + delay, bytearray(reply)])

    def available(self) -> int:
        now = time.perf_counter()
        return sum(len(c[1]) for c in self._rx if c[0] <= now)

    def read(self, size: int) -> bytes:
        now = time.perf_counter()
        out = bytearray()
        while self._rx and self._rx[0][0] <= now and len(out) < size:
            chunk = self._rx[0][1]
            take = min(size - len(out), len(chunk))
            out += chunk[:take]
            del chunk[:take]
            if not chunk:
                self._rx.popleft()
        return bytes(out)

    def next_ready(self) -> float | None:
        return self._rx[0][0] if self._rx else None

    def clear_ready(self) -> None:
        """Drop what has arrived; bytes still on the wire keep coming, as on a real line."""
        now = time.perf_counter()
        while self._rx and self._rx[0][0] <= now:
            self._rx.popleft()

    def close(self) -> None:
        with _registry_lock:
            _registry.pop(self.name, None)


def serve_inprocess(chain: ServoChain, name: str | None = None) -> InProcessLink:
    """Expose `chain` as emu://<name>; returns the link (its .url is the port name to give a bus)."""
    with _registry_lock:
        name = name or f"chain{next(_names)}"
        if name in _registry:
            raise ValueError(f"an emulated port named {name!r} already exists")
        link = _registry[name] = InProcessLink(chain, name)
    return link


def attach(name: str) -> InProcessLink:
    with _registry_lock:
        link = _registry.get(name)
        if link is None:
            raise LookupError(f"no emulated port emu://{name} in this process")
        if link.in_use:
            raise BlockingIOError(f"emu://{name} is busy: another bus has it open")
        link.in_use = True
        return link


# ------------------------------------------------------------------ pseudo-terminal
_TCGETS2 = 0x802C542A  # Linux: struct termios2 carries the numeric baud rate, custom rates included


def _pty_baudrate(fd: int) -> int:
    try:
        buf = fcntl.ioctl(fd, _TCGETS2, bytes(44))
        return struct.unpack_from("<I", buf, 40)[0]
    except OSError:
        speed = termios.tcgetattr(fd)[5]
        return {v: int(k[1:]) for k, v in vars(termios).items() if k[:1] == "B" and k[1:].isdigit()}.get(speed, 0)


class PtyServer:
    """Serves a chain on a pseudo-terminal; `path` (e.g. /dev/pts/7) opens like a USB serial adapter.
    The baud rate the host sets on the port is read back, so servos at another rate don't hear it."""

    def __init__(self, chain: ServoChain):
        self.chain = chain
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: a byte pipe both ways
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._line_free_at = 0.0
        self._thread = threading.Thread(target=self._serve, name=f"pty-servos {self.path}", daemon=True)

    def start(self) -> PtyServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _serve(self) -> None:
        raise_priority(DEVICE)  # the servos it emulates answer in microseconds, whatever the machine does
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            t0 = time.perf_counter()
            replies, busy = self.chain.handle(data, _pty_baudrate(self._slave), self._line_free_at - t0)
            self._line_free_at = t0 + busy
            for delay, reply in replies:
                _sleep_until(t0 + delay)
                os.write(self._master, reply)


def _sleep_until(deadline: float) -> None:
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return
        if left > 0.0015:
            time.sleep(left - 0.001)  # coarse sleep, then spin the last stretch for precision
