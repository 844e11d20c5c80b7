"""The setup flows for a window: each runs on its own thread and exposes state the window polls, so no bus is ever
touched from the window's thread. A flow that needs a physical step (unplug the arm, connect one motor) waits
until the window says the person did it; on the virtual rig the same click also performs the step.

Ports, cameras and motor scans are plain functions meant for a worker thread (the window runs them through a
Future); rig configs are checked field by field so the window can name the field at fault."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hardware.arms import load_profile
from hardware.discovery import SerialPortInfo, list_cameras, list_serial_ports
from hardware.motors import DynamixelBus
from hardware.motors.tables import model_name
from hardware.rig_config import ArmConfig, CameraConfig, RigConfig, rig_path, save_rig
from robotapp.core.field_error import FieldError, raise_first
from robotapp.setup import flows
from robotapp.setup.prompter import Prompter

VIRTUAL_SERIAL_PREFIX = "VIRTUAL-"


class FlowCancelled(RuntimeError):
    pass


class WindowPrompter(Prompter):
    """say() appends to a log the window shows; wait() blocks the flow's thread until proceed() or cancel()."""

    def __init__(self, actions: dict[str, Callable[[], None]] | None = None):
        self.actions = dict(actions or {})  # virtual rig: what "done" does to the emulated hardware
        self._lock = threading.Lock()
        self._log: list[str] = []
        self._pending: tuple[str, str | None] | None = None
        self._go = threading.Event()
        self._cancelled = False

    def say(self, text: str) -> None:
        with self._lock:
            self._log.append(text)

    def wait(self, instruction: str, action: str | None = None) -> None:
        with self._lock:
            self._go.clear()
            self._pending = (instruction, action)
        self._go.wait()
        with self._lock:
            self._pending = None
            if self._cancelled:
                raise FlowCancelled("cancelled")
            self._log.append(f"done: {instruction}")
        if action is not None and action in self.actions:
            self.actions[action]()

    def until_enter(self) -> threading.Event:
        return self._go

    def proceed(self) -> None:
        self._go.set()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
        self._go.set()

    def log(self) -> list[str]:
        with self._lock:
            return list(self._log)

    def pending(self) -> tuple[str, str | None] | None:
        with self._lock:
            return self._pending


@dataclass
class FlowStatus:
    state: str  # running, waiting (for the person), done, failed, cancelled
    log: list[str] = field(default_factory=list)
    instruction: str = ""
    action: str | None = None
    error: str = ""
    result: object = None


class FlowRun:
    """One setup flow on its own thread: `fn(prompter)` is a function of robotapp.setup.flows."""

    def __init__(self, fn: Callable[[WindowPrompter], object], prompter: WindowPrompter,
                 cleanup: Callable[[], None] | None = None, name: str = "setup-flow"):
        self.prompter = prompter
        self._fn, self._cleanup = fn, cleanup
        self._state, self._error, self._result = "running", "", None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def virtual(self) -> bool:
        return bool(self.prompter.actions)

    def _run(self) -> None:
        try:
            self._result = self._fn(self.prompter)
            self._state = "done"
        except FlowCancelled:
            self._state = "cancelled"
        except Exception as e:  # shown to the user as one line
            self._error, self._state = " ".join(str(e).split()) or type(e).__name__, "failed"
        finally:
            if self._cleanup is not None:
                self._cleanup()

    def status(self) -> FlowStatus:
        pending = self.prompter.pending()
        state = "waiting" if pending and self._state == "running" else self._state
        return FlowStatus(state, self.prompter.log(), pending[0] if pending else "", pending[1] if pending else None,
                          self._error, self._result)

    def proceed(self) -> None:
        self.prompter.proceed()

    def cancel(self) -> None:
        self.prompter.cancel()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


# ---------------------------------------------------------------------------------------------- ports
def list_ports() -> list[SerialPortInfo]:
    return list_serial_ports()


def identify_port(virtual: bool) -> FlowRun:
    """'Which port is this arm?' by unplug / replug. Virtual: the clicks unplug and replug the virtual follower."""
    if not virtual:
        return FlowRun(lambda p: flows.find_port(p), WindowPrompter(), name="identify-port")
    ports = [p for p in list_serial_ports() if (p.serial_number or "").startswith(VIRTUAL_SERIAL_PREFIX)]
    if not ports:
        raise RuntimeError("the virtual rig's ports are not listed: open the virtual rig first")
    from hardware.discovery import register_virtual_port, unregister_virtual_port

    target = next((p for p in ports if p.serial_number.endswith("FOLLOWER")), ports[0])
    actions = {"unplug": lambda: unregister_virtual_port(target.device),
               "replug": lambda: register_virtual_port(target)}
    return FlowRun(lambda p: flows.find_port(p), WindowPrompter(actions), name="identify-port")


