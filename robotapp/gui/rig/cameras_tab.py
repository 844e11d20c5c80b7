"""Cameras tab: one card per camera with a thumbnail, its source and size, and the role name it has in the rig
("front", "wrist"), which becomes the dataset's observation.images.<name>. Thumbnails of the open rig's cameras
come from their newest frames; 'Scan' probes the machine for other cameras on a worker thread."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from robotapp.services import hardware_scan

from ..common import MessageLine, error_text, thumbnail

THUMB_W = 240


class CameraCard(QFrame):
    def __init__(self, row: hardware_scan.CameraRow, parent=None):
        super().__init__(parent)
        self.row = row
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # as big as its thumbnail and fields, whatever room the tab has: a stretched card is mostly gap
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.image = QLabel()
        self.image.setFixedSize(THUMB_W, THUMB_W * 3 // 4)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: #202124; color: #bbb;")
        self.set_image(row.thumbnail)
        self.source = QLabel(f"{row.source}  ·  {row.width}×{row.height}")
        self.role = QLineEdit(row.name)
        self.role.setPlaceholderText("role name, e.g. front")
        layout = QVBoxLayout(self)
        layout.addWidget(self.image)
        layout.addWidget(self.source)
        role_row = QHBoxLayout()
        role_row.addWidget(QLabel("Role"))
        role_row.addWidget(self.role, 1)
        layout.addLayout(role_row)

    def set_image(self, image) -> None:
        if image is None:
            self.image.setText("no image")
        else:
            self.image.setPixmap(thumbnail(image, THUMB_W))

    def as_row(self) -> hardware_scan.CameraRow:
        r = self.row
        return hardware_scan.CameraRow(r.source, self.role.text(), r.width, r.height, r.thumbnail)


class CamerasTab(QWidget):
    def __init__(self, page, parent=None):
        super().__init__(parent)
        self.page = page
        self.cards: list[CameraCard] = []
        self.strip = QWidget()
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.strip_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(True)
        self.refresh_button = QPushButton("Refresh thumbnails")
        self.scan_button = QPushButton("Scan for cameras")
        self.refresh_button.clicked.connect(self.refresh)
        self.scan_button.clicked.connect(self.scan)
        self.message = MessageLine()
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.scan_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Cameras. The role name is what the dataset calls the camera "
                                "(observation.images.<role>); leave it empty to leave a camera out."))
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    def profile_changed(self) -> None:
        pass

    def _add(self, row: hardware_scan.CameraRow) -> None:
        card = CameraCard(row)
        self.cards.append(card)
        self.strip_layout.insertWidget(self.strip_layout.count() - 1, card)

    def refresh(self) -> None:
        """Cards for the open rig's cameras, with their newest frames (cards found by a scan stay)."""
        host = self.page.ctx.host
        frames, sources = host.frames(), host.camera_sources()
        by_source = {c.row.source: c for c in self.cards}
        for name, (image, _seq) in frames.items():
            source = sources.get(name, name)
            h, w = image.shape[:2] if image is not None else (0, 0)
            card = by_source.get(source)
            if card is None:
                self._add(hardware_scan.CameraRow(source, name, w, h, image))
            else:
                card.row.thumbnail = image
                card.set_image(image)
        if not frames and not self.cards:
            self.message.info("no rig is open: open one, or scan for cameras")
        elif frames:
            self.message.info(f"{len(frames)} camera(s) on the open rig")

    def scan(self) -> None:
        self.scan_button.setEnabled(False)
        self.message.info("probing cameras…")
        self.page.ctx.watcher.run(hardware_scan.scan_cameras, self._scanned, self._scan_failed)

    def _scanned(self, rows: list[hardware_scan.CameraRow]) -> None:
        self.scan_button.setEnabled(True)
        known = {c.row.source for c in self.cards}
        new = [r for r in rows if r.source not in known]
        for r in new:
            self._add(r)
        virtual = " (the virtual rig's cameras are rendered from its world, not found by a scan)" \
            if self.page.is_virtual else ""
        self.message.info(f"scan found {len(rows)} camera(s), {len(new)} new{virtual}")

    def _scan_failed(self, e: BaseException) -> None:
        self.scan_button.setEnabled(True)
        self.message.error(f"Scan: {error_text(e)}")

    def rows(self) -> list[hardware_scan.CameraRow]:
        return [c.as_row() for c in self.cards]
