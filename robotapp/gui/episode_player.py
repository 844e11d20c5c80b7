"""One episode played back: every camera's video under its name, the joints (state solid, action dashed, said
in the legend) with a cursor, a scrubber that seeks to the click, Left/Right one frame, play/pause at the
dataset fps, the frames where a person took over from the policy (an evaluation's "intervention" feature)
shaded, and trimming that cannot hurt: marks (the frames to cut at the start and the end, shaded on the
plot) -> a preview (the scrubber and playback keep to the frames that would stay; nothing on disk changes) ->
Confirm writes it, Cancel goes back to the marks. Undo after a trim is the page's (it knows the dataset).
Frames are decoded on a worker (at most 240 px high) and then only indexed."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from policies.frame_keys import ACTION_KEY, STATE_KEY, camera_name
from robotapp.dataset.features import INTERVENTION_KEY

from .camera_views import CameraViews
from .dataset_rows import TAKEN_OVER_WORDS, intervention_spans
from .keys import shortcut
from .seek_slider import SeekSlider

COLORS = ("#1565c0", "#ef6c00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f")
MAX_HEIGHT = 240
CUT_BRUSH = (200, 0, 0, 40)
PREVIEW_CUT_BRUSH = (90, 90, 90, 150)  # in the preview the cut frames are greyed out, as gone
TAKEN_OVER_BRUSH = (255, 193, 7, 70)  # a highlighter's amber: where a person drove instead of the policy
TAKEN_OVER_PEN = (230, 150, 0, 160)


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
    trim_requested = Signal(int, int, int)  # confirmed in the preview: episode, frames cut at the start, at the end
    undo_requested = Signal()
    problem = Signal(str)  # a one-line error for the page's message line

    def __init__(self, parent=None, key_scope: QWidget | None = None):
        """key_scope: where Left/Right step a frame while the focus is in it (default: this player)."""
        super().__init__(parent)
        self.episode: dict | None = None
        self.frame = 0
        self.previewing = False
        self.cameras = CameraViews()
        self.empty_note = QLabel("Select an episode to play it: its cameras, and its joints over time.")
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(False, False)
        self.plot.setLabel("bottom", "frame")
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # no "(x0.001)" scale: degrees and frames as they are
        self.legend = self.plot.addLegend(offset=(5, 5), labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 200))
        self.plot.scene().sigMouseClicked.connect(self._plot_clicked)
        self.cursor = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#333", width=1))
        self.plot.addItem(self.cursor)
        self.cut_start = pg.LinearRegionItem((0, 0), movable=False, brush=pg.mkBrush(*CUT_BRUSH))
        self.cut_end = pg.LinearRegionItem((0, 0), movable=False, brush=pg.mkBrush(*CUT_BRUSH))
        self.plot.addItem(self.cut_start)
        self.plot.addItem(self.cut_end)
        self.taken_over: list[tuple[int, int]] = []  # [start, end) frames a person drove (intervention)
        self.taken_over_regions: list[pg.LinearRegionItem] = []
        self.slider = SeekSlider()
        self.slider.valueChanged.connect(self.show_frame)
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.position = QLabel("—")
        self.trim_start = QSpinBox(minimum=0, maximum=0, prefix="cut start: ", suffix=" frames")
        self.trim_end = QSpinBox(minimum=0, maximum=0, prefix="cut end: ", suffix=" frames")
        for box in (self.trim_start, self.trim_end):
            box.valueChanged.connect(self._show_cuts)
        self.start_here = QPushButton("Start here")
        self.start_here.setToolTip("cut the frames before the one shown")
        self.start_here.clicked.connect(lambda: self.trim_start.setValue(self.frame))
        self.end_here = QPushButton("End here")
        self.end_here.setToolTip("cut the frames after the one shown")
        self.end_here.clicked.connect(lambda: self.trim_end.setValue(self.frame_count() - 1 - self.frame))
        self.trim_button = QPushButton("Preview trim…")
        self.trim_button.setToolTip("see the episode as it would be; nothing is written until you confirm")
        self.trim_button.clicked.connect(self.preview_trim)
        self.undo_button = QPushButton("Undo trim")
        self.undo_button.clicked.connect(self.undo_requested)
        self.undo_button.hide()
        self.preview_text = QLabel()
        self.preview_text.setWordWrap(True)
        self.confirm_button = QPushButton("Confirm trim")
        self.confirm_button.clicked.connect(self._confirm)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_preview)
        self.preview_bar = QWidget()
        pb = QHBoxLayout(self.preview_bar)
        pb.setContentsMargins(6, 2, 6, 2)
        pb.addWidget(self.preview_text, 1)
        pb.addWidget(self.confirm_button)
        pb.addWidget(self.cancel_button)
        self.preview_bar.setStyleSheet("background: #fff3e0;")
        self.preview_bar.hide()
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.position)
        trim = QHBoxLayout()
        for w in (self.trim_start, self.start_here, self.trim_end, self.end_here, self.trim_button,
                  self.undo_button):
            trim.addWidget(w)
        trim.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.cameras)
        layout.addWidget(self.empty_note, 1)
        layout.addWidget(self.plot, 1)
        layout.addLayout(controls)
        layout.addLayout(trim)
        layout.addWidget(self.preview_bar)
        self._timer = QTimer(self, timeout=self._advance)
        # Left/Right one frame (never Space: that is the E-STOP everywhere, keys.py)
        scope = key_scope or self
        self.frame_keys = [shortcut(Qt.Key.Key_Left, scope, lambda: self.step(-1)),
                           shortcut(Qt.Key.Key_Right, scope, lambda: self.step(1))]
        self.set_episode(None)

    @property
    def video_labels(self) -> dict[str, QLabel]:
        return self.cameras.images

    def frame_count(self) -> int:
        return len(self.episode["data"][ACTION_KEY]) if self.episode else 0

    def kept_range(self) -> tuple[int, int]:
        """The first and last frame the scrubber may show: all of them, or in a preview those that would stay."""
        n = self.frame_count()
        if self.previewing:
            return self.trim_start.value(), n - 1 - self.trim_end.value()
        return 0, max(0, n - 1)

    def set_episode(self, episode: dict | None) -> None:
        self._timer.stop()
        self.play_button.setText("Play")
        self._set_preview(False)
        self.episode = episode
        for item in list(self.plot.listDataItems()):
            self.plot.removeItem(item)
        self.legend.clear()
        self._show_taken_over([])
        n = self.frame_count()
        for w in (self.slider, self.play_button, self.trim_start, self.trim_end, self.start_here, self.end_here,
                  self.trim_button):
            w.setEnabled(n > 0)
        self.plot.setVisible(episode is not None)  # an empty plot only shows a meaningless axis
        self.empty_note.setVisible(episode is None)
        self.cameras.set_cameras(list(episode["videos"]) if episode else [])
        if episode is None:
            self.position.setText("—")
            return
        state = episode["data"].get(STATE_KEY)
        action = episode["data"].get(ACTION_KEY)
        key = pg.mkPen("#555", width=2)
        self.legend.addItem(pg.PlotDataItem(pen=key), "state (solid)")
        if action is not None:
            self.legend.addItem(pg.PlotDataItem(pen=pg.mkPen("#555", width=1, style=Qt.PenStyle.DashLine)),
                                "action (dashed)")
        x = np.arange(n)
        for j in range(state.shape[1] if state is not None else 0):
            color = COLORS[j % len(COLORS)]
            name = episode["names"][j] if j < len(episode["names"]) else f"joint {j}"
            self.plot.plot(x, state[:, j], pen=pg.mkPen(color, width=2), name=name.removesuffix(".pos"))
            if action is not None:
                self.plot.plot(x, action[:, j], pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
        flags = episode["data"].get(INTERVENTION_KEY)
        self._show_taken_over(intervention_spans(flags) if flags is not None else [])
        self.slider.setPageStep(max(1, int(episode["fps"])))  # Page Up/Down: a second
        for box in (self.trim_start, self.trim_end):
            box.setMaximum(max(0, n - 2))
            box.setValue(0)
        self._show_cuts()
        self._set_range()
        self._timer.setInterval(int(1000 / episode["fps"]))
        self.slider.setValue(0)
        self.show_frame(0)

    def _set_range(self) -> None:
        lo, hi = self.kept_range()
        self.slider.blockSignals(True)
        self.slider.setRange(lo, hi)
        self.slider.blockSignals(False)

    def show_frame(self, k: int) -> None:
        if self.episode is None:
            return
        lo, hi = self.kept_range()
        self.frame = k = int(np.clip(k, lo, hi))
        self.cameras.show_images({name: frames[k] for name, frames in self.episode["videos"].items()
                                  if k < len(frames)})
        self.cursor.setValue(k)
        fps, n = self.episode["fps"], self.frame_count()
        text = f"{k + 1}/{n}  ·  {k / fps:.2f} s"
        if self.previewing:
            text += f"  (kept frame {k - lo + 1}/{hi - lo + 1})"
        if any(a <= k < b for a, b in self.taken_over):
            text += f"  ·  {TAKEN_OVER_WORDS}"
        self.position.setText(text)
        if self.slider.value() != k:
            self.slider.blockSignals(True)
            self.slider.setValue(k)
            self.slider.blockSignals(False)

    def step(self, delta: int) -> None:
        """One frame back or on (Left/Right); stops playback so the frame stays where the key put it."""
        if self.episode is None:
            return
        if self._timer.isActive():
            self.toggle_play()
        self.show_frame(self.frame + delta)

    def _plot_clicked(self, event) -> None:
        if self.episode is None or event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getPlotItem().vb
        if vb.sceneBoundingRect().contains(event.scenePos()):
            self.show_frame(int(round(vb.mapSceneToView(event.scenePos()).x())))

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.play_button.setText("Play")
        elif self.episode is not None:
            if self.frame >= self.kept_range()[1]:
                self.show_frame(self.kept_range()[0])
            self._timer.start()
            self.play_button.setText("Pause")

    def _advance(self) -> None:
        if self.frame >= self.kept_range()[1]:
            self.toggle_play()
            return
        self.show_frame(self.frame + 1)

    def _show_taken_over(self, spans: list[tuple[int, int]]) -> None:
        """One translucent band per run of frames a person drove, said in the legend and on hover."""
        for region in self.taken_over_regions:
            self.plot.removeItem(region)
        self.taken_over, self.taken_over_regions = list(spans), []
        if not spans:
            return
        fps = self.episode["fps"]
        for a, b in spans:  # frames a..b-1, each drawn at its index: the band covers them edge to edge
            region = pg.LinearRegionItem((a - 0.5, b - 0.5), movable=False, brush=pg.mkBrush(*TAKEN_OVER_BRUSH),
                                         pen=pg.mkPen(*TAKEN_OVER_PEN))
            region.setZValue(-20)  # under the curves and the trim marks
            region.setToolTip(f"{TAKEN_OVER_WORDS}: frames {a + 1}–{b} ({a / fps:.2f}–{b / fps:.2f} s)")
            self.plot.addItem(region)
            self.taken_over_regions.append(region)
        sample = pg.BarGraphItem(x=[0], height=[1], width=1, brush=pg.mkBrush(*TAKEN_OVER_BRUSH),
                                 pen=pg.mkPen(*TAKEN_OVER_PEN))
        self.legend.addItem(sample, TAKEN_OVER_WORDS)

    def _show_cuts(self) -> None:
        n = self.frame_count()
        self.cut_start.setRegion((0, self.trim_start.value()))
        self.cut_end.setRegion((n - 1 - self.trim_end.value(), n - 1))
        self.cut_start.setVisible(self.trim_start.value() > 0)  # an empty region still draws its edges
        self.cut_end.setVisible(self.trim_end.value() > 0)

    # ------------------------------------------------------------------ trim preview
    def preview_trim(self) -> None:
        """Show the episode as the trim would leave it; nothing is written until Confirm."""
        if self.episode is None:
            return
        start, end, n = self.trim_start.value(), self.trim_end.value(), self.frame_count()
        if start == 0 and end == 0:
            self.problem.emit("trim: set the frames to cut at the start or the end first (Start here / End here)")
            return
        if start + end >= n - 1:
            self.problem.emit(f"trim: cutting {start} + {end} of {n} frames would leave fewer than 2")
            return
        self._set_preview(True)
        ep = self.episode["episode"]
        self.preview_text.setText(
            f"Preview: episode {ep} would keep frames {start + 1}–{n - end} of {n} ({n - start - end} frames; "
            f"cut {start} at the start, {end} at the end). Nothing is written until you confirm.")
        self.show_frame(self.frame)

    def cancel_preview(self) -> None:
        """Back to the marks, with every frame in view; the episode on disk was never touched."""
        self._set_preview(False)
        self.show_frame(self.frame)

    def _confirm(self) -> None:
        if self.episode is not None and self.previewing:
            self.trim_requested.emit(self.episode["episode"], self.trim_start.value(), self.trim_end.value())

    def _set_preview(self, on: bool) -> None:
        self.previewing = on
        self.preview_bar.setVisible(on)
        for w in (self.trim_start, self.trim_end, self.start_here, self.end_here, self.trim_button):
            w.setEnabled(not on and self.episode is not None)
        brush = pg.mkBrush(*(PREVIEW_CUT_BRUSH if on else CUT_BRUSH))
        for region in (self.cut_start, self.cut_end):
            region.setBrush(brush)
            region.update()
        if self.episode is not None:
            self._set_range()

    def show_undo(self, text: str | None) -> None:
        """The page offers to undo its last trim (text: the button's label), or no longer (None)."""
        self.undo_button.setVisible(text is not None)
        if text is not None:
            self.undo_button.setText(text)

    def stop(self) -> None:
        self._timer.stop()