# ---------------------------------------------------------------------------------------------- motors
def setup_motors(profile: str, port: str | None) -> FlowRun:
    """Give each motor its id and baud rate, one at a time; port None = the virtual motor bench."""
    prof = load_profile(profile)
    if port is not None:
        return FlowRun(lambda p: flows.setup_motors(p, port, prof), WindowPrompter(), name="setup-motors")
    from robotapp.setup.virtual_ops import MotorBench

    bench = MotorBench(prof)
    actions = bench.operator().actions
    return FlowRun(lambda p: flows.setup_motors(p, bench.port, prof, baudrates=[57_600, prof.baudrate],
                                                latency_ms=1.0),
                   WindowPrompter(actions), cleanup=bench.close, name="setup-motors")


@dataclass
class MotorRow:
    baudrate: int
    id: int
    model: str
    joint: str  # the profile's joint at this id, or "" when the id is not in the profile
    problem: str = ""


def scan_motors(profile: str, port: str | None, baudrates: list[int] | None = None) -> list[MotorRow]:
    """Every motor on a port at the usual baud rates (port None: an assembled virtual arm of this profile)."""
    prof = load_profile(profile)
    virtual = None
    if port is None:
        from hardware.virtual.arms import VirtualArm

        virtual = VirtualArm(prof)
        port = virtual.port
    bus = DynamixelBus(port, baudrate=prof.baudrate, latency_ms=1.0 if virtual else 16.0)
    try:
        bus.connect(handshake=False)
        found = bus.scan(baudrates or sorted({57_600, prof.baudrate}))
    finally:
        bus.disconnect()
        if virtual is not None:
            virtual.close()
    by_id = {j.id: j for j in prof.joints}
    rows = []
    for bps, ids in found.items():
        for motor_id, number in ids.items():
            joint = by_id.get(motor_id)
            row = MotorRow(bps, motor_id, model_name(number), joint.name if joint else "")
            if joint is None:
                row.problem = f"id {motor_id} is not in profile {prof.name}"
            elif row.model != joint.model:
                row.problem = f"expected a {joint.model}"
            elif bps != prof.baudrate:
                row.problem = f"at {bps} bps, the profile wants {prof.baudrate}: run the setup"
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- cameras
@dataclass
class CameraRow:
    source: str
    name: str  # role name ("front", "wrist"); empty for a camera not yet named
    width: int
    height: int
    thumbnail: np.ndarray | None = None  # RGB


def scan_cameras() -> list[CameraRow]:
    """Cameras that deliver a frame, each with a snapshot (opens /dev/video*: seconds; a worker thread's job)."""
    return [CameraRow(str(c.stable_path or c.source), "", c.width, c.height, c.snapshot) for c in list_cameras()]


# ---------------------------------------------------------------------------------------------- rig configs
@dataclass
class ArmChoice:
    role: str
    profile: str  # built-in name or a file path
    port: SerialPortInfo | None


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def rig_config_problems(name: str, arms: list[ArmChoice], cameras: list[CameraRow]) -> list[FieldError]:
    """What is wrong with the window's fields for a rig config, every problem in field order."""
    problems = []
    name = name.strip()
    if not name:
        problems.append(FieldError("Rig name", "empty: give the rig a name, e.g. koch-desk"))
    elif name == "virtual" or not _NAME.match(name):
        problems.append(FieldError("Rig name", f"{name!r} cannot be used: letters, digits, '-', '_' and '.', not "
                                               f"'virtual'"))
    for arm in arms:
        label = f"{arm.role.capitalize()} profile"
        if not arm.profile.strip():
            problems.append(FieldError(label, "empty: choose a profile file"))
        else:
            try:
                prof = load_profile(arm.profile.strip())
            except ValueError as e:
                problems.append(FieldError(label, str(e)))
            else:
                if prof.role != arm.role:
                    problems.append(FieldError(label, f"{prof.name} is a {prof.role} profile, not a {arm.role} one"))
        if arm.port is None and arm.role == "follower":
            problems.append(FieldError("Follower port", "no port chosen: pick the follower's port in the Ports tab"))
    ports = [arm.port.device for arm in arms if arm.port is not None]
    if len(set(ports)) < len(ports):
        problems.append(FieldError("Leader port", "leader and follower are on the same port"))
    seen = set()
    for cam in cameras:
        role = cam.name.strip()
        if not role:
            continue  # an unnamed camera is not part of the rig
        if not _NAME.match(role):
            problems.append(FieldError("Camera name", f"{role!r}: use letters, digits, '-' or '_'"))
        elif role in seen:
            problems.append(FieldError("Camera name", f"two cameras are called {role!r}"))
        seen.add(role)
    return problems


def build_rig_config(name: str, arms: list[ArmChoice], cameras: list[CameraRow]) -> RigConfig:
    """A rig config from the window's fields; raises the first of rig_config_problems."""
    raise_first(rig_config_problems(name, arms, cameras))
    name = name.strip()
    configs = [ArmConfig(arm.role, arm.profile.strip(), f"{name}-{arm.role}", arm.port.device,
                         arm.port.serial_number) for arm in arms if arm.port is not None]
    cams = [CameraConfig(cam.name.strip(), cam.source, cam.width or 640, cam.height or 480)
            for cam in cameras if cam.name.strip()]  # an unnamed camera is not part of the rig
    return RigConfig(name, configs, cams)


def save_rig_config(config: RigConfig) -> Path:
    return save_rig(config)


def rig_config_path(name: str) -> Path:
    return rig_path(name)
