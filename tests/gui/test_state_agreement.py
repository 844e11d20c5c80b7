"""One source of truth for the state shown (issue 20): the header, the status bar and the pages agree on the
mode, the e-stop, the last fault, the recording and the alignment, and none keeps showing what is over; the
Evaluate header counts the episode that runs; Ctrl+Q quits, asking only while something records or trains."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from .conftest import make_window, mode_of, wait_for
from .eval_run import tiny_run


def ctrl_q(qtbot, window) -> None:
    """As a user presses it: in the window they work in (a shortcut acts only in an active window)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)


def record_form(record, root, episodes=1, episode_time=1.5) -> None:
    record.dataset.setText(str(root))
    record.task.setText("pick up the red cube")
    record.episodes.setValue(episodes)
    record.episode_time.setValue(episode_time)
    record.reset_time.setValue(0.5)
    record.warmup_time.setValue(0.5)
    record.demonstrator.setChecked(True)
    record.align.setChecked(True)


def test_a_doctor_fault_shows_in_the_status_bar_and_header_until_a_clean_run(window, qtbot):
    doc = window.rig_page.doctor
    window.rig_page.tabs.setCurrentWidget(doc)
    assert window.status.faults.text() == "faults: none"
    for spec, box in doc.inject:
        box.setChecked(spec == "unplug:elbow_flex")
    doc.run_button.click()
    qtbot.waitUntil(lambda: doc.run_button.isEnabled() and doc.health.rowCount() == 12, timeout=30_000)
    qtbot.waitUntil(lambda: window.status.faults.text() != "faults: none", timeout=2000)
    assert window.status.faults.text().startswith("doctor: 1 problem(s) (")
    assert "elbow_flex: not answering" in window.status.faults.toolTip()  # the whole line, where it is elided
    assert window.message.is_error and window.message.text().startswith("doctor: 1 problem(s)")
    assert "doctor" in window.state_badge.text()
    assert mode_of(window) == "idle" and window.state_badge.text().startswith("IDLE")  # the session is fine

    for _, box in doc.inject:
        box.setChecked(False)
    doc.run_button.click()
    qtbot.waitUntil(lambda: doc.run_button.isEnabled() and doc.mirror.rowCount() == 6, timeout=30_000)
    qtbot.waitUntil(lambda: window.status.faults.text() == "faults: none", timeout=2000)
    assert "doctor" not in window.state_badge.text() and not window.message.is_error


def test_an_estop_shows_everywhere_then_goes_when_cleared(window, qtbot):
    window.estop_button.click()
    wait_for(qtbot, window, lambda: mode_of(window) == "estop", 5000, "e-stop")
    window.render_state()  # the header, the status bar and the page, from one snapshot
    window.teleop_page.refresh()
    assert window.state_badge.text() == "E-STOP" and window.clear_button.isEnabled()
    assert window.status.faults.text().startswith("fault: E-STOP pressed")
    assert window.message.is_error and window.message.text().startswith("E-STOP: follower stopped")
    assert window.teleop_page.mode_label.text().startswith("mode: estop — E-STOP pressed")
    window.clear_button.click()
    qtbot.waitUntil(lambda: window.message.text() == "E-STOP cleared", timeout=5000)
    assert not window.message.is_error and mode_of(window) == "idle"
    assert window.state_badge.text() == "IDLE" and window.status.faults.text() == "faults: none"
    window.teleop_page.refresh()
    assert window.teleop_page.mode_label.text() == "mode: idle — the follower is free"


def test_a_motor_still_at_fault_after_a_clear_is_shown_as_the_fault_not_as_cleared(window, qtbot):
    window.estop_button.click()
    wait_for(qtbot, window, lambda: mode_of(window) == "estop", 5000, "e-stop")
    qtbot.waitUntil(window.clear_button.isEnabled, timeout=2000)
    # wrist_flex, while stopped: noticed once the loop drives again (the servos are in the window's control process)
    window.host.call_in_control("tests.gui.control_side:unplug_follower_motor", 4).result(10)
    window.clear_button.click()
    wait_for(qtbot, window, lambda: mode_of(window) == "fault", 10_000, "the fault after the clear")
    qtbot.waitUntil(lambda: window.state_badge.text() == "FAULT", timeout=2000)
    assert window.message.is_error and window.message.text().startswith("FAULT: ")
    assert "wrist_flex" in window.message.text()
    assert window.status.faults.text().startswith("fault: ") and "wrist_flex" in window.status.faults.toolTip()
    assert not window.clear_button.isEnabled()
    window.teleop_page.refresh()
    assert window.teleop_page.mode_label.text().startswith("mode: fault — ")


