"""One episode played back: every camera's video, the joints (state solid, action dashed) with a cursor, a
scrubber and play/pause at the dataset fps, and trim marks (the frames to cut at the start and the end, shown
shaded on the plot). Frames are decoded on a worker (at most 240 px high) and then only indexed."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget

from policies.frame_keys import ACTION_KEY, STATE_KEY, camera_name

from .common import rgb_to_qimage

COLORS = ("#1565c0", "#ef6c00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f")
MAX_HEIGHT = 240


def load_episode(reader, ep: int) -> dict:
    """On a worker: the episode's columns and every camera decoded (downscaled to <= MAX_HEIGHT)."""
    data = {k: np.array(v) for k, v in reader.episode_data(ep).items()}
    videos = {}
    for key in reader.video_keys:
        h, w = reader.features[key]["shape"][:2]
        size = (MAX_HEIGHT, int(round(w * MAX_HEIGHT / h))) if h > MAX_HEIGHT else None
        videos[camera_name(key)] = reader.decode_episode_video(ep, key, size)
    names = reader.features.get(STATE_KEY, {}).get("names") or []
    return {"episode": ep, "data": data, "videos": videos, "fps": reader.fps, "names": list(names)}


class EpisodePlayer(QWidget):
    trim_requested = Signal(int, int, int)  # episode, frames cut at the start, at the end

    def __init__(self, parent=None):
        super().__init__(parent)
        self.episode: dict | None = None
        self.frame = 0
        self.video_row = QHBoxLayout()
        self.video_labels: dict[str, QLabel] = {}
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(False, False)
        self.plot.setLabel("bottom", "frame")
        self.plot.addLegend(offset=(5, 5), labelTextSize="8pt")
        self.cursor = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#333", width=1))
        self.plot.addItem(self.cursor)
        self.cut_start = pg.LinearRegionItem((0, 0), movable=False, brush=pg.mkBrush(200, 0, 0, 40))
        self.cut_end = pg.LinearRegionItem((0, 0), movable=False, brush=pg.mkBrush(200, 0, 0, 40))
        self.plot.addItem(self.cut_start)
        self.plot.addItem(self.cut_end)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self.show_frame)
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.position = QLabel("—")
        self.trim_start = QSpinBox(minimum=0, maximum=0, prefix="cut start: ", suffix=" frames")
        self.trim_end = QSpinBox(minimum=0, maximum=0, prefix="cut end: ", suffix=" frames")
        for box in (self.trim_start, self.trim_end):
            box.valueChanged.connect(self._show_cuts)
        start_here = QPushButton("Start here")
        start_here.clicked.connect(lambda: self.trim_start.setValue(self.frame))
        end_here = QPushButton("End here")
        end_here.clicked.connect(lambda: self.trim_end.setValue(self._length() - 1 - self.frame))
        self.trim_button = QPushButton("Trim")
        self.trim_button.clicked.connect(self._request_trim)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.position)
        trim = QHBoxLayout()
        for w in (self.trim_start, start_here, self.trim_end, end_here, self.trim_button):
            trim.addWidget(w)
        trim.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.video_row)
        layout.addWidget(self.plot, 1)
        layout.addLayout(controls)
        layout.addLayout(trim)
        self._timer = QTimer(self, timeout=self._advance)
        self.set_episode(None)

    def _length(self) -> int:
        return len(self.episode["data"][ACTION_KEY]) if self.episode else 0

    def set_episode(self, episode: dict | None) -> None:
        self._timer.stop()
        self.play_button.setText("Play")
        self.episode = episode
        for label in self.video_labels.values():
            self.video_row.removeWidget(label)
            label.hide()
            label.deleteLater()
        self.video_labels.clear()
        for item in [i for i in self.plot.listDataItems()]:
            self.plot.removeItem(item)
        self.plot.plotItem.legend.clear()
        n = self._length()
        for w in (self.slider, self.play_button, self.trim_start, self.trim_end, self.trim_button):
            w.setEnabled(n > 0)
        if episode is None:
            self.position.setText("—")
            return
        for name in episode["videos"]:
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setToolTip(name)
            self.video_row.addWidget(label)
            self.video_labels[name] = label
        state = episode["data"].get(STATE_KEY)
        action = episode["data"].get(ACTION_KEY)
        x = np.arange(n)
        for j in range(state.shape[1] if state is not None else 0):
            color = COLORS[j % len(COLORS)]
            name = episode["names"][j] if j < len(episode["names"]) else f"joint {j}"
            self.plot.plot(x, state[:, j], pen=pg.mkPen(color, width=2), name=name.removesuffix(".pos"))
            if action is not None:
                self.plot.plot(x, action[:, j], pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
        self.slider.setRange(0, max(0, n - 1))
        for box in (self.trim_start, self.trim_end):
            box.setMaximum(max(0, n - 2))
            box.setValue(0)
        self._timer.setInterval(int(1000 / episode["fps"]))
        self.slider.setValue(0)
        self.show_frame(0)

    def show_frame(self, k: int) -> None:
        if self.episode is None:
            return
        self.frame = k = int(np.clip(k, 0, self._length() - 1))
        for name, label in self.video_labels.items():
            frames = self.episode["videos"][name]
            if k < len(frames):
                img = frames[k]
                label.setPixmap(_pixmap(img))
        self.cursor.setValue(k)
        fps = self.episode["fps"]
        self.position.setText(f"{k + 1}/{self._length()}  ·  {k / fps:.2f} s")
        if self.slider.value() != k:
            self.slider.blockSignals(True)
            self.slider.setValue(k)
            self.slider.blockSignals(False)

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.play_button.setText("Play")
        elif self.episode is not None:
            if self.frame >= self._length() - 1:
                self.show_frame(0)
            self._timer.start()
            self.play_button.setText("Pause")

    def _advance(self) -> None:
        if self.frame >= self._length() - 1:
            self.toggle_play()
            return
        self.show_frame(self.frame + 1)

    def _show_cuts(self) -> None:
        n = self._length()
        self.cut_start.setRegion((0, self.trim_start.value()))
        self.cut_end.setRegion((n - 1 - self.trim_end.value(), n - 1))

    def _request_trim(self) -> None:
        if self.episode is not None:
            self.trim_requested.emit(self.episode["episode"], self.trim_start.value(), self.trim_end.value())

    def stop(self) -> None:
        self._timer.stop()


def _pixmap(img: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(rgb_to_qimage(img).copy())
