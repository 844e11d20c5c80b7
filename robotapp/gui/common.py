"""Small pieces every page uses: the app context, a Future watcher (the GUI thread never waits on a Future: a
timer looks at them), the one-line message label, image conversion and table helpers."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem

from robotapp.services.rig_host import RigHost

from .shown_state import ShownState

ERROR_STYLE = "color: #b00020; font-weight: 600;"
INFO_STYLE = "color: #1b5e20;"
_PROBLEM_BG = QColor("#ffe0e0")


class Watcher(QObject):
    """Calls back on the GUI thread when a Future finishes: on_ok(result) or on_error(exception)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 30):
        super().__init__(parent)
        self._items: list[tuple[Future, Callable | None, Callable | None]] = []
        self._timer = QTimer(self, interval=interval_ms, timeout=self._poll)
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="gui-job")
        self._closed = False

    def run(self, fn: Callable[[], object], on_ok: Callable | None = None,
            on_error: Callable | None = None) -> Future:
        """Run a slow call (port listing, camera scan) on a worker thread; callbacks on the GUI thread."""
        if self._closed:
            fut: Future = Future()
            fut.cancel()
            return fut
        return self.watch(self._pool.submit(fn), on_ok, on_error)

    def shutdown(self) -> None:
        """The window is closing: no more callbacks into widgets being torn down."""
        self._closed = True
        self._timer.stop()
        self._items.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def watch(self, future: Future, on_ok: Callable | None = None, on_error: Callable | None = None) -> Future:
        if self._closed:
            return future
        self._items.append((future, on_ok, on_error))
        if not self._timer.isActive():
            self._timer.start()
        return future

    @property
    def pending(self) -> int:
        return len(self._items)

    def _poll(self) -> None:
        done = [item for item in self._items if item[0].done()]
        self._items = [item for item in self._items if not item[0].done()]
        for fut, on_ok, on_error in done:
            exc = None if fut.cancelled() else fut.exception()
            if exc is not None or fut.cancelled():
                if on_error is not None:
                    on_error(exc or RuntimeError("cancelled"))
            elif on_ok is not None:
                on_ok(fut.result())
        if not self._items:
            self._timer.stop()


@dataclass
class AppContext:
    host: RigHost
    watcher: Watcher
    settings: QSettings
    state: ShownState = field(default=None)  # the one state every page shows (made from the host if not given)

    def __post_init__(self):
        if self.state is None:
            self.state = ShownState(self.host)


class MessageLine(QLabel):
    """The one-line message under a form: red for a problem (naming the field at fault), green for news."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._error = False

    def error(self, text: str) -> None:
        self._show(text, error=True)

    def info(self, text: str) -> None:
        self._show(text, error=False)

    def clear(self) -> None:
        self._error = False
        super().clear()

    def _show(self, text: str, error: bool) -> None:
        self._error = error
        self.setStyleSheet(ERROR_STYLE if error else INFO_STYLE)
        self.setText(one_line(text))

    @property
    def is_error(self) -> bool:
        """A problem is shown (not news, and not cleared)."""
        return self._error and bool(self.text())


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def error_text(exc: BaseException) -> str:
    return one_line(str(exc) or type(exc).__name__)


def rgb_to_qimage(image: np.ndarray) -> QImage:
    """Wraps an HxWx3 uint8 RGB array without copying: the caller keeps the array alive (camera frames are
    read-only and never reused, so holding the reference is enough)."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_RGB888)


def thumbnail(image: np.ndarray | None, width: int = 160) -> QPixmap:
    if image is None:
        return QPixmap()
    pix = QPixmap.fromImage(rgb_to_qimage(image).copy())
    return pix.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)


def make_table(columns: list[str], stretch_last: bool = True) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(22)  # dense rows: a 12-motor table fits without scrolling
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(stretch_last)
    return table


def fill_table(table: QTableWidget, rows: list[list[object]], problem_column: int | None = None) -> None:
    """Set every cell's text; a row with text in `problem_column` is tinted so problems stand out."""
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        bad = problem_column is not None and bool(str(row[problem_column]))
        for c, value in enumerate(row):
            item = table.item(r, c)
            if item is None:
                item = QTableWidgetItem()
                table.setItem(r, c, item)
            item.setText(f"{value:.1f}" if isinstance(value, float) else str(value))
            item.setToolTip(str(value) if len(str(value)) > 30 else "")
            item.setBackground(Qt.GlobalColor.transparent if not bad else _PROBLEM_BG)
    table.resizeColumnsToContents()


def table_texts(table: QTableWidget, column: int) -> list[str]:
    return [table.item(r, column).text() if table.item(r, column) else "" for r in range(table.rowCount())]

