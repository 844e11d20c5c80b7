"""The main window on the virtual rig, with its settings in a temporary INI file. Small camera images (the tests
look at behaviour, not pixels) and in-process servo ports: a pty's server thread can miss the bus timeouts on a
machine loaded by other jobs, and the GUI does not care which transport the emulated servos use."""

import pytest
from PySide6.QtCore import QSettings

from robotapp.gui.main_window import MainWindow
from robotapp.runtime.host import RigHost

OPEN_TIMEOUT_MS = 60_000
VIRTUAL = {"width": 160, "height": 120, "transport": "inprocess"}


def make_window(qtbot, settings_file, open_rig=True) -> MainWindow:
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    window = MainWindow(RigHost(virtual_options=VIRTUAL), settings)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    if open_rig:
        window.open_rig("virtual")
        qtbot.waitUntil(lambda: window.host.is_open or window.host.state == "failed", timeout=OPEN_TIMEOUT_MS)
        assert window.host.is_open, window.host.error
        qtbot.waitUntil(lambda: "is open" in window.message.text(), timeout=5000)  # the window heard it too
    return window


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini")
    yield w
    w.close()


def mode_of(window) -> str:
    snap = window.host.snapshot()
    return snap.mode.value if snap is not None else ""
