"""The status bar: which rig, the control loop's rate, the recording state and the last fault, redrawn from the
session snapshot on the main window's timer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from robotapp.core.events import PROBLEMS, Event, Kind, ModeChanged, Reason
from robotapp.core.modes import Mode

FAULT_KINDS = PROBLEMS | {Kind.EPISODE_DISCARDED}  # shown as the last fault until the e-stop is cleared
PHASES = {"warmup": "warm-up", "episode": "recording", "reset": "reset", "saving": "saving", "done": "finishing"}


class StatusPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rig = QLabel()
        self.mode = QLabel()
        self.loop = QLabel()
        self.recording = QLabel()
        self.faults = QLabel("faults: none")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for w in (self.rig, self.mode, self.loop, self.recording, self.faults):
            layout.addWidget(w)
            w.setStyleSheet("padding: 0 8px;")
        layout.addStretch(1)
        self.last_fault = ""

    def refresh(self, host) -> None:
        name = host.rig_name or "none"
        self.rig.setText(f"rig: {name} ({host.state})")
        snap = host.snapshot()
        if snap is None:
            self.mode.setText("mode: -")
            self.loop.setText("loop: -")
            self.recording.setText("not recording")
            return
        self.mode.setText(f"mode: {snap.mode.value}")
        target = host.config.control_hz
        self.loop.setText(f"loop: {snap.loop_hz:.1f}/{target:g} Hz (p99 {snap.tick_ms_p99:.1f} ms)")
        if snap.phase and snap.phase != "done":
            self.recording.setText(f"{PHASES.get(snap.phase, snap.phase)}: episode "
                                   f"{min(snap.episode + 1, snap.episodes_target)}/{snap.episodes_target} "
                                   f"({snap.phase_remaining:.1f} s left)")
            self.recording.setStyleSheet("padding: 0 8px; color: #b00020; font-weight: 600;")
        else:
            self.recording.setText("not recording")
            self.recording.setStyleSheet("padding: 0 8px;")
        stopped = snap.mode in (Mode.FAULT, Mode.ESTOP)
        if stopped and snap.message and not self.last_fault:
            self.show_fault(snap.message)
        if self.last_fault:
            self._show(("fault: " if stopped else "last fault: ") + self.last_fault)

    def on_event(self, event: Event) -> None:
        if event.kind in FAULT_KINDS:
            self.show_fault(event.message)
        elif isinstance(event, ModeChanged) and event.reason == Reason.CLEARED:
            self.last_fault = ""
            self.faults.setText("faults: none")
            self.faults.setStyleSheet("padding: 0 8px;")

    def show_fault(self, message: str) -> None:
        self.last_fault = message
        self._show(f"fault: {message}")

    def _show(self, text: str) -> None:
        # elided to the room left in the status bar; the whole message is in the tooltip
        room = max(200, self.width() - sum(w.sizeHint().width() for w in (self.rig, self.mode, self.loop,
                                                                           self.recording)) - 40)
        self.faults.setText(self.faults.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room))
        self.faults.setToolTip(self.last_fault)
        self.faults.setStyleSheet("padding: 0 8px; color: #b00020; font-weight: 600;")
