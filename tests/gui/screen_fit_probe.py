"""Run by test_layout.py in a process of its own, because a screen's size is fixed when Qt starts: the offscreen
platform is given one screen by a JSON config (QT_QPA_PLATFORM=offscreen:configfile=...), the main window opens
on it as the app opens it (no rig), and what it looks like is printed as one JSON line.

    python screen_fit_probe.py SETTINGS_DIR [--saved-geometry WxH]"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def rect(r) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def in_window(widget, window) -> list[int]:
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


def main() -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QWidget

    from robotapp.gui.main_window import MainWindow
    from robotapp.services.rig_host import RigHost

    folder = Path(sys.argv[1])
    saved = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--saved-geometry" else None
    app = QApplication(sys.argv[:1])
    screen = app.primaryScreen()
    settings = QSettings(str(folder / "gui.ini"), QSettings.Format.IniFormat)
    if saved:  # a geometry saved last time on a bigger monitor
        w, h = (int(v) for v in saved.split("x"))
        big = QWidget()
        big.setGeometry(10, 10, w, h)
        settings.setValue("window/geometry", big.saveGeometry())
    window = MainWindow(RigHost(), settings)
    window.show()
    for _ in range(20):
        app.processEvents()
    print(json.dumps({"screen": rect(screen.geometry()), "available": rect(screen.availableGeometry()),
                      "frame": rect(window.frameGeometry()), "geometry": rect(window.geometry()),
                      "maximized": window.isMaximized(), "estop": in_window(window.estop_button, window),
                      "status": in_window(window.statusBar(), window)}), flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