def test_recording_and_alignment_shown_end_with_the_recording(window, qtbot, tmp_path):
    page, rec = window.teleop_page, window.teleop_page.record
    window.tabs.setCurrentWidget(page)
    record_form(rec, tmp_path / "agree", episode_time=2.0)
    rec.start_button.click()
    seen = set()

    def all_recording() -> bool:  # header, status bar and the page say so at the same refresh
        page.refresh()
        window.render_state()
        if "RECORDING  ·  episode 1/1" in rec.phase.text():
            seen.add((window.state_badge.text(), window.status.recording.text().split(":")[0],
                      page.mode_label.text().split(" — ")[0]))
        return bool(seen)
    wait_for(qtbot, window, all_recording, 30_000, "the recording shown")
    assert seen == {("RECORDING 1/1", "recording", "mode: record")}
    wait_for(qtbot, window, lambda: not page.recording, 60_000, "the recording to end")
    wait_for(qtbot, window, lambda: mode_of(window) == "hold", 5000, "hold")
    page.refresh()
    window.render_state()
    assert page.mode_label.text() == "mode: hold — the follower holds its pose"
    assert "align" not in page.teleop_message.text()
    assert window.state_badge.text() == "HOLD" and window.status.recording.text() == "not recording"
    assert rec.phase.text() == "NOT RECORDING" and rec.start_button.isEnabled()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("agreement"))


def test_the_evaluate_header_counts_the_episode_that_runs(qtbot, tmp_path, run_dir):
    window = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    page = window.evaluate_page
    try:
        window.tabs.setCurrentWidget(page)
        page.select_checkpoint(str(run_dir / "last"))
        page.rig.setCurrentIndex(1)  # virtual rig, real time, judged by hand: each episode waits for a mark
        page.episodes.setValue(3)
        page.episode_time.setValue(0.5)
        page.start_button.click()
        assert page.tally.text() == "episode 1/3 running"  # not "0/0 success of 3"
        qtbot.waitUntil(lambda: page.job is not None and page.job.waiting_for_mark == 0, timeout=60_000)
        qtbot.waitUntil(lambda: page.tally.text() == "episode 1/3: press S, F or P", timeout=2000)
        page.setFocus()
        qtbot.keyClick(page, Qt.Key.Key_S)
        qtbot.waitUntil(lambda: page.tally.text().startswith("episode 2/3"), timeout=10_000)
        assert page.tally.text().endswith("1/1 success (100%, 95% CI [21%, 100%]) so far")
        page.stop()
        qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
        assert page.tally.text().startswith("1/1 success") and page.tally.text().endswith(" of 3")
    finally:
        window.close()


def test_ctrl_q_quits_at_once_when_nothing_records_or_trains(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    window.teleop_page.record.task.setText("kept on quit")
    ctrl_q(qtbot, window)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert window.quit_box is None
    again = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    try:
        assert again.teleop_page.record.task.text() == "kept on quit"  # quitting saved the settings
    finally:
        again.close()


def test_ctrl_q_asks_while_recording(window, qtbot, tmp_path):
    page = window.teleop_page
    window.tabs.setCurrentWidget(page)
    record_form(page.record, tmp_path / "long", episodes=3, episode_time=20.0)
    page.record.start_button.click()
    wait_for(qtbot, window, lambda: window.host.snapshot().phase == "episode", 30_000, "the first episode")
    ctrl_q(qtbot, window)
    qtbot.waitUntil(lambda: window.quit_box is not None and window.quit_box.isVisible(), timeout=2000)
    assert "recording is running" in window.quit_box.text() and window.isVisible()
    window.quit_box.button(QMessageBox.StandardButton.No).click()  # "Keep going"
    qtbot.waitUntil(lambda: window.quit_box is None, timeout=2000)
    assert window.isVisible() and page.recording
    ctrl_q(qtbot, window)
    qtbot.waitUntil(lambda: window.quit_box is not None and window.quit_box.isVisible(), timeout=2000)
    window.quit_box.button(QMessageBox.StandardButton.Yes).click()  # "Quit"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert window.host.state == "closed"


def test_ctrl_q_asks_while_training(qtbot, tmp_path):
    class Training:  # the Train page's job, as far as the question is concerned
        running = True

    window = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    window.train_page.job = Training()
    try:
        ctrl_q(qtbot, window)
        qtbot.waitUntil(lambda: window.quit_box is not None and window.quit_box.isVisible(), timeout=2000)
        assert "training run is going" in window.quit_box.text() and window.isVisible()
    finally:
        window.train_page.job = None  # stopping a trainer is the Train page's (tests/gui/test_train_page.py)
    window.quit_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
