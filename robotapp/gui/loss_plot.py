"""The training loss curve (pyqtgraph): exactly the rows of train_log.csv, redrawn when new rows arrive."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

LOSS_PEN = pg.mkPen("#1565c0", width=2)


class LossPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
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
        self.curve.setData(np.asarray(self.steps, dtype=float), np.asarray(self.losses, dtype=float),
                           connect="finite")
