"""Application entry: the main window, on the rig used last time if its config is still there, else on the
virtual rig (so a new user sees the whole app work before any hardware is plugged in)."""

from __future__ import annotations

import sys

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from robotapp.core.rig_opener import VIRTUAL
from robotapp.services.rig_host import saved_rig_exists

from .main_window import MainWindow


def startup_rig(last: str | None) -> str:
    return last if saved_rig_exists(last) else VIRTUAL


def run_gui(quit_after: float | None = None, rig: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("robotapp")
    app.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs)  # a platform dialog would swallow Space
    # Python's cycle collector runs on whichever thread allocates; freeing a Qt object there while the window
    # thread frees another deadlocks (a Qt lock against the interpreter's). So it runs on the window's thread only.
    gc_timer = GarbageCollector(interval=0.5)  # noqa: F841 (kept alive by this frame for the app's lifetime)
    window = MainWindow()
    window.show()
    window.open_rig(rig or startup_rig(window.settings.value("rig/last")))
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), window.close)
        QTimer.singleShot(int(quit_after * 1000) + 50, app.quit)
    code = app.exec()
    print(f"robotapp gui: window closed after showing {window.tabs.count()} page(s)", flush=True)
    return code
