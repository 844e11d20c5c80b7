"""Application entry: the main window, on the rig used last time if its config is still there, else on the
virtual rig (so a new user sees the whole app work before any hardware is plugged in). Closing the window (or
Ctrl+Q) quits."""

from __future__ import annotations

import sys

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow, startup_rig

__all__ = ["run_gui", "startup_rig"]


def run_gui(quit_after: float | None = None, rig: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("robotapp")
    app.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs)  # a platform dialog would swallow Space
    # Python's cycle collector runs on whichever thread allocates; freeing a Qt object there while the window
    # thread frees another deadlocks (a Qt lock against the interpreter's). So it runs on the window's thread only.
    gc_timer = GarbageCollector(interval=0.5)  # noqa: F841 (kept alive by this frame for the app's lifetime)
    window = MainWindow()  # it opens again what was open last time: dataset, record settings, evaluations
    window.show()
    if rig:
        window.open_rig(rig)
    else:
        window.open_last_rig()
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), window.close)
        QTimer.singleShot(int(quit_after * 1000) + 50, app.quit)
    code = app.exec()
    print(f"robotapp gui: window closed after showing {window.tabs.count()} page(s)", flush=True)
    return code
