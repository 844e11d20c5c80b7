"""A page that part 2 of the desktop app fills in; until then it says in one line what it will do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PlaceholderPage(QWidget):
    title = ""
    explanation = ""

    def __init__(self, ctx=None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.label = QLabel(self.explanation)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("color: #555; font-size: 14px;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
