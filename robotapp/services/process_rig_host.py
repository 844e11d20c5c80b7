"""ProcessRigHost: the window's RigHost, with the rig and its Session in the control process (control_process.py).

It has RigHost's face (open/close Futures, state, snapshot(), frames(), drain_events(), estop(), heartbeat(),
start_recording(), `session` and `virtual_leader`), so the pages do not know where the loop runs. Reads never
wait: they answer from the newest state the control process sent (50 times a second). Commands are sent at once;
one that the session answers later gives a Future, as in-process.

If the control process dies, the host turns "failed" with one line that says so, every command still waiting
fails, and the next open starts a new process. The follower then gets no more commands: a Dynamixel servo keeps
its last goal under torque, i.e. it holds."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import multiprocessing
import os
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from hardware.discovery import register_virtual_port, unregister_virtual_port
from robotapp.core.events import Event, Kind
from robotapp.core.modes import SessionConfig, Snapshot
from robotapp.core.rig_opener import VIRTUAL
from robotapp.services.control_proxies import RemoteLeader, RemoteSession
from robotapp.services.frame_slots import FrameReader
from robotapp.services.record_request import RecordRequest
from robotapp.services.rig_host import HEARTBEAT_TIMEOUT_S, drain


def window_host(config: SessionConfig | None = None, virtual_options: dict | None = None):
    """The window's host: the rig in a control process of its own, unless ROBOTAPP_CONTROL_PROCESS=0 keeps it in
    the window's process (for debugging it with one debugger)."""
    if os.environ.get("ROBOTAPP_CONTROL_PROCESS", "1") == "0":
        from robotapp.services.rig_host import RigHost

        return RigHost(config, virtual_options)
    return ProcessRigHost(config, virtual_options)


