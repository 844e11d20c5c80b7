"""`robotapp emulate`: serve emulated servos on a pseudo-terminal until interrupted, so any Dynamixel tool
(dynamixel-sdk scripts, lerobot, Dynamixel Wizard under a serial bridge) can talk to a virtual arm."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from .chain import ServoChain
from .faults import FaultConfig
from .transports import PtyServer


def run_emulator(motors: str, baudrate: int = 1_000_000, *, wire_timing: bool = True,
                 faults: str | None = None, out: Callable[[str], None] = print,
                 stop: threading.Event | None = None) -> int:
    chain = ServoChain(motors, baudrate=baudrate, wire_timing=wire_timing,
                       faults=FaultConfig.parse(faults) if faults else None)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C and SIGTERM both stop it cleanly, even when started from a shell that ignores SIGINT in the
        # background (Python then installs no KeyboardInterrupt handler of its own)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    with PtyServer(chain) as server:
        out(f"port: {server.path}")
        ids = ", ".join(f"{s.id}:{s.spec.name}" for s in chain.servos)
        out(f"serving {len(chain.servos)} servos ({ids}) at {baudrate} bps, wire timing "
            f"{'on' if wire_timing else 'off'}; Ctrl-C to stop")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    injected = dict(chain.faults.injected)
    out(f"stopped after {chain.packets_in} instruction packets" + (f"; faults injected: {injected}" if injected else ""))
    return 0
