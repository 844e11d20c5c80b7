"""Live camera previews. A 30 Hz timer takes each camera's newest frame (never waiting: the camera's reader
thread or the virtual world publishes it) and repaints only when it is new; the shown rate is measured here, in
the window, so a user sees what reaches the screen rather than what the camera claims."""

from __future__ import annotations

import time
from collections import deque

import cv2
import numpy as np
from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from ..common import rgb_to_qimage

PREVIEW_HZ = 30


class CameraPreview(QWidget):
    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self._image: np.ndarray | None = None
        self._qimage = None
        self._seq = -1
        self._shown: deque[float] = deque(maxlen=120)
        self.frames_shown = 0
        self.camera_fps = 0.0  # what the camera delivers, from the session snapshot
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_frame(self, image: np.ndarray | None, seq: int) -> None:
        if image is None:
            if self._image is not None:
                self._image, self._qimage = None, None
                self.update()
            return
        if seq == self._seq:
            return
        # Scaled here with OpenCV, which lets go of the interpreter lock while it works; painting then copies the
        # image 1:1. A smooth QPainter scale holds the lock for milliseconds (the control loop shares it).
        h, w = image.shape[:2]
        scale = min(self.width() / w, self.height() / h)
        size = (max(1, int(w * scale)), max(1, int(h * scale)))
        if size != (w, h):
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        self._seq, self._image = seq, image  # keep the array: the QImage points into it
        self._qimage = rgb_to_qimage(image)
        self._shown.append(time.monotonic())
        self.frames_shown += 1
        self.update()

    @property
    def fps(self) -> float:
        """New frames painted per second over the last second."""
        now = time.monotonic()
        recent = [t for t in self._shown if t >= now - 1.0]
        if len(recent) < 2 or now - recent[0] <= 0:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0]) if recent[-1] > recent[0] else 0.0

    def paintEvent(self, event):  # noqa: N802 (Qt naming)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#202124"))
        if self._qimage is not None:
            img = self._qimage  # already at its size on screen (set_frame); a resize rescales at the next frame
            scale = min(self.width() / img.width(), self.height() / img.height())
            w, h = int(img.width() * scale), int(img.height() * scale)
            target = QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)
            p.drawImage(target, img)
        else:
            p.setPen(QColor("#bbbbbb"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, f"{self.name}: no image")
        label = f" {self.name} · {self.fps:.1f} fps shown" + (f" / camera {self.camera_fps:.0f}" if self.camera_fps else "") + " "
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        box = p.fontMetrics().boundingRect(label).adjusted(-2, -2, 4, 2)
        box.moveTopLeft(self.rect().topLeft() + QRect(0, 0, 6, 6).bottomRight())
        p.fillRect(box, QColor(0, 0, 0, 160))
        p.setPen(QColor("white"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        p.end()


class CameraPreviews(QWidget):
    """One preview per camera of the open rig, side by side."""

    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.host = host
        self.previews: dict[str, CameraPreview] = {}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self.timer = QTimer(self, interval=int(1000 / PREVIEW_HZ), timeout=self.refresh)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer beats against 30 fps and skips
        self.timer.start()

    def _layout_for(self, names: list[str]) -> None:
        if list(self.previews) == names:
            return
        for w in self.previews.values():
            w.setParent(None)
            w.deleteLater()
        self.previews = {n: CameraPreview(n) for n in names}
        for k, w in enumerate(self.previews.values()):
            self._grid.addWidget(w, 0, k)

    def refresh(self) -> None:
        if not self.isVisible():
            return  # a hidden page costs nothing
        frames = self.host.frames()
        self._layout_for(list(frames))
        snap = self.host.snapshot()
        cam_fps = snap.camera_fps if snap is not None else {}
        for name, (image, seq) in frames.items():
            self.previews[name].camera_fps = cam_fps.get(name, 0.0)
            self.previews[name].set_frame(image, seq)

    def fps(self) -> dict[str, float]:
        return {n: w.fps for n, w in self.previews.items()}
