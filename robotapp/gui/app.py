"""Application entry: the main window on the virtual rig (hardware rigs come with the Rig page's setup flow)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget

from robotapp.runtime.monitor import VirtualFollower

from .rig_page import RigPage


class MainWindow(QMainWindow):
    def __init__(self, follower: VirtualFollower):
        super().__init__()
        self.follower = follower
        self.setWindowTitle("robotapp — virtual rig")
        self.resize(960, 540)
        self.tabs = QTabWidget()
        self.rig_page = RigPage(follower.monitor, follower.link.url)
        self.tabs.addTab(self.rig_page, "Rig")
        self.setCentralWidget(self.tabs)
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status)
        self._status_timer = QTimer(self, interval=250, timeout=self._update_status)
        self._status_timer.start()
        self._update_status()

    def _update_status(self) -> None:
        snap = self.follower.monitor.snapshot()
        s = snap.stats
        self.status.setText(f"rig: virtual · bus polls {snap.poll_hz:.0f} Hz · retries {s.get('retries', 0)} · "
                            f"timeouts {s.get('timeouts', 0)} · CRC errors {s.get('crc_errors', 0)}")

    def closeEvent(self, event):  # noqa: N802 (Qt naming)
        self.follower.close()
        super().closeEvent(event)


def run_gui(quit_after: float | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("robotapp")
    window = MainWindow(VirtualFollower())
    window.show()
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), window.close)
        QTimer.singleShot(int(quit_after * 1000) + 50, app.quit)
    code = app.exec()
    print(f"robotapp gui: window closed after showing {window.tabs.count()} page(s)", flush=True)
    return code
