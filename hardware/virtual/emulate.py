"""`robotapp emulate`: serve emulated servos on a pseudo-terminal until interrupted, so any Dynamixel tool
(dynamixel-sdk scripts, lerobot, Dynamixel Wizard under a serial bridge) or Feetech tool (scservo_sdk, lerobot's
FeetechMotorsBus) can talk to a virtual arm. With a hand
(hand.py), commands read from stdin move the joints as a person would: a leader moved by hand, a calibration
sweep, a cable pulled out."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from hardware.thread_priority import BACKGROUND, raise_priority

from .chain import ServoChain
from .faults import FaultConfig
from .feetech_chain import FeetechChain
from .transports import PtyServer

PROTOCOLS = {"dynamixel": ServoChain, "feetech": FeetechChain}


def run_emulator(motors: str, baudrate: int = 1_000_000, *, wire_timing: bool = True,
                 faults: str | None = None, out: Callable[[str], None] = print,
                 stop: threading.Event | None = None, hand: bool = False, commands: TextIO | None = None,
                 protocol: str = "dynamixel") -> int:
    """hand: read hand commands (hardware/virtual/hand.py) from `commands` (default stdin), one a line; the joints
    start in the middle of their ranges. At the end of the commands the servos keep serving until stopped.
    protocol: the servos' family, 'dynamixel' (Protocol 2.0) or 'feetech' (STS series)."""
    chain = PROTOCOLS[protocol](motors, baudrate=baudrate, wire_timing=wire_timing,
                                faults=FaultConfig.parse(faults) if faults else None)
    stop = stop or threading.Event()
    the_hand = None
    if hand:
        from .hand import Hand

        the_hand = Hand(chain, out, stop)
        the_hand.power_up_at_middle()
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
        if the_hand is not None:
            out("hand: ready for commands on stdin (help lists them)")
            threading.Thread(target=_read_commands, args=(the_hand, commands or sys.stdin), name="hand",
                             daemon=True).start()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    injected = dict(chain.faults.injected)
    out(f"stopped after {chain.packets_in} instruction packets" + (f"; faults injected: {injected}" if injected else ""))
    return 0


def _read_commands(hand, commands: TextIO) -> None:
    # the hand takes the interpreter lock 100 times a second while it moves a joint: preempted at normal priority
    # while holding it, it would make the servos' thread wait for whatever program ran instead (thread_priority.py)
    raise_priority(BACKGROUND)
    for line in commands:
        if hand.stop.is_set():
            return
        hand.command(line)
