"""RigHost: the desktop app's one open rig and its Session, opened, closed and commanded off the caller's thread.

A window asks (open this rig, close it, start a recording) and gets a Future; it reads `state`, the snapshot,
the newest camera frames and the queued events on its own timers. Nothing here makes the caller wait on
hardware: opening a rig (ports, calibration, the virtual world) and creating a dataset run on one worker thread,
in order, so an open never races a close."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from hardware.paths import user_data_dir
from hardware.rig_config import rig_path
from robotapp.core.events import Event, Kind
from robotapp.core.field_error import raise_first
from robotapp.core.modes import SessionConfig, Snapshot
from robotapp.core.observation import open_rig_writer
from robotapp.core.rig_opener import VIRTUAL, is_virtual_rig, open_rig
from robotapp.core.session import Session
from robotapp.services.record_request import RecordRequest

HEARTBEAT_TIMEOUT_S = 1.5  # the window stopped calling heartbeat(): an active follower is held


def settings_path() -> Path:
    """Where the window keeps its settings (an INI file beside the rig configs, so tests stay hermetic)."""
    return user_data_dir() / "gui.ini"


def saved_rig_exists(name: str | None) -> bool:
    return bool(name) and not is_virtual_rig(name) and rig_path(name).exists()


def drain(events: deque) -> list:
    """Everything queued so far, oldest first (popleft is thread-safe; another thread may append meanwhile)."""
    out = []
    while events:
        try:
            out.append(events.popleft())
        except IndexError:
            break
    return out


def default_dataset_dir() -> Path:
    return user_data_dir() / "datasets"


class RigHost:
    def __init__(self, config: SessionConfig | None = None, virtual_options: dict | None = None):
        self.config = config or SessionConfig(heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S)
        self.virtual_options = dict(virtual_options or {})
        self._exec = ThreadPoolExecutor(1, thread_name_prefix="rig-host")
        self._lock = threading.Lock()
        self._events: deque[Event] = deque(maxlen=1000)
        self._unsubscribe = None
        self.state = "closed"  # closed | opening | open | closing | failed
        self.rig_name = ""
        self.error = ""  # why the last open failed, one line
        self.rig = None
        self.session: Session | None = None
        self.virtual_leader = None  # VirtualLeader on the virtual rig

    # ------------------------------------------------------------------ lifecycle (Futures)
    def open(self, name: str = VIRTUAL) -> Future:
        """Close what is open, then open rig `name` and start its session."""
        with self._lock:
            self.state, self.rig_name, self.error = "opening", name, ""
        return self._exec.submit(self._open, name)

    def close(self) -> Future:
        with self._lock:
            if self.state == "open":
                self.state = "closing"
        return self._exec.submit(self._close)

    def shutdown(self, timeout: float = 30.0) -> None:
        """At exit: finish a recording's save, close the rig, stop the worker (blocks up to `timeout`)."""
        with contextlib.suppress(Exception):
            self.close().result(timeout)
        self._exec.shutdown(wait=False, cancel_futures=True)

    def _open(self, name: str) -> None:
        self._close()
        with self._lock:
            self.state, self.rig_name = "opening", name
        try:
            opts = self.virtual_options if is_virtual_rig(name) else {}
            rig = open_rig(name, **opts)
        except Exception as e:
            with self._lock:
                self.state, self.error = "failed", f"could not open rig {name!r}: {e}"
            raise
        session = Session(rig, self.config)
        self._unsubscribe = session.events.subscribe(self._events.append)  # deque.append is thread-safe
        session.start()
        leader = None
        if rig.sim is not None:
            from robotapp.services.virtual_leader import VirtualLeader

            leader = VirtualLeader(rig.sim, rig.leader)
        with self._lock:
            self.rig, self.session, self.virtual_leader, self.state = rig, session, leader, "open"
        self._events.append(Event(Kind.INFO, f"rig {name!r} open"))

    def _close(self) -> None:
        with self._lock:
            rig, session, leader = self.rig, self.session, self.virtual_leader
            self.rig = self.session = self.virtual_leader = None
            if self.state != "failed":
                self.state = "closing" if rig is not None else "closed"
        try:
            if leader is not None:
                leader.close()
            if session is not None:
                session.close()
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None
            if rig is not None:
                rig.close()
        finally:
            with self._lock:
                if self.state != "failed":
                    self.state = "closed"

    # ------------------------------------------------------------------ reads (any thread, never wait)
    @property
    def is_open(self) -> bool:
        return self.state == "open" and self.session is not None

    @property
    def is_virtual(self) -> bool:
        rig = self.rig
        return rig is not None and rig.sim is not None

    def snapshot(self) -> Snapshot | None:
        session = self.session
        return session.snapshot() if session is not None else None

    def joint_names(self) -> list[str]:
        rig = self.rig
        return list(rig.follower.names) if rig is not None else []

    def joint_units(self) -> list[str]:
        """The unit of each joint's calibrated value: '%' for a gripper (0-100), '°' for the others."""
        rig = self.rig
        return ["%" if g else "°" for g in rig.follower.is_gripper] if rig is not None else []

    def camera_names(self) -> list[str]:
        rig = self.rig
        return list(rig.cameras) if rig is not None else []

    def frames(self) -> dict[str, tuple[np.ndarray | None, int]]:
        """The newest (RGB image, seq) of each camera; (None, -1) for one with no frame or in error."""
        rig = self.rig
        out = {}
        for name, cam in (rig.cameras.items() if rig is not None else ()):
            try:
                f = cam.read_latest()  # no timeout: returns or raises at once
                out[name] = (f.image, f.seq)
            except Exception:
                out[name] = (None, -1)
        return out

    def camera_sources(self) -> dict[str, str]:
        rig = self.rig
        if rig is None:
            return {}
        return {n: f"virtual:{n}" if rig.sim is not None else (c.source_label or n) for n, c in rig.cameras.items()}

    def create_dataset(self, root: str | Path) -> None:
        """A new, empty dataset for what the open rig records (its joints, cameras and fps)."""
        rig = self.rig
        if rig is None:
            raise RuntimeError("rig: open a rig first (the new dataset takes its joints and cameras)")
        open_rig_writer(root, rig, self.config.fps, resume=False, keep_empty=True).close()

    def drain_events(self) -> list[Event]:
        return drain(self._events)

    # ------------------------------------------------------------------ commands
    def estop(self, reason: str = "E-STOP pressed") -> bool:
        """Acts at once (Session.estop is made for any thread and bounds its wait on the bus to 50 ms)."""
        session = self.session
        if session is None:
            return False
        session.estop(reason)
        return True

    def heartbeat(self) -> None:
        session = self.session
        if session is not None:
            session.heartbeat()

    def start_recording(self, request: RecordRequest) -> Future:
        """Create or open the dataset and start the recording flow, on the worker (a new dataset probes the
        cameras and starts encoders: not for the GUI thread)."""
        return self._exec.submit(self._start_recording, request)

    def _start_recording(self, request: RecordRequest) -> None:
        session, rig = self.session, self.rig
        if session is None:
            raise RuntimeError("no rig is open")
        raise_first(request.problems(is_virtual=rig.sim is not None))
        scene = None
        if rig.sim is not None:
            from robotapp.core.scenes import DemonstratorScene
            from robotapp.eval.seeds import resume_seed

            seed, note = resume_seed(request.dataset, request.seed, request.episodes) if request.resume \
                else (request.seed, "")
            if note:
                self._events.append(Event(Kind.INFO, note))
            if request.demonstrator:
                self.virtual_leader.release()
                scene = DemonstratorScene(rig.sim, seed)
            else:
                scene = self.virtual_leader.reset_scene(seed)
        session.record(request.plan(), scene=scene, resume=request.resume,
                       align=request.align or request.demonstrator, wait=True, timeout=10.0)
