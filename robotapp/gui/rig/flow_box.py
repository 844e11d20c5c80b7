"""The box every step-by-step setup flow shows: the instruction for the person, a 'Done' button (on the virtual rig
'Do it for me', which performs the step on the emulated hardware), Cancel, and the flow's log. It polls the
FlowRun on a timer and calls back once when the flow ends."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from robotapp.services.setup_runner import FlowRun, FlowStatus

from ..common import MessageLine


class FlowBox(QWidget):
    def __init__(self, parent=None, log_lines: int = 8):
        super().__init__(parent)
        self.run: FlowRun | None = None
        self._on_end: Callable[[FlowStatus], None] | None = None
        self._on_poll: Callable[[FlowStatus], None] | None = None
        self.instruction = QLabel()
        self.instruction.setWordWrap(True)
        self.instruction.setStyleSheet("font-size: 14px; font-weight: 600;")
        self.done_button = QPushButton("Done")
        self.cancel_button = QPushButton("Cancel")
        self.done_button.clicked.connect(self.proceed)
        self.cancel_button.clicked.connect(self.cancel)
        self.message = MessageLine()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumHeight(18 * log_lines)
        row = QHBoxLayout()
        row.addWidget(self.instruction, 1)
        row.addWidget(self.done_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.log)
        self.timer = QTimer(self, interval=100, timeout=self.poll)
        self._log_len = 0
        self._set_idle()

    def start(self, run: FlowRun, on_end: Callable[[FlowStatus], None] | None = None,
              on_poll: Callable[[FlowStatus], None] | None = None) -> None:
        self.run, self._on_end, self._on_poll = run, on_end, on_poll
        self.message.clear()
        self.log.clear()
        self._log_len = 0
        self.cancel_button.setEnabled(True)
        self.setVisible(True)
        self.timer.start()
        self.poll()

    @property
    def running(self) -> bool:
        return self.run is not None

    def proceed(self) -> None:
        if self.run is not None:
            self.done_button.setEnabled(False)  # until the flow asks again
            self.run.proceed()

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()

    def poll(self) -> None:
        if self.run is None:
            return
        st = self.run.status()
        for line in st.log[self._log_len:]:
            self.log.appendPlainText(line)
        self._log_len = len(st.log)
        if st.state == "waiting":
            self.instruction.setText(st.instruction)
            self.done_button.setText("Do it for me (virtual rig)" if self.run.virtual else "Done")
            self.done_button.setEnabled(True)
        elif st.state == "running":
            self.instruction.setText("working…")
            self.done_button.setEnabled(False)
        if self._on_poll is not None:
            self._on_poll(st)
        if st.state in ("done", "failed", "cancelled"):
            self.timer.stop()
            self.run = None
            if st.state == "failed":
                self.message.error(st.error)
            elif st.state == "cancelled":
                self.message.info("cancelled")
            self._set_idle()
            if self._on_end is not None:
                self._on_end(st)

    def _set_idle(self) -> None:
        self.setVisible(self.run is not None or bool(self.message.text()) or self._log_len > 0)
        self.instruction.setText("")
        self.done_button.setEnabled(False)
        self.cancel_button.setEnabled(self.run is not None)

    def shutdown(self) -> None:
        if self.run is not None:
            self.run.cancel()
