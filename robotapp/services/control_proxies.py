"""The control process's Session and virtual hand as the window's pages use them (ProcessRigHost.session and
.virtual_leader): reads answer from the state the control process last sent, commands are sent at once, and a
command the session answers later gives a Future, as in-process."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np

from robotapp.core.modes import Snapshot


class RemoteSession:
    """The control process's Session as the pages use it: commands give Futures (wait=True waits for them)."""

    def __init__(self, host):
        self._host = host
        self.recording = None
        self.source = None
        self.mode = None

    def update(self, st: dict) -> None:
        self.recording = True if st.get("recording") else None
        snap = st.get("snapshot")
        self.mode = snap.mode if snap is not None else None
        frame = st.get("source_frame")
        if self.source is not None and frame is not None and hasattr(self.source, "frame"):
            self.source.frame = frame  # the replay's progress, shown by the window

    def snapshot(self) -> Snapshot | None:
        return self._host.snapshot()

    def _command(self, name: str, *args, wait: bool = True, timeout: float = 5.0, **kwargs):
        fut = self._host._send(f"session.{name}", *args, wait=False, **kwargs)
        return fut.result(timeout) if wait else fut

    def teleop(self, *, align: bool = False, **kw):
        return self._command("teleop", align=align, **kw)

    def hold(self, **kw):
        return self._command("hold", **kw)

    def idle(self, **kw):
        return self._command("idle", **kw)

    def clear_estop(self, **kw):
        return self._command("clear_estop", **kw)

    def next_episode(self, **kw):
        return self._command("next_episode", **kw)

    def rerecord(self, **kw):
        return self._command("rerecord", **kw)

    def stop_recording(self, **kw):
        return self._command("stop_recording", **kw)

    def run_source(self, mode, source, on_done=None, **kw):
        """The source (a ReplaySource: plain arrays) is copied to the control process; its progress comes back."""
        if on_done is not None:
            raise ValueError("run_source: on_done cannot cross to the control process")
        self.source = source
        return self._command("run_source", mode, source, **kw)

    def estop(self, reason: str = "E-STOP pressed") -> None:
        self._host.estop(reason)

    def heartbeat(self) -> None:
        self._host.heartbeat()


class RemoteLeader:
    """The virtual hand (VirtualLeader) in the control process: its pose as last sent, its moves sent at once."""

    def __init__(self, host):
        self._host = host
        self._st: dict = {}
        self._taken = 0  # the id of the last command that took the hand from the demonstrator
        self.joint_names: list[str] = []
        self.units: list[str] = []

    def update(self, st: dict, seen: int = 0) -> None:
        if seen < self._taken:  # sent before the control process took the hand: not demonstrating any more
            st = {**st, "demonstrating": False}
        self._st = st
        self.joint_names, self.units = st["joint_names"], st["units"]

    def _take(self, path: str, *args, **kwargs) -> None:
        """A move of the hand: the demonstrator stops at once, here as there."""
        self._st = {**self._st, "demonstrating": False}
        self._taken = float("inf")  # until its id is known: a state arriving meanwhile predates it
        self._host._send(path, *args, reply=False, **kwargs)
        self._taken = self._host.last_sent

    def angles(self) -> np.ndarray:
        return np.array(self._st.get("angles", ()), dtype=float)

    def positions(self) -> np.ndarray:
        return np.array(self._st.get("positions", ()), dtype=float)

    def unit_ranges(self) -> np.ndarray:
        return np.array(self._st.get("unit_ranges", ()), dtype=float)

    @property
    def demonstrating(self) -> bool:
        return bool(self._st.get("demonstrating"))

    def demo_progress(self) -> tuple[float, float]:
        return tuple(self._st.get("demo_progress", (0.0, 0.0)))

    def set_position(self, index: int, value: float) -> None:
        self._take("leader.set_position", index, value)

    def jog(self, index: int, delta: float) -> None:
        self._take("leader.jog", index, delta)

    def home(self, now: bool = False) -> None:
        self._take("leader.home", now=now)

    def release(self) -> None:
        self._take("leader.release")

    def start_demonstrator(self) -> Future:
        return self._host._send("leader.start_demonstrator")

    def reset_world(self, seed: int) -> Future:
        return self._host._send("leader.reset_world", seed)
