"""MotorMonitor: polls a bus on its own thread and keeps the latest health snapshot for a UI to read.

The UI thread only ever takes a copy of the snapshot under a lock; it never waits on the serial port."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from hardware.motors import DynamixelBus, Motor, MotorsError
from hardware.motors.tables import describe_hardware_error

KOCH_FOLLOWER = {
    "shoulder_pan": Motor(1, "xl430-w250"), "shoulder_lift": Motor(2, "xl430-w250"),
    "elbow_flex": Motor(3, "xl330-m288"), "wrist_flex": Motor(4, "xl330-m288"),
    "wrist_roll": Motor(5, "xl330-m288"), "gripper": Motor(6, "xl330-m288"),
}


@dataclass
class MotorRow:
    name: str
    id: int
    model: str
    position: int = 0
    temperature: int = 0
    voltage: float = 0.0
    hardware_error: str = "none"


@dataclass
class MonitorSnapshot:
    rows: list[MotorRow] = field(default_factory=list)
    polls: int = 0
    poll_hz: float = 0.0
    error: str = ""  # last error, one line, naming the motor
    stats: dict[str, int] = field(default_factory=dict)


class MotorMonitor:
    def __init__(self, bus: DynamixelBus, hz: float = 20.0):
        self.bus = bus
        self.period = 1.0 / hz
        self._lock = threading.Lock()
        self._snapshot = MonitorSnapshot(rows=[MotorRow(n, m.id, m.model) for n, m in bus.motors.items()])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="motor-monitor", daemon=True)

    def start(self) -> MotorMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def snapshot(self) -> MonitorSnapshot:
        with self._lock:
            s = self._snapshot
            return MonitorSnapshot([MotorRow(**vars(r)) for r in s.rows], s.polls, s.poll_hz, s.error, dict(s.stats))

    def _run(self) -> None:
        names = list(self.bus.motors)
        next_t = time.monotonic()
        t_start, polls = next_t, 0
        while not self._stop.is_set():
            error = ""
            try:
                pos = self.bus.sync_read("Present_Position", names)
                temp = self.bus.sync_read("Present_Temperature", names)
                volt = self.bus.sync_read("Present_Input_Voltage", names)
                hw = self.bus.sync_read("Hardware_Error_Status", names)
            except MotorsError as e:
                error, pos = str(e), None
            polls += 1
            with self._lock:
                s = self._snapshot
                if pos is not None:
                    for k, row in enumerate(s.rows):
                        row.position, row.temperature = int(pos[k]), int(temp[k])
                        row.voltage = float(volt[k]) / 10.0
                        row.hardware_error = describe_hardware_error(int(np.asarray(hw)[k]))
                s.polls, s.error, s.stats = polls, error, self.bus.stats.as_dict()
                s.poll_hz = polls / max(1e-9, time.monotonic() - t_start)
            next_t += self.period  # deadline pacing: no drift from accumulated sleeps
            self._stop.wait(max(0.0, next_t - time.monotonic()))


class VirtualFollower:
    """An emulated Koch v1.1 follower on an in-process port, with a monitor: what the app shows before any
    hardware is plugged in. (The full virtual rig with its MuJoCo world replaces this in a later issue.)"""

    def __init__(self):
        from hardware.virtual import ServoChain, serve_inprocess

        self.chain = ServoChain({m.id: m.model for m in KOCH_FOLLOWER.values()})
        self.link = serve_inprocess(self.chain)
        self.bus = DynamixelBus(self.link.url, KOCH_FOLLOWER)
        self.bus.connect()
        self.monitor = MotorMonitor(self.bus).start()

    def close(self) -> None:
        self.monitor.stop()
        self.bus.disconnect()
        self.link.close()
