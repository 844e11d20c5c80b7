"""The main window on the virtual rig (its rig in a control process, as in the app), with its settings in a temporary INI file. Small camera images (the tests
look at behaviour, not pixels) and in-process servo ports: a pty's server thread can miss the bus timeouts on a
machine loaded by other jobs, and the GUI does not care which transport the emulated servos use. For the same
reason the session's watchdog and heartbeat limits are wider than the app's: a thread starved of CPU for 200 ms
by other jobs would hold the follower (tests/core cover those limits; these tests cover the window)."""

import gc
import json
import os
import tempfile

import pytest
from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QSettings

from robotapp.core.modes import SessionConfig
from robotapp.gui.main_window import MainWindow
from robotapp.services.process_rig_host import ProcessRigHost
from robotapp.services.rig_host import RigHost

OPEN_TIMEOUT_MS = 60_000
VIRTUAL = {"width": 160, "height": 120, "transport": "inprocess"}

if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
    # the offscreen platform's one screen is 800×800, smaller than any the window is laid out for (1280×800 up);
    # a desktop's 1920×1080 instead, set before the tests' QApplication starts (test_layout.py sizes its own)
    _screen = {"name": "desktop", "x": 0, "y": 0, "width": 1920, "height": 1080, "logicalDpi": 96,
               "logicalBaseDpi": 96, "dpr": 1}
    _config = os.path.join(tempfile.mkdtemp(prefix="robotapp-test-screen-"), "screen.json")
    with open(_config, "w") as f:
        json.dump({"screens": [_screen]}, f)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_config}"


def make_window(qtbot, settings_file, open_rig=True, in_process=False, rig: str = "virtual") -> MainWindow:
    """The window as the app makes it: its rig in a control process (ProcessRigHost). in_process=True keeps the
    rig in this process (RigHost, same face) for the tests that look inside the session or break its servos."""
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    config = SessionConfig(heartbeat_timeout_s=5.0, watchdog_s=1.0)
    window = MainWindow((RigHost if in_process else ProcessRigHost)(config, virtual_options=VIRTUAL), settings)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    if open_rig:
        window.open_rig(rig)
        qtbot.waitUntil(lambda: window.host.is_open or window.host.state == "failed", timeout=OPEN_TIMEOUT_MS)
        assert window.host.is_open, window.host.error
        qtbot.waitUntil(lambda: "is open" in window.message.text(), timeout=5000)  # the window heard it too
    return window


@pytest.fixture(autouse=True)
def collect_garbage_in_the_gui_thread(qapp):
    """As the app does (gui/app.py): a window's leftovers freed by the cycle collector on a service's thread
    deadlocked the run (a Qt object lock against the interpreter lock, seen in CI)."""
    gc.collect()
    collector = GarbageCollector(interval=0.5)
    yield
    collector.timer.stop()
    gc.collect()  # this test's windows, here on the GUI thread, before any other thread can
    gc.enable()


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini")
    yield w
    w.close()


@pytest.fixture
def so101_window(qtbot, tmp_path):
    """The window on the virtual SO-101 (Feetech STS3215 servos, emulated byte for byte)."""
    w = make_window(qtbot, tmp_path / "gui.ini", rig="virtual-so101")
    yield w
    w.close()


@pytest.fixture
def inprocess_window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini", in_process=True)
    yield w
    w.close()


def wait_for(qtbot, window, condition, timeout_ms: int, what: str) -> None:
    """waitUntil that says, on a timeout, what the session was doing (mode, last message, faults shown)."""
    try:
        qtbot.waitUntil(condition, timeout=timeout_ms)
    except Exception:
        snap = window.host.snapshot()
        raise AssertionError(f"{what}: not within {timeout_ms} ms; mode {mode_of(window)!r}, message "
                             f"{getattr(snap, 'message', '')!r}, loop {getattr(snap, 'loop_hz', 0):.0f} Hz, "
                             f"status {window.status.faults.text()!r}") from None


def mode_of(window) -> str:
    snap = window.host.snapshot()
    return snap.mode.value if snap is not None else ""
