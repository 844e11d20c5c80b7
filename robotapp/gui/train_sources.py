"""What the Train page trains on and from: more datasets to train together with the first one (e.g. the
corrections recorded while evaluating, next to the demonstrations), each dataset's share of the sampled frames,
and an optional run to fine-tune from."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from policies.run_folder import fine_tune_start, run_of

PATH_ROLE = Qt.ItemDataRole.UserRole

WEIGHTS_TIP = ("each dataset's share of the sampled frames: balanced (equal shares whatever their sizes: 20 "
               "correction episodes count as much as 50 demonstrations), frames (proportional to their frames), or "
               "one weight per dataset, e.g. 1,3")
FINE_TUNE_TIP = ("a training run (its last checkpoint) or a checkpoint folder: the new run starts from its weights "
                 "and keeps its config and normalisation stats (the policy reads observations as the original did), "
                 "with a fresh optimiser and schedule, in a new run folder. Empty: train from scratch")


class DatasetList(QWidget):
    """Datasets trained together with the first one: a short list with Add… and Remove."""

    def __init__(self, start_dir=lambda: "", parent=None):
        super().__init__(parent)
        self._start_dir = start_dir
        self.list = QListWidget()
        self.list.setMaximumHeight(70)
        self.list.setToolTip("more datasets trained together with the first one (they must agree on fps, robot "
                             "type, joints and cameras)")
        self.add_button = QPushButton("Add…")
        self.add_button.clicked.connect(self._browse)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QVBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.list, 1)
        row.addLayout(buttons)

    def paths(self) -> list[str]:
        return [self.list.item(i).data(PATH_ROLE) for i in range(self.list.count())]

    def set_paths(self, paths: list[str]) -> None:
        self.list.clear()
        for p in paths:
            self.add_path(p)

    def add_path(self, path: str) -> None:
        path = str(path).strip()
        if path and path not in self.paths():
            item = QListWidgetItem(path)
            item.setData(PATH_ROLE, path)
            item.setToolTip(path)
            self.list.addItem(item)

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Another dataset to train on", self._start_dir())
        if path:
            self.add_path(path)


class FolderField(QWidget):
    """A folder path with Browse… and Clear."""

    def __init__(self, placeholder: str, title: str, start_dir=lambda: "", parent=None):
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self._title, self._start_dir = title, start_dir
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.edit.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)
        row.addWidget(clear)

    def text(self) -> str:
        return self.edit.text().strip()

    def setText(self, text: str) -> None:  # noqa: N802 - as QLineEdit
        self.edit.setText(text)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self._title, self.text() or self._start_dir())
        if path:
            self.edit.setText(path)


def fine_tune_folder(run: str) -> tuple[Path, str]:
    """A new run folder for fine-tuning `run` (<run>-finetune, -finetune-2, ... next to it) and the run's policy
    type ('' when its config does not say)."""
    start = Path(run)
    try:
        start = fine_tune_start(run)
        kind = str(json.loads((start / "config.json").read_text()).get("type", ""))
    except (OSError, ValueError):
        kind = ""
    origin = run_of(start) or start
    base, n = origin.with_name(origin.name + "-finetune"), 1
    while base.exists():
        n += 1
        base = origin.with_name(f"{origin.name}-finetune-{n}")
    return base, kind