class ProcessRigHost:
    rig = None  # the rig lives in the control process

    def __init__(self, config: SessionConfig | None = None, virtual_options: dict | None = None):
        self.config = config or SessionConfig(heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S)
        self.virtual_options = dict(virtual_options or {})
        self._lock = threading.Lock()  # the process, the pipe's sending end, the pending replies
        self._process = None
        self._conn = None
        self._receiver: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, Future] = {}
        self._lifecycle_id = 0  # state older than the last open/close is not shown (it predates the command)
        self._st: dict = {}
        self._events: deque[Event] = deque(maxlen=1000)
        self._frames = FrameReader()
        self._frames_lock = threading.Lock()
        self._generation = 0
        self._ports: dict[str, object] = {}  # the control process's virtual ports, as last mirrored here
        self.last_sent = 0  # the id of the newest command sent
        self.state = "closed"
        self.rig_name = ""
        self.error = ""
        self.session: RemoteSession | None = None
        self.virtual_leader: RemoteLeader | None = None

    # ------------------------------------------------------------------ the process
    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def _ensure_process(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        from robotapp.services import control_process

        ctx = multiprocessing.get_context("spawn")  # a fork of a process running Qt's threads is unsafe
        ours, theirs = ctx.Pipe(duplex=True)
        # not a daemon: it has children of its own (the virtual cameras' renderer). It ends when told to, or when
        # this process is gone (its pipe closes); at exit it is told first, before multiprocessing joins it
        process = ctx.Process(target=control_process.main, args=(theirs, self.config, self.virtual_options),
                              name="robotapp-control")
        process.start()
        atexit.register(self.shutdown)
        theirs.close()
        self._process, self._conn = process, ours
        self._receiver = threading.Thread(target=self._receive, args=(process, ours), name="control-receive",
                                          daemon=True)
        self._receiver.start()

    def _receive(self, process, conn) -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            except Exception as e:  # noqa: BLE001 - a message that cannot be read ends this link
                self.error = f"control process: unreadable message ({type(e).__name__}: {e})"
                break
            if message[0] == "reply":
                _, req_id, ok, value = message
                with self._lock:
                    fut = self._pending.pop(req_id, None)
                if fut is not None and not fut.done():
                    fut.set_result(value) if ok else fut.set_exception(value)
            elif message[0] == "state":
                self._apply(message[1])
        self._lost(process)

    def _lost(self, process) -> None:
        process.join(1.0)
        with self._lock:
            if self._process is not process:
                return
            expected = self._process_ending
            self._process = self._conn = None
            pending, self._pending = self._pending, {}
        was_open = self.state in ("open", "opening", "closing")
        if not expected:
            code = process.exitcode
            self.error = (f"the control process (which drives the rig) ended unexpectedly (exit code {code}); "
                          "the follower holds its last goal: open the rig again")
            self.state = "failed" if was_open or self.state == "failed" else "closed"
            self._events.append(Event(Kind.ERROR, self.error))
        else:
            self.state = "closed"
        self.session = self.virtual_leader = None
        self._st = {}
        self._mirror_ports([])
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(RuntimeError(self.error or "the control process has ended"))
        with self._frames_lock:
            self._frames.close()

    _process_ending = False

    # ------------------------------------------------------------------ sending
    def _send(self, path: str, *args, reply: bool = True, **kwargs) -> Future | None:
        fut: Future | None = Future() if reply else None
        with self._lock:
            conn = self._conn
            if conn is None:
                if fut is None:
                    return None
                fut.set_exception(RuntimeError(self.error or "no rig is open"))
                return fut
            req_id = self.last_sent = next(self._ids)
            if fut is not None:
                self._pending[req_id] = fut
            try:
                conn.send((req_id if fut is not None else -req_id, path, args, kwargs))
            except (OSError, ValueError) as e:
                self._pending.pop(req_id, None)
                if fut is not None:
                    fut.set_exception(RuntimeError(f"the control process is gone ({e})"))
        return fut

    def _apply(self, st: dict) -> None:
        with self._lock:
            if st.get("seen", 0) >= self._lifecycle_id and "state" in st:
                self.state, self.rig_name, self.error = st["state"], st["rig_name"], st["error"]
        self._events.extend(st.get("events", ()))
        self._mirror_ports(st.get("virtual_ports"))
        generation = st.get("generation", 0)
        if generation != self._generation:
            self._generation = generation
            self.session = RemoteSession(self) if generation else None
            self.virtual_leader = RemoteLeader(self) if generation and "leader" in st else None
        if self.session is not None:
            self.session.update(st)
        if self.virtual_leader is not None and "leader" in st:
            self.virtual_leader.update(st["leader"], st.get("seen", 0))
        self._st = st

    def _mirror_ports(self, ports) -> None:
        """The virtual rig's "USB adapters" are registered where its emulated servos run; the window's Rig page
        lists ports here, so they are registered here too (on a change only: the Identify flow's unplug of one
        holds until the control process's own list changes)."""
        if ports is None:
            return
        now = {p.device: p for p in ports}
        if now == self._ports:
            return
        for device in self._ports.keys() - now.keys():
            unregister_virtual_port(device)
        for device in now.keys() - self._ports.keys():
            register_virtual_port(now[device])
        self._ports = now

    # ------------------------------------------------------------------ lifecycle (Futures)
    def open(self, name: str = VIRTUAL) -> Future:
        with self._lock:
            self._process_ending = False
        self._ensure_process()
        self._begin("opening", name)
        return self._send("open", name)

    def _begin(self, state: str, name: str) -> None:
        """A state change asked for here: state messages sent before the control process took it are ignored."""
        with self._lock:
            self._lifecycle_id = next(self._ids)
            self.state, self.rig_name, self.error = state, name, ""

    def close(self) -> Future:
        if self._conn is None:
            fut: Future = Future()
            fut.set_result(None)
            return fut
        if self.state == "open":
            self._begin("closing", self.rig_name)
        return self._send("close")

    def shutdown(self, timeout: float = 30.0) -> None:
        """At exit: the control process saves a recording's current episode, closes the rig and ends."""
        process, conn = self._process, self._conn
        if process is None:
            return
        with self._lock:
            self._process_ending = True
            with contextlib.suppress(OSError, ValueError):
                conn.send("exit")
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join(5)
        receiver = self._receiver
        if receiver is not None and receiver is not threading.current_thread():
            receiver.join(5)  # it has seen the pipe close: the state is "closed", every waiting command answered

    # ------------------------------------------------------------------ reads (never wait)
    @property
    def is_open(self) -> bool:
        return self.state == "open" and self.session is not None

    @property
    def is_virtual(self) -> bool:
        return bool(self._st.get("is_virtual")) and self.session is not None

    def snapshot(self) -> Snapshot | None:
        return self._st.get("snapshot") if self.session is not None else None

    def joint_names(self) -> list[str]:
        return list(self._st.get("joint_names", []))

    def joint_units(self) -> list[str]:
        return list(self._st.get("joint_units", []))

    def camera_names(self) -> list[str]:
        return list(self._st.get("camera_names", []))

    def camera_sources(self) -> dict[str, str]:
        return dict(self._st.get("camera_sources", {}))

    def frames(self) -> dict[str, tuple[np.ndarray | None, int]]:
        meta = self._st.get("frames", {})
        with self._frames_lock:
            out = self._frames.frames(meta)
            self._frames.forget({m[0] for m in meta.values() if m is not None})
        return out

    def drain_events(self) -> list[Event]:
        return drain(self._events)

    # ------------------------------------------------------------------ commands
    def estop(self, reason: str = "E-STOP pressed") -> bool:
        if self.session is None:
            return False
        self._send("estop", reason, reply=False)
        return True

    def heartbeat(self) -> None:
        if self.session is not None:
            self._send("heartbeat", reply=False)

    def create_dataset(self, root: str | Path) -> None:
        self._send("create_dataset", str(root)).result(120)

    def start_recording(self, request: RecordRequest) -> Future:
        return self._send("start_recording", request)

    def call_in_control(self, target: str, *args) -> Future:
        """Run `module:function`(host, *args) in the control process (benchmarks and tests drive its session)."""
        return self._send("call", target, *args)
