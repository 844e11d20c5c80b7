"""Doctor tab: motor health of both arms (model, firmware, voltage, temperature, hardware errors, one motor at a
time so a missing one is named), their calibrated ranges, and the mirror test's per-joint error. On the virtual
rig a fault can be injected first, to see what the doctor says about it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from robotapp.services.doctor_service import DoctorRun
from robotapp.services.rig_config_form import rig_config_exists

from ..common import MessageLine, error_text, fill_table, make_table

INJECTIONS = (("hot:wrist_flex", "wrist_flex running hot"), ("unplug:elbow_flex", "elbow_flex unplugged"),
              ("overload:gripper", "gripper overloaded"))


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(QLabel(f"<b>{title}</b>"))
    layout.addWidget(widget)
    return box


class DoctorTab(QWidget):
    def __init__(self, page, parent=None):
        super().__init__(parent)
        self.page = page
        self.run: DoctorRun | None = None
        self.inject = [(spec, QCheckBox(label)) for spec, label in INJECTIONS]
        self.run_button = QPushButton("Run the doctor")
        self.run_button.clicked.connect(self.start)
        self.step = QLabel()
        self.message = MessageLine()
        self.health = make_table(["Arm", "Motor", "ID", "Model", "Firmware", "Voltage", "Temp", "HW error",
                                  "Problem"])
        self.ranges = make_table(["Arm", "Joint", "Min", "Max", "Span (°)", "Now", "Problem"])
        self.mirror = make_table(["Joint", "Mean error", "Max error", "Problem"])
        top = QHBoxLayout()
        top.addWidget(self.run_button)
        self.inject_label = QLabel("Break first (virtual rig):")
        top.addWidget(self.inject_label)
        for _, box in self.inject:
            top.addWidget(box)
        top.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(_titled("Motor health", self.health))
        bottom = QSplitter()
        bottom.addWidget(_titled("Joint ranges", self.ranges))
        bottom.addWidget(_titled("Mirror test: follower copying the leader (degrees / %)", self.mirror))
        bottom.setSizes([700, 500])
        split.addWidget(bottom)
        split.setSizes([300, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.step)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        self.timer = QTimer(self, interval=100, timeout=self.poll)

    def profile_changed(self) -> None:
        for _, box in self.inject:
            box.setVisible(self.page.is_virtual)
        self.inject_label.setVisible(self.page.is_virtual)

    def start(self) -> None:
        if self.page.is_virtual:
            rig = self.page.kind
        else:
            rig = self.page.rig_name.text().strip()
            if not rig_config_exists(rig):
                self.message.error("Rig name: save the rig config first; the doctor opens both arms from it")
                return
        inject = ",".join(spec for spec, box in self.inject if box.isChecked() and box.isVisible()) or None

        def go():
            try:
                self.run = DoctorRun(rig, inject)
            except ValueError as e:
                self.message.error(error_text(e))
                return
            self.run_button.setEnabled(False)
            self.message.clear()
            for t in (self.health, self.ranges, self.mirror):
                t.setRowCount(0)
            self.timer.start()
        self.page.release_hardware(go)

    def poll(self) -> None:
        if self.run is None:
            return
        r = self.run.status()
        self.step.setText(f"doctor: {r.step}")
        fill_table(self.health, [[arm, h.motor, h.id, h.model, h.firmware, h.voltage, h.temperature,
                                  h.hardware_error, h.problem] for arm, rows in r.health.items() for h in rows],
                   problem_column=8)
        fill_table(self.ranges, [[arm, g.joint, g.range_min, g.range_max, g.span_degrees, g.position, g.problem]
                                 for arm, rows in r.ranges.items() for g in rows], problem_column=6)
        fill_table(self.mirror, [[m.joint, m.mean_error, m.max_error, m.problem] for m in r.mirror],
                   problem_column=3)
        if r.state != "running":
            self.timer.stop()
            self.run = None
            self.run_button.setEnabled(True)
            notes = "; ".join(r.notes)
            if r.state == "failed":
                self.message.error(f"Doctor: {r.error}")
            elif r.problems:
                self.message.error(f"{r.problems} problem(s) found" + (f"; {notes}" if notes else ""))
            else:
                self.message.info("no problems found" + (f"; {notes}" if notes else ""))
            # the window's status bar and header show what the doctor found until a clean run
            first = next((f"{arm} {h.motor}: {h.problem}" for arm, rows in r.health.items() for h in rows
                          if h.problem), "")
            found = r.error if r.state == "failed" else \
                f"{r.problems} problem(s){f' ({first})' if first else ''}" if r.problems else ""
            self.page.ctx.state.report("doctor", found)
