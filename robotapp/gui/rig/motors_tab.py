"""Motors tab: scan an arm's port for motors (id, model, baud rate, against the profile), and the setup wizard
that gives each factory-new motor its id and baud rate, one motor at a time (gripper first, as the chain is
built back to front). On the virtual rig the scan reads an assembled, set-up virtual arm and the wizard a bench
of factory-new emulated motors; the tab says which."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from robotapp.core.field_error import FieldError
from robotapp.services import hardware_scan, setup_runner

from ..common import MessageLine, error_text, fill_table, make_table
from .flow_box import FlowBox


class MotorsTab(QWidget):
    def __init__(self, page, parent=None):
        super().__init__(parent)
        self.page = page
        self.arm = QComboBox()
        self.arm.addItems(["follower", "leader"])
        self.arm.currentTextChanged.connect(lambda _: self._show_plan())
        self.scan_button = QPushButton("Scan for motors")
        self.setup_button = QPushButton("Set up motors…")
        self.scan_button.clicked.connect(self.scan)
        self.setup_button.clicked.connect(self.start_setup)
        self.where = QLabel()
        self.scan_table = make_table(["Baud", "ID", "Model", "Joint", "Problem"])
        self.plan_table = make_table(["Order", "Joint", "ID", "Model", "Status"])
        self.message = MessageLine()
        self.flow = FlowBox(log_lines=4)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Arm", self.arm)
        form.addRow("Port", self.where)
        buttons = QHBoxLayout()
        buttons.addWidget(self.scan_button)
        buttons.addWidget(self.setup_button)
        buttons.addStretch(1)
        tables = QHBoxLayout()
        for title, table in (("Motors found", self.scan_table), ("Setup wizard", self.plan_table)):
            col = QVBoxLayout()
            col.addWidget(QLabel(f"<b>{title}</b>"))
            col.addWidget(table)
            tables.addLayout(col)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addLayout(tables, 1)
        layout.addWidget(self.flow)
        self._ready: set[str] = set()

    @property
    def role(self) -> str:
        return self.arm.currentText()

    def profile_changed(self) -> None:
        self.where.setText("virtual: Scan reads an assembled arm (motors already set up); Set up works on "
                           "factory-new motors on a bench" if self.page.is_virtual
                           else "the port chosen for this arm in the Ports tab")
        self._show_plan()

    def _target(self) -> tuple[str, str | None] | None:
        try:
            t = self.page.setup_target(self.role)
        except FieldError as e:
            self.message.error(str(e))
            return None
        return t["profile"], t["port"]

    def _show_plan(self, status=None) -> None:
        try:
            prof = hardware_scan.load_profile(self.page.profile_for(self.role))
        except ValueError:
            self.plan_table.setRowCount(0)
            return
        pending = status.action.split(":", 1)[1] if status and status.action else ""
        rows = []
        for k, j in enumerate(reversed(prof.joints)):
            state = "ready" if j.name in self._ready else "connect it now" if j.name == pending else "waiting"
            rows.append([k + 1, j.name, j.id, j.model, state])
        fill_table(self.plan_table, rows)

    # -- scan ---------------------------------------------------------------------------------------------------
    def scan(self) -> None:
        target = self._target()
        if target is None:
            return
        self.scan_button.setEnabled(False)
        self.message.info("scanning…")
        self.page.release_hardware(lambda: self.page.ctx.watcher.run(
            lambda: hardware_scan.scan_motors(*target), self._scanned, self._scan_failed))

    def _scanned(self, rows) -> None:
        self.scan_button.setEnabled(True)
        fill_table(self.scan_table, [[r.baudrate, r.id, r.model, r.joint or "-", r.problem] for r in rows],
                   problem_column=4)
        bad = sum(1 for r in rows if r.problem)
        said = f", {bad} need attention" if bad else ": ids, models and baud rate as the profile says (set up)"
        text = f"{len(rows)} motor(s) found" + said
        (self.message.error if bad or not rows else self.message.info)(text if rows else "no motor answered")

    def _scan_failed(self, e: BaseException) -> None:
        self.scan_button.setEnabled(True)
        self.message.error(f"Scan: {error_text(e)}")

    # -- setup wizard -------------------------------------------------------------------------------------------
    def start_setup(self) -> None:
        target = self._target()
        if target is None:
            return
        profile, port = target

        def go():
            try:
                run = setup_runner.setup_motors(profile, port)
            except (ValueError, OSError) as e:
                self.message.error(error_text(e))
                return
            self._ready = set()
            self.setup_button.setEnabled(False)
            self.message.info(f"setting up the {self.role}'s motors")
            self.flow.start(run, self._setup_ended, self._setup_progress)
        self.page.release_hardware(go)

    def _setup_progress(self, status) -> None:
        for line in status.log:
            if line.startswith("'") and " is ready" in line:
                self._ready.add(line.split("'")[1])
        self._show_plan(status)

    def _setup_ended(self, status) -> None:
        self.setup_button.setEnabled(True)
        if status.state == "done":
            self.message.info(f"all {len(status.result)} motors set up: ids and baud rate as the profile says")

    def shutdown(self) -> None:
        self.flow.shutdown()
