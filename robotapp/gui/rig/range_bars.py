"""Live range bars for the calibration sweep: per joint, the encoder's 0..4095 as a track, the range swept so far
filled in, a marker where the joint is now. A range that crossed the encoder's 0/4095 point is drawn red past the
track's ends with the warning beside it, so a user sees the wrap as it happens, not after a bad file is written."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from robotapp.services.calibration_service import wrap_warning

MAX_RES = 4095
ROW_H = 30
NAME_W = 110
TEXT_W = 150


class RangeBars(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.ranges = []
        self.setMinimumHeight(6 * ROW_H + 8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_ranges(self, ranges) -> None:
        self.ranges = list(ranges)
        self.setMinimumHeight(max(6, len(self.ranges)) * ROW_H + 8)
        self.update()

    def warnings(self) -> list[str]:
        return [w for w in (wrap_warning(r) for r in self.ranges) if w]

    def paintEvent(self, event):  # noqa: N802 (Qt naming)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        if not self.ranges:
            p.setPen(QColor("#777"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                       "The bars fill in while you sweep each joint (after recording the middle pose)")
            p.end()
            return
        lo = min(0, *(r.low for r in self.ranges)) - 64
        hi = max(MAX_RES, *(r.high for r in self.ranges)) + 64
        track_x0, track_x1 = NAME_W, self.width() - TEXT_W - 8

        def x(ticks: float) -> float:
            return track_x0 + (ticks - lo) / (hi - lo) * (track_x1 - track_x0)

        for k, r in enumerate(self.ranges):
            y = 4 + k * ROW_H
            wrapped = bool(wrap_warning(r))
            p.setPen(QColor("#222"))
            p.drawText(QRectF(4, y, NAME_W - 8, ROW_H), Qt.AlignmentFlag.AlignVCenter, r.name)
            track = QRectF(x(0), y + 9, x(MAX_RES) - x(0), ROW_H - 18)
            p.fillRect(track, QColor("#e0e0e0"))
            swept = QRectF(x(r.low), y + 9, max(2.0, x(r.high) - x(r.low)), ROW_H - 18)
            p.fillRect(swept, QColor("#c62828" if wrapped else "#1e88e5"))
            if wrapped:  # the part inside the encoder's turn stays blue: only the crossing is red
                inside = swept.intersected(track)
                p.fillRect(inside, QColor("#ef9a9a"))
            p.setPen(QPen(QColor("#757575"), 1, Qt.PenStyle.DashLine))
            for edge in (0, MAX_RES):
                p.drawLine(int(x(edge)), y + 4, int(x(edge)), y + ROW_H - 4)
            p.setPen(QPen(QColor("black"), 3))
            p.drawLine(int(x(r.current)), y + 5, int(x(r.current)), y + ROW_H - 5)
            p.setPen(QColor("#b00020" if wrapped else "#222"))
            text = f"{r.low}..{r.high}  {r.span_degrees:.0f}°" + ("  ⚠ wrap" if wrapped else "")
            p.drawText(QRectF(track_x1 + 8, y, TEXT_W, ROW_H), Qt.AlignmentFlag.AlignVCenter, text)
        p.end()
