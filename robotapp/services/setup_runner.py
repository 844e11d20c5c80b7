"""The setup flows for a window: each runs on its own thread and exposes state the window polls, so no bus is ever
touched from the window's thread. A flow that needs a physical step (unplug the arm, connect one motor) waits
until the window says the person did it; on the virtual rig the same click also performs the step.
(Scans of ports, motors and cameras: hardware_scan.py; the rig config form: rig_config_form.py.)"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.arms import load_profile
from hardware.discovery import list_serial_ports
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
