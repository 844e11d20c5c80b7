"""Calibration tab: the calibration wizard. Start → put the arm in its middle pose → record it → sweep every joint
while the range bars fill → finish; the wrap warning shows live, and what the finish corrected is listed with the
calibrated ranges. The procedure runs on the CalibrationRun's own thread; this tab only polls its status."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from robotapp.core.field_error import FieldError
from robotapp.services.calibration_service import CalibrationRun

from ..common import ERROR_STYLE, MessageLine, error_text, fill_table, make_table
from .range_bars import RangeBars


class CalibrationTab(QWidget):
    def __init__(self, page, parent=None):
        super().__init__(parent)
        self.page = page
        self.run: CalibrationRun | None = None
        self.arm = QComboBox()
        self.arm.addItems(["follower", "leader"])
        self.arm_id = QLineEdit()
        self.arm_id.setPlaceholderText("calibration file name (default from the rig)")
        self.arm_id.setMinimumWidth(320)
        self.start_button = QPushButton("Start calibration")
        self.middle_button = QPushButton("Record middle pose")
        self.finish_button = QPushButton("Finish")
        self.cancel_button = QPushButton("Cancel")
        self.auto_middle_button = QPushButton("Middle pose for me")
        self.auto_sweep_button = QPushButton("Sweep for me")
        self.start_button.clicked.connect(self.start)
        self.middle_button.clicked.connect(self.record_middle)
        self.finish_button.clicked.connect(self.finish)
        self.cancel_button.clicked.connect(lambda: self.run and self.run.cancel())
        self.auto_middle_button.clicked.connect(self.auto_middle)
        self.auto_sweep_button.clicked.connect(self.auto_sweep)
        self._pending = ""  # the command sent whose outcome the message will report: middle, auto_middle, ...
        self._was_sweeping = False
        self._hint_shown = ""
        self.step = QLabel("Not started.")
        self.step.setWordWrap(True)
        self.step.setStyleSheet("font-size: 14px; font-weight: 600;")
        self.bars = RangeBars()
        self.wrap = QLabel()
        self.wrap.setWordWrap(True)
        self.wrap.setStyleSheet(ERROR_STYLE)
        self.message = MessageLine()
        self.report = make_table(["Joint", "Min", "Max", "Span (°)", "Now", "Problem"])
        self.report.setMaximumHeight(210)
        self.report.setVisible(False)  # shown once a calibration is saved
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Arm", self.arm)
        form.addRow("Arm id", self.arm_id)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.middle_button, self.finish_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addSpacing(16)
        buttons.addWidget(self.auto_middle_button)
        buttons.addWidget(self.auto_sweep_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.step)
        layout.addWidget(self.bars)
        layout.addWidget(self.wrap)
        layout.addWidget(self.message)
        layout.addWidget(self.report)
        layout.addStretch(1)
        self.timer = QTimer(self, interval=50, timeout=self.poll)  # 20 Hz: as fast as the procedure samples
        self._buttons("idle")

    def profile_changed(self) -> None:
        self.auto_middle_button.setVisible(self.page.is_virtual)
        self.auto_sweep_button.setVisible(self.page.is_virtual)

    def _buttons(self, step: str) -> None:
        running = step in ("opening", "middle", "sweeping")
        self.start_button.setEnabled(not running)
        self.arm.setEnabled(not running)
        self.arm_id.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.middle_button.setEnabled(step == "middle")
        self.auto_middle_button.setEnabled(step == "middle")
        self.finish_button.setEnabled(step == "sweeping")
        self.auto_sweep_button.setEnabled(step == "sweeping")

    # -- what "for me" did is said, not just done ----------------------------------------------------------------
    def record_middle(self) -> None:
        if self.run is not None:
            self._pending = "middle"
            self.run.record_middle()

    def finish(self) -> None:
        if self.run is not None:
            self._hint_shown = ""  # a refusal again is said again
            self.run.finish()

    def auto_middle(self) -> None:
        if self.run is not None:
            self._pending = "auto_middle"
            self.message.info("the virtual hand is putting every joint in its middle pose…")
            self.run.auto_middle()

    def auto_sweep(self) -> None:
        if self.run is not None:
            self.message.info("the virtual hand is sweeping every joint end to end (the bars fill as it goes)…")
            self.run.auto_sweep()

    def _report_progress(self, st) -> None:
        if st.step == "sweeping" and self._pending:
            self.message.info("middle pose recorded: the virtual hand put every joint mid-range (wrist_roll a little "
                              "off, as a hand would)" if self._pending == "auto_middle" else "middle pose recorded")
            self._pending = ""
        if self._was_sweeping and not st.auto_sweeping and st.step == "sweeping":
            self.message.info("sweep done: the virtual hand swept every joint end to end; press Finish")
        self._was_sweeping = st.auto_sweeping

    def start(self) -> None:
        role = self.arm.currentText()
        try:
            target = self.page.setup_target(role)
        except FieldError as e:
            self.message.error(str(e))
            return
        arm_id = self.arm_id.text().strip() or target["arm_id"]

        def go():
            try:
                self.run = CalibrationRun(target["rig"], role, arm_id=arm_id, port=target["port"],
                                          profile=target["profile"])
            except (ValueError, OSError) as e:
                self.message.error(error_text(e))
                return
            self.message.clear()
            self._pending, self._was_sweeping, self._hint_shown = "", False, ""
            self.wrap.clear()
            self.report.setRowCount(0)
            self.report.setVisible(False)
            self.bars.set_ranges([])
            self.timer.start()
        self.page.release_hardware(go)

    def poll(self) -> None:
        if self.run is None:
            return
        st = self.run.status()
        self._buttons(st.step)
        words = {"opening": "Opening the arm…", "saved": f"Saved {st.path}", "cancelled": "Cancelled: the "
                 "previous calibration file (if any) is untouched.", "failed": "Calibration failed."}
        self.step.setText(st.hint or words.get(st.step, st.step))
        if st.ranges:
            self.bars.set_ranges(st.ranges)  # once saved: the corrected ranges, so a fixed wrap shows no more
        self._report_progress(st)
        warnings = self.bars.warnings()
        self.wrap.setText("⚠ " + " ⚠ ".join(warnings) if warnings and st.step == "sweeping" else "")
        if st.step == "sweeping" and st.hint.startswith("calibration not finished") and st.hint != self._hint_shown:
            self.message.error(st.hint)  # once: what the user does next (a sweep) says its own line
        self._hint_shown = st.hint
        if st.step in ("saved", "failed", "cancelled"):
            self.timer.stop()
            self.run = None
            if st.step == "failed":
                self.message.error(st.error)
            elif st.step == "saved":
                notes = " ".join(f"Corrected: {n}." for n in st.notes)
                self.message.info(f"calibration of {st.arm_id} saved. {notes}".strip())
                self.report.setVisible(True)
                fill_table(self.report, [[r.joint, r.range_min, r.range_max, r.span_degrees, r.position,
                                          r.problem] for r in st.report], problem_column=5)

    def shutdown(self) -> None:
        if self.run is not None:
            self.run.cancel()
