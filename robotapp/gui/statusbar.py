"""The status bar: which rig, the mode, the control loop's rate, the recording state and the faults, redrawn on
the main window's timer from the one shown state (shown_state.py) and the session's loop figures."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from .shown_state import StateView

PHASES = {"warmup": "warm-up", "episode": "recording", "reset": "reset", "saving": "saving", "done": "finishing"}
PLAIN = "padding: 0 8px;"
ALERT = "padding: 0 8px; color: #b00020; font-weight: 600;"


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
        for w in (self.rig, self.mode, self.loop, self.recording):
            layout.addWidget(w)
            w.setStyleSheet(PLAIN)
            w.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)  # never squeezed
        # the faults take the room left and give way first: a long one is elided (whole in the tooltip)
        self.faults.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.faults.setStyleSheet(PLAIN)
        layout.addWidget(self.faults, 1)

    def render(self, view: StateView, host) -> None:
        self.rig.setText(f"rig: {view.rig or 'none'} ({view.rig_state})")
        self._show_faults(view)
        snap = host.snapshot() if view.mode is not None else None
        if snap is None:
            self.mode.setText("mode: -")
            self.loop.setText("loop: -")
            self.recording.setText("not recording")
            self.recording.setStyleSheet(PLAIN)
            return
        self.mode.setText(f"mode: {view.mode.value}")
        self.loop.setText(f"loop: {snap.loop_hz:.1f}/{host.config.control_hz:g} Hz (p99 {snap.tick_ms_p99:.1f} ms)")
        if view.recording and view.phase in ("warmup", "episode", "reset"):
            self.recording.setText(f"{PHASES[view.phase]}: episode "
                                   f"{min(view.episode + 1, view.episodes_target)}/{view.episodes_target} "
                                   f"({view.phase_remaining:.1f} s left)")
        elif view.recording:
            self.recording.setText(f"{PHASES.get(view.phase, 'finishing')}: {view.episode} episode(s) saved")
        else:
            self.recording.setText("not recording")
        self.recording.setStyleSheet(ALERT if view.recording else PLAIN)

    def _show_faults(self, view: StateView) -> None:
        text = view.fault_text
        if not view.has_fault:
            self.faults.setText(text)
            self.faults.setToolTip("")
            self.faults.setStyleSheet(PLAIN)
            return
        room = self.faults.contentsRect().width() - 16  # its padding
        self.faults.setText(self.faults.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max(room, 80)))
        self.faults.setToolTip(text)
        self.faults.setStyleSheet(ALERT)
