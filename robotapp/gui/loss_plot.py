"""The training loss curve (pyqtgraph): exactly the rows of train_log.csv, redrawn when new rows arrive.

The loss falls over orders of magnitude, so its axis is logarithmic, labelled in plain numbers (0.05, 0.1, 0.2,
never "×0.001" or 10⁻¹); the step axis has whole-number ticks only (a step 2.5 does not exist)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

LOSS_PEN = pg.mkPen("#1565c0", width=2)
NICE = (1, 2, 5)  # log ticks at 1, 2, 5 x 10^n; every 1..9 x 10^n when the range is narrower than that


def plain_number(value: float) -> str:
    """0.05, 0.2, 1.5, 30, 1200: at most 3 significant digits, no exponent within 1e-4..1e6."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else ""
    if 1e-4 <= abs(value) < 1e6:
        decimals = max(0, 2 - int(math.floor(math.log10(abs(value)))))
        return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"
    return f"{value:.2g}"


def _linear_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About `count` round values (1, 2 or 5 x 10^n apart) between low and high."""
    raw = (high - low) / count
    base = 10 ** math.floor(math.log10(raw))
    step = next(f * base for f in (1, 2, 5, 10) if f * base >= raw)
    first = math.ceil(low / step)
    return [k * step for k in range(first, math.floor(high / step) + 1) if k * step > 0]


class LogLossAxis(pg.AxisItem):
    """A log10 axis whose ticks are at round values, labelled as plain numbers."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        if not self.logMode or not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal:
            return super().tickValues(minVal, maxVal, size)
        for factors in (NICE, range(1, 10)):
            ticks = [math.log10(f) + d for d in range(math.floor(minVal), math.ceil(maxVal) + 1) for f in factors]
            inside = [t for t in ticks if minVal <= t <= maxVal]
            if len(inside) >= 3:
                return [(1.0, inside)]
        return [(1.0, [math.log10(v) for v in _linear_ticks(10 ** minVal, 10 ** maxVal)])]  # a narrow range

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [plain_number(10 ** v * scale) for v in values]


class StepAxis(pg.AxisItem):
    """An axis of optimiser steps: ticks on whole numbers only."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        levels = [(spacing, offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size) if spacing >= 1]
        return [(float(round(spacing)), offset) for spacing, offset in levels] or [(1.0, 0.0)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [f"{round(v * scale):d}" for v in values]


class LossPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss_axis = LogLossAxis("left")
        self.step_axis = StepAxis("bottom")
        self.plot = pg.PlotWidget(axisItems={"left": self.loss_axis, "bottom": self.step_axis})
        for axis in (self.loss_axis, self.step_axis):
            axis.enableAutoSIPrefix(False)  # no "(×0.001)" in the label
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss (log scale)")
        self.plot.setLogMode(x=False, y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMouseEnabled(False, False)
        self.curve = self.plot.plot([], [], pen=LOSS_PEN, symbol="o", symbolSize=4, symbolBrush="#1565c0")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.steps: list[float] = []
        self.losses: list[float] = []

    def clear(self) -> None:
        self.steps, self.losses = [], []
        self.curve.setData([], [])

    def set_rows(self, rows: list[dict]) -> None:
        self.steps = [r["step"] for r in rows]
        self.losses = [r["loss"] for r in rows]
        self._redraw()

    def add_rows(self, rows: list[dict]) -> None:
        if not rows:
            return
        self.steps += [r["step"] for r in rows]
        self.losses += [r["loss"] for r in rows]
        self._redraw()

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """What the curve shows (step, loss), for tests and for anyone comparing with the CSV."""
        x, y = self.curve.getOriginalDataset()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))

    def _redraw(self) -> None:
        losses = np.asarray(self.losses, dtype=float)
        losses[~(losses > 0)] = np.nan  # a log axis has no place for 0 (or a NaN row): a gap in the curve
        self.curve.setData(np.asarray(self.steps, dtype=float), losses, connect="finite")
