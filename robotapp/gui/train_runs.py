"""The training runs on disk, for the Train page: every run folder in the runs folder (newest first) with its last
step and loss; picking one shows its curve and checkpoints. The page remembers the one shown last."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
)

from robotapp.jobs.training_job import RunSummary, find_runs

PATH_ROLE = Qt.ItemDataRole.UserRole


class CompactList(QListWidget):
    """A list that asks for a few rows, not Qt's 192 px: the page's column fits a laptop screen unscrolled."""

    def sizeHint(self):  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        hint.setHeight(120)
        return hint


def run_text(run: RunSummary) -> str:
    loss = f", loss {run.loss:.4g}" if math.isfinite(run.loss) else ""
    saved = f", {run.checkpoints} checkpoint(s)" if run.checkpoints else ", no checkpoint"
    return f"{run.name} — step {run.step}{loss}{saved}"


class RunsList(QGroupBox):
    run_selected = Signal(str)  # a run folder

    def __init__(self, parent=None):
        super().__init__("Runs on disk", parent)
        self.folder: Path | None = None
        self.where = QLabel()
        self.where.setStyleSheet("color: #555;")
        self.where.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # a long path is cut
        self.list = CompactList()
        self.list.setMinimumHeight(90)
        self.list.currentItemChanged.connect(self._picked)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda: self.refresh())
        top = QHBoxLayout()
        top.addWidget(self.where, 1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        self._quiet = False

    def refresh(self, folder: str | Path | None = None, select: str | Path | None = None) -> None:
        """List the runs in `folder` (default: the one listed last) and select `select` (default: the same run
        as before) without announcing it: the page shows what it asked for itself."""
        if folder is not None:
            self.folder = Path(folder)
        keep = str(select) if select is not None else self.selected()
        runs = find_runs(self.folder) if self.folder is not None else []
        self.where.setText(f"in {self.folder}" if self.folder is not None else "")
        self.where.setToolTip(str(self.folder or ""))
        self._quiet = True
        try:
            self.list.clear()
            for run in runs:
                item = QListWidgetItem(run_text(run))
                item.setData(PATH_ROLE, str(run.path))
                item.setToolTip(str(run.path))
                self.list.addItem(item)
                if keep and Path(keep) == run.path:
                    self.list.setCurrentItem(item)
            if not runs:
                self.list.addItem(QListWidgetItem("no training run here yet"))
                self.list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        finally:
            self._quiet = False

    def selected(self) -> str:
        item = self.list.currentItem()
        return (item.data(PATH_ROLE) or "") if item is not None else ""

    def paths(self) -> list[str]:
        return [self.list.item(i).data(PATH_ROLE) for i in range(self.list.count())
                if self.list.item(i).data(PATH_ROLE)]

    def _picked(self, item, _previous) -> None:
        if not self._quiet and item is not None and item.data(PATH_ROLE):
            self.run_selected.emit(item.data(PATH_ROLE))
