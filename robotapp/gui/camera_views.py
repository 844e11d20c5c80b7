"""A row of camera images, each under its camera's name (the Dataset page's player and the replay panel)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .common import rgb_to_qimage


class CameraViews(QWidget):
    def __init__(self, caption: str = "{name}", parent=None):
        """caption: each view's title, "{name}" standing for the camera's name (e.g. "recorded · {name}")."""
        super().__init__(parent)
        self.caption = caption
        self.images: dict[str, QLabel] = {}
        self.titles: dict[str, QLabel] = {}
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)

    def set_cameras(self, names: list[str]) -> None:
        while self._row.count():
            item = self._row.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
                item.widget().deleteLater()
        self.images.clear()
        self.titles.clear()
        for name in names:
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(2)
            title = QLabel(self.caption.format(name=name))
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setStyleSheet("font-weight: 600;")
            image = QLabel()
            image.setAlignment(Qt.AlignmentFlag.AlignCenter)
            image.setToolTip(f"camera '{name}'")
            col.addWidget(title)
            col.addWidget(image, 1)
            self._row.addWidget(box)
            self.images[name], self.titles[name] = image, title
        self._row.addStretch(1)
        self.setVisible(bool(names))

    def show_images(self, images: dict[str, np.ndarray]) -> None:
        for name, img in images.items():
            label = self.images.get(name)
            if label is not None and img is not None:
                label.setPixmap(QPixmap.fromImage(rgb_to_qimage(img).copy()))
