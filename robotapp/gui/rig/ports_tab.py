"""Ports tab: every serial port with its USB identity (description, serial number, VID:PID), the role each arm's
port plays in this rig, and 'Identify…': unplug the arm, see which port vanished, plug it back in."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from robotapp.services import hardware_scan, setup_runner

from ..common import MessageLine, error_text, fill_table, make_table
from .flow_box import FlowBox

COLUMNS = ["Device", "Description", "USB serial", "VID:PID", "Manufacturer", "Role"]
ROLES = ["—", "leader", "follower"]


class PortsTab(QWidget):
    def __init__(self, page, parent=None):
        super().__init__(parent)
        self.page = page
        self.ports: list[hardware_scan.SerialPortInfo] = []
        self.identified: hardware_scan.SerialPortInfo | None = None
        self.table = make_table(COLUMNS, stretch_last=False)
        self.refresh_button = QPushButton("Refresh")
        self.identify_button = QPushButton("Identify…")
        self.identify_button.setToolTip("Find which port an arm is on: unplug its USB cable, then plug it back in")
        self.refresh_button.clicked.connect(self.refresh)
        self.identify_button.clicked.connect(self.identify)
        self.message = MessageLine()
        self.flow = FlowBox(log_lines=5)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.identify_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Serial ports. Give each arm's port its role; the rig config keeps the USB serial "
                                "number, so a renamed port (ttyACM0 → ttyACM1) is found again."))
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.flow)

    def profile_changed(self) -> None:
        pass

    def refresh(self, note: str = "", select: str = "") -> None:
        self.page.ctx.watcher.run(hardware_scan.list_ports, lambda ports: self._show(ports, note, select),
                                  lambda e: self.message.error(error_text(e)))

    def _show(self, ports: list[hardware_scan.SerialPortInfo], note: str = "", select: str = "") -> None:
        roles = {p.device: self.role_of(p.device) for p in self.ports}
        self.ports = ports
        fill_table(self.table, [[p.device, p.description, p.serial_number or "-",
                                 f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else "-", p.manufacturer or "-", ""]
                                for p in ports])
        for r, p in enumerate(ports):
            combo = QComboBox()
            combo.addItems(ROLES)
            role = roles.get(p.device) or self._guess_role(p)
            combo.setCurrentText(role)
            self.table.setCellWidget(r, len(COLUMNS) - 1, combo)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()  # a role box is taller than a dense text row: never cut
        for r, p in enumerate(ports):
            if p.device == select:
                self.table.selectRow(r)
        self.message.info(note or (f"{len(ports)} serial port(s)" if ports else
                                   "no serial ports: plug the arms in over USB"))

    @staticmethod
    def _guess_role(p: hardware_scan.SerialPortInfo) -> str:
        serial = p.serial_number or ""
        if serial.startswith(setup_runner.VIRTUAL_SERIAL_PREFIX):
            return serial[len(setup_runner.VIRTUAL_SERIAL_PREFIX):].lower()
        return "—"

    def role_of(self, device: str) -> str:
        for r, p in enumerate(self.ports):
            combo = self.table.cellWidget(r, len(COLUMNS) - 1)
            if p.device == device and combo is not None:
                return combo.currentText()
        return "—"

    def set_role(self, device: str, role: str) -> None:
        for r, p in enumerate(self.ports):
            if p.device == device:
                self.table.cellWidget(r, len(COLUMNS) - 1).setCurrentText(role)

    def chosen(self, role: str) -> hardware_scan.SerialPortInfo | None:
        hits = [p for p in self.ports if self.role_of(p.device) == role]
        return hits[0] if len(hits) == 1 else None

    def identify(self) -> None:
        try:
            run = setup_runner.identify_port(virtual=self.page.is_virtual)
        except RuntimeError as e:
            self.message.error(f"Identify: {error_text(e)}")
            return
        self.identify_button.setEnabled(False)
        self.flow.start(run, self._identified)

    def _identified(self, status) -> None:
        self.identify_button.setEnabled(True)
        port = status.result
        if status.state == "done" and port is not None:
            self.identified = port
            self.refresh(f"the arm is on {port.device}"
                         + (f" (USB serial {port.serial_number})" if port.serial_number else "")
                         + ": it is selected in the table; set its role", select=port.device)
        else:
            self.refresh()
