"""The one state the window shows (mode, e-stop, fault, recording, alignment), built from the session's
snapshot and its typed events, plus problems found outside the session (the doctor). The header, the status bar
and the pages render `ShownState.view()`; none keeps a copy of its own that could disagree or go stale.

Qt-free: the main window feeds it the events it drains and the pages ask it for a view."""

from __future__ import annotations

from dataclasses import dataclass

from robotapp.core.events import PROBLEMS, EpisodeDiscarded, Event, ModeChanged, Reason, RecordingDone
from robotapp.core.modes import Mode

ASKED_FOR = (Reason.RERECORD, Reason.TRASHED)  # an episode dropped because the person asked: no fault
STOPPED = (Mode.FAULT, Mode.ESTOP)


@dataclass(frozen=True)
class StateView:
    rig: str = ""  # the open (or opening) rig's name
    rig_state: str = "closed"  # closed | opening | open | closing | failed
    mode: Mode | None = None  # None: no session
    session_fault: str = ""  # the session's fault or e-stop message while stopped, else its last fault
    outside: tuple[tuple[str, str], ...] = ()  # (source, problem) found outside the session, e.g. the doctor
    recording: bool = False  # a recording flow runs (until its RecordingDone is seen)
    phase: str = ""
    episode: int = 0  # episodes saved in this recording
    episodes_target: int = 0
    phase_remaining: float = 0.0

    @property
    def estop(self) -> bool:
        return self.mode == Mode.ESTOP

    @property
    def stopped(self) -> bool:
        """The session stopped the follower (e-stop or fault) and is not driving it until told again."""
        return self.mode in STOPPED

    @property
    def aligning(self) -> bool:
        return self.mode == Mode.ALIGN

    @property
    def problem(self) -> str:
        """The most pressing problem in one line ("" for none): a stop now, else one found outside."""
        if self.estop:
            return "E-STOP: follower stopped; clear it to continue"
        if self.mode == Mode.FAULT:
            return f"FAULT: {self.session_fault or 'the follower stopped'}"
        if self.outside:
            source, text = self.outside[0]
            return f"{source}: {text}"
        return ""

    @property
    def fault_text(self) -> str:
        """The status bar's fault field: every fault shown, or "faults: none"."""
        parts = []
        if self.session_fault:
            parts.append(("fault: " if self.stopped else "last fault: ") + self.session_fault)
        parts += [f"{source}: {text}" for source, text in self.outside]
        return "; ".join(parts) or "faults: none"

    @property
    def has_fault(self) -> bool:
        return bool(self.session_fault or self.outside)

    @property
    def badge(self) -> str:
        """The header's one word (or two) for the state."""
        if self.mode is None:
            return {"opening": "OPENING", "failed": "NO RIG (failed)"}.get(self.rig_state, "NO RIG")
        if self.estop:
            return "E-STOP"
        if self.mode == Mode.FAULT:
            return "FAULT"
        if self.recording:
            return f"RECORDING {min(self.episode + 1, self.episodes_target)}/{self.episodes_target}" \
                if self.phase in ("warmup", "episode", "reset") else "RECORDING"
        return {Mode.ALIGN: "ALIGNING"}.get(self.mode, self.mode.value.upper())


class ShownState:
    def __init__(self, host):
        self.host = host
        self._last_fault = ""  # the session's last problem, until an e-stop clear
        self._outside: dict[str, str] = {}
        self._recording = False  # a recording was seen running and its RecordingDone not yet
        self._session = None  # the session the event-derived fields belong to

    # ------------------------------------------------------------------ inputs
    def on_event(self, event: Event) -> None:
        """Every session event, in order, on the GUI thread (the main window's dispatch)."""
        if event.kind in PROBLEMS or (isinstance(event, EpisodeDiscarded) and event.reason not in ASKED_FOR):
            self._last_fault = event.message
        elif isinstance(event, ModeChanged) and event.reason == Reason.CLEARED:
            self._last_fault = ""
        if isinstance(event, RecordingDone):
            self._recording = False

    def report(self, source: str, problem: str) -> None:
        """A problem found outside the session (source names who found it); "" clears it."""
        if problem:
            self._outside[source] = " ".join(problem.split())
        else:
            self._outside.pop(source, None)

    # ------------------------------------------------------------------ the view
    def view(self) -> StateView:
        host = self.host
        session = host.session
        if session is not self._session:  # another rig (or none): nothing of the last one carries over
            self._session, self._last_fault, self._recording = session, "", False
        snap = host.snapshot()
        outside = tuple(self._outside.items())
        if snap is None:
            return StateView(rig=host.rig_name, rig_state=host.state, outside=outside)
        if snap.phase:  # a RecordingDone follows the snapshot that ends the phase: recording until it is seen
            self._recording = True
        fault = snap.message if snap.mode in STOPPED and snap.message else self._last_fault
        return StateView(rig=host.rig_name, rig_state=host.state, mode=snap.mode, session_fault=fault,
                         outside=outside, recording=self._recording, phase=snap.phase, episode=snap.episode,
                         episodes_target=snap.episodes_target, phase_remaining=snap.phase_remaining)
