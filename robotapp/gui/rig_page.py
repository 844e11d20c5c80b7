"""Rig page: the arm's motors and their health, redrawn from the monitor's snapshot on a timer."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from robotapp.runtime.monitor import MotorMonitor

COLUMNS = ["Motor", "ID", "Model", "Position", "Temp (°C)", "Voltage (V)", "Hardware error"]


class RigPage(QWidget):
    def __init__(self, monitor: MotorMonitor, port: str, parent=None):
        super().__init__(parent)
        self.monitor = monitor
        self.header = QLabel(f"Follower arm on <b>{port}</b> (virtual rig: emulated servos speaking Protocol 2.0)")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.table)
        layout.addWidget(self.problem)
        self.timer = QTimer(self, interval=100, timeout=self.refresh)
        self.timer.start()
        self.refresh()

    def refresh(self) -> None:
        snap = self.monitor.snapshot()
        self.table.setRowCount(len(snap.rows))
        for r, row in enumerate(snap.rows):
            values = [row.name, row.id, row.model, row.position, row.temperature, f"{row.voltage:.1f}",
                      row.hardware_error]
            for c, v in enumerate(values):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(str(v))
        self.problem.setText(snap.error)
