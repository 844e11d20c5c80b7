"""The shell: pages, status bar, E-STOP (button and Space), settings kept across windows, the startup rig."""

from PySide6.QtCore import Qt

from hardware.rig_config import RigConfig, save_rig
from robotapp.gui.app import startup_rig

from .conftest import make_window, mode_of


def test_window_shows_the_pages_and_a_live_status_bar(window, qtbot):
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == \
        ["Rig", "Teleop && Record", "Dataset", "Train", "Evaluate"]  # && is a literal & in a tab title
    assert window.pages[2:] == [window.dataset_page, window.train_page, window.evaluate_page]
    status = window.status
    qtbot.waitUntil(lambda: status.rig.text() == "rig: virtual (open)", timeout=5000)
    qtbot.waitUntil(lambda: window.host.snapshot().loop_hz > 30 and "loop: 0.0" not in status.loop.text(),
                    timeout=5000)
    assert status.loop.text().endswith("ms)") and "/90 Hz" in status.loop.text()
    assert status.recording.text() == "not recording"
    assert status.faults.text() == "faults: none"
    assert window.rig_label.text() == "robotapp · virtual rig"


def test_estop_by_space_anywhere_then_clear(window, qtbot):
    window.tabs.setCurrentWidget(window.teleop_page)
    window.teleop_page.align_button.click()
    qtbot.waitUntil(lambda: mode_of(window) in ("align", "teleop"), timeout=10_000)
    assert not window.clear_button.isEnabled()
    qtbot.keyClick(window.teleop_page, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: mode_of(window) == "estop", timeout=5000)
    assert "E-STOP" in window.message.text()
    qtbot.waitUntil(window.clear_button.isEnabled, timeout=2000)
    qtbot.waitUntil(lambda: window.status.faults.text().startswith("fault: E-STOP"), timeout=2000)
    window.clear_button.click()
    qtbot.waitUntil(lambda: mode_of(window) == "idle", timeout=5000)
    qtbot.waitUntil(lambda: window.status.faults.text() == "faults: none", timeout=2000)
    qtbot.waitUntil(lambda: not window.clear_button.isEnabled(), timeout=2000)


def test_estop_button_works_on_any_page(window, qtbot):
    window.tabs.setCurrentIndex(3)  # Train
    window.estop_button.click()
    qtbot.waitUntil(lambda: mode_of(window) == "estop", timeout=5000)


def test_settings_are_kept_for_the_next_window(qtbot, tmp_path):
    ini = tmp_path / "gui.ini"
    first = make_window(qtbot, ini, open_rig=False)
    first.tabs.setCurrentWidget(first.teleop_page)
    rec = first.teleop_page.record
    rec.task.setText("stack the cubes")
    rec.episodes.setValue(7)
    rec.episode_time.setValue(12.5)
    first.rig_page.set_profile("koch")
    first.rig_page.rig_name.setText("bench-2")
    first.close()
    second = make_window(qtbot, ini, open_rig=False)
    try:
        rec = second.teleop_page.record
        assert second.tabs.currentWidget() is second.teleop_page
        assert (rec.task.text(), rec.episodes.value(), rec.episode_time.value()) == ("stack the cubes", 7, 12.5)
        assert second.rig_page.kind == "koch" and second.rig_page.rig_name.text() == "bench-2"
    finally:
        second.close()


def test_startup_rig_is_the_last_saved_rig_else_virtual():
    assert startup_rig(None) == "virtual"
    assert startup_rig("desk-test") == "virtual"  # no config saved under that name
    save_rig(RigConfig("desk-test"))
    assert startup_rig("desk-test") == "desk-test"
