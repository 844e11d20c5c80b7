"""Issue 17, section 1: Space is the E-STOP whatever has the keyboard focus, on every page, while teleop runs
(stopped within one control tick, the focused field unchanged, a focused button not clicked); the focus never
falls into a text field by itself; jog keys act only in the teleop view; Space never clears an E-STOP."""

import os
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from robotapp.core.events import Kind, ModeChanged
from robotapp.core.modes import Mode
from robotapp.gui.keys import takes_text

from .conftest import make_window, mode_of, wait_for

# kind of focused widget -> (its page, the widget), all on the window's real pages
FOCUSED = {
    "dataset folder field": lambda w: (w.dataset_page, w.dataset_page.path),
    "task field": lambda w: (w.teleop_page, w.teleop_page.record.task),
    "spin box": lambda w: (w.teleop_page, w.teleop_page.record.episodes),
    "double spin box": lambda w: (w.evaluate_page, w.evaluate_page.episode_time),
    "table": lambda w: (w.dataset_page, w.dataset_page.table),
    "list": lambda w: (w.train_page, w.train_page.ckpt_list),
    "plot": lambda w: (w.train_page, w.train_page.loss.plot),
    "joint plots": lambda w: (w.teleop_page, w.teleop_page.plots.view),
    "combo box": lambda w: (w.rig_page, w.rig_page.profile),
    "read-only log": lambda w: (w.rig_page, w.rig_page.ports.flow.log),
    "button": lambda w: (w.evaluate_page, w.evaluate_page.start_button),
    "teleop view": lambda w: (w.teleop_page, w.teleop_page),
}


def engage_teleop(window, qtbot) -> None:
    window.tabs.setCurrentWidget(window.teleop_page)
    window.teleop_page.align_button.click()
    wait_for(qtbot, window, lambda: mode_of(window) == "teleop", 20_000, "teleop")


def give_focus(qtbot, window, page, widget) -> None:
    window.tabs.setCurrentWidget(page)

    def focused() -> bool:  # asked again until it holds: a page refresh may take the focus back in between
        if QApplication.focusWidget() is not widget:
            widget.setFocus(Qt.FocusReason.MouseFocusReason)  # as a click on it would
        return QApplication.focusWidget() is widget
    qtbot.waitUntil(focused, timeout=10_000)


def text_of(widget) -> str | None:
    for getter in ("text", "toPlainText", "currentText"):
        if hasattr(widget, getter):
            return getattr(widget, getter)()
    return None


@pytest.mark.parametrize("kind", list(FOCUSED))
def test_space_stops_teleop_within_one_tick_whatever_has_the_focus(inprocess_window, qtbot, kind):
    window = inprocess_window  # the session's own events and tick count: the window and its rig in one process
    engage_teleop(window, qtbot)
    page, widget = FOCUSED[kind](window)
    give_focus(qtbot, window, page, widget)
    clicks = []
    if hasattr(widget, "clicked"):
        widget.clicked.connect(lambda *_: clicks.append(1))
    session = window.host.session
    seen = []  # (event kind, mode, the loop's tick count when it was published)
    unsubscribe = session.events.subscribe(
        lambda e: seen.append((e.kind, e.mode if isinstance(e, ModeChanged) else None, session.tick_count)))
    try:
        text = text_of(widget)
        assert mode_of(window) == "teleop"
        tick = session.tick_count
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
        assert any(k == Kind.ESTOP for k, _, _ in seen), seen  # the stop was applied in the key handler itself
        assert window.message.text().startswith("E-STOP: follower stopped")
        qtbot.waitUntil(lambda: any(m == Mode.ESTOP for _, m, _ in seen), timeout=5000)
        at = next(t for _, m, t in seen if m == Mode.ESTOP)
        assert at <= tick + 1, f"E-STOP mode {at - tick} ticks after the key"  # the next tick at the latest
    finally:
        unsubscribe()
    assert text_of(widget) == text and not clicks  # no space typed, no button pressed
    assert mode_of(window) == "estop"


def test_space_reaches_the_control_process_and_the_follower_stops(window, qtbot):
    """The app's own arrangement: the rig in the control process. Space in a field sends the stop at once; the
    control process applies it (the follower's torque off, E-STOP mode) and the window shows it."""
    assert window.host.pid not in (None, os.getpid())
    engage_teleop(window, qtbot)
    page = window.teleop_page
    give_focus(qtbot, window, page, page.record.task)
    text = page.record.task.text()
    seen = []

    def keep(drain=window.host.drain_events):  # a copy of the events the window takes, for the asserts below
        events = drain()
        seen.extend(events)
        return events
    window.host.drain_events = keep
    pressed = time.monotonic()
    qtbot.keyClick(page.record.task, Qt.Key.Key_Space)
    assert window.message.text().startswith("E-STOP: follower stopped")  # said in the key handler itself
    wait_for(qtbot, window, lambda: mode_of(window) == "estop", 5000, "the E-STOP mode")
    assert page.record.task.text() == text
    qtbot.waitUntil(lambda: any(e.kind == Kind.ESTOP for e in seen), timeout=5000)
    stopped = [e for e in seen if e.kind == Kind.ESTOP]
    assert stopped and stopped[0].t >= pressed  # applied over there after the key (one clock: CLOCK_MONOTONIC)
    assert "torque off" in stopped[0].message


def test_space_in_a_text_field_types_a_space_only_while_nothing_drives_the_follower(window, qtbot):
    page = window.teleop_page
    task = page.record.task
    give_focus(qtbot, window, page, task)
    task.setText("pick up")
    assert mode_of(window) == "idle"
    qtbot.keyClick(task, Qt.Key.Key_Space)  # at rest: a task name needs its spaces
    qtbot.keyClicks(task, "the cube")
    assert task.text() == "pick up the cube" and mode_of(window) == "idle"
    give_focus(qtbot, window, page, page.record.episodes)  # a spin box never takes a space: E-STOP at rest too
    qtbot.keyClick(page.record.episodes, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: mode_of(window) == "estop", timeout=5000)
    qtbot.waitUntil(window.clear_button.isEnabled, timeout=2000)
    window.clear_button.click()
    qtbot.waitUntil(lambda: mode_of(window) == "idle", timeout=5000)
    engage_teleop(window, qtbot)
    give_focus(qtbot, window, page, task)
    qtbot.keyClick(task, Qt.Key.Key_Space)  # the follower moves: the same key in the same field stops it
    qtbot.waitUntil(lambda: mode_of(window) == "estop", timeout=5000)
    assert task.text() == "pick up the cube"


def test_space_in_a_dialog_of_the_window_stops_and_does_not_press_its_button(window, qtbot):
    engage_teleop(window, qtbot)
    box = QMessageBox(QMessageBox.Icon.Question, "Delete?", "Delete the episode?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, window)
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    box.show()
    qtbot.waitExposed(box)
    yes = box.button(QMessageBox.StandardButton.Yes)
    yes.setFocus()
    qtbot.keyClick(yes, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: mode_of(window) == "estop", timeout=5000)
    assert box.isVisible() and box.clickedButton() is None
    box.close()


def test_space_stops_a_running_evaluation(window, qtbot):
    class Job:  # the page's evaluation job, as far as the E-STOP is concerned
        waiting_for_mark = None
        stopped = False

        def estop(self, reason):
            self.stopped = reason

    page = window.evaluate_page
    page.job = job = Job()
    try:
        give_focus(qtbot, window, page, page.checkpoint)
        qtbot.keyClick(page.checkpoint, Qt.Key.Key_Space)  # an evaluation drives a follower: a field stops too
        assert job.stopped == "E-STOP pressed in the window" and page.checkpoint.text() == ""
        assert page.message.text() == "E-STOP: evaluation stopped"
    finally:
        page.job = None


def test_space_never_clears_an_estop(window, qtbot):
    engage_teleop(window, qtbot)
    window.estop_button.click()
    qtbot.waitUntil(lambda: mode_of(window) == "estop", timeout=5000)
    qtbot.waitUntil(window.clear_button.isEnabled, timeout=2000)
    for widget in (window.teleop_page, window.teleop_page.engage_button, window):
        qtbot.keyClick(widget, Qt.Key.Key_Space)
    qtbot.keyClick(window, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    qtbot.wait(100)  # a few control ticks for a clear that must not come
    assert mode_of(window) == "estop" and window.clear_button.isEnabled()
    for button in (window.clear_button, window.estop_button):  # never take the focus: no key presses them
        assert button.focusPolicy() == Qt.FocusPolicy.NoFocus
    window.clear_button.click()
    qtbot.waitUntil(lambda: mode_of(window) == "idle", timeout=5000)


@pytest.mark.parametrize("button", ["engage_button", "align_button"])
def test_a_disabled_button_never_hands_the_focus_to_a_text_field(window, qtbot, button):
    page = window.teleop_page
    widget = getattr(page, button)
    give_focus(qtbot, window, page, widget)
    widget.click()  # engaging disables Engage and Align while they have the focus
    qtbot.waitUntil(lambda: not widget.isEnabled(), timeout=20_000)
    focused = QApplication.focusWidget()
    assert not takes_text(focused) and page.isAncestorOf(focused) or focused is page, focused


def test_the_focus_never_falls_into_a_field_by_itself(window, qtbot):
    assert not takes_text(QApplication.focusWidget())  # not on the window's first showing either
    rec = window.teleop_page.record
    give_focus(qtbot, window, window.teleop_page, rec.start_button)
    rec.start_button.setEnabled(False)
    assert not takes_text(QApplication.focusWidget())
    give_focus(qtbot, window, window.teleop_page, window.teleop_page.leader_panel.home_button)
    window.teleop_page.leader_panel.home_button.hide()
    assert not takes_text(QApplication.focusWidget())
    window.teleop_page.leader_panel.home_button.show()
    give_focus(qtbot, window, window.dataset_page, window.dataset_page.path)
    for page in window.pages + [window.dataset_page]:  # another page, then back to the one left in a field
        window.tabs.setCurrentWidget(page)
        assert not takes_text(QApplication.focusWidget()), (page, QApplication.focusWidget())
    window.dataset_page.path.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.keyClick(window.dataset_page.path, Qt.Key.Key_Tab)  # Tab still walks the form
    assert QApplication.focusWidget() is not window.dataset_page.path


def test_jog_keys_move_the_leader_only_from_the_teleop_view(window, qtbot):
    page = window.teleop_page
    leader = window.host.virtual_leader
    give_focus(qtbot, window, window.dataset_page, window.dataset_page.path)
    before = np.degrees(leader.angles())
    path = window.dataset_page.path.text()
    qtbot.keyClick(window.dataset_page.path, Qt.Key.Key_Q)  # typed into the field the user clicked, not a jog
    assert window.dataset_page.path.text() == path + "q"
    give_focus(qtbot, window, page, page.record.task)
    qtbot.keyClick(page.record.task, Qt.Key.Key_Q)
    assert page.record.task.text().endswith("q")
    give_focus(qtbot, window, page, window.tabs.tabBar())  # the page is shown, the focus is not in it
    qtbot.keyClick(window.tabs.tabBar(), Qt.Key.Key_Q)
    qtbot.wait(200)  # the leader moves at a hand's speed: a jog would show by now
    assert np.abs(np.degrees(leader.angles()) - before).max() < 1
    give_focus(qtbot, window, page, page)
    for _ in range(3):
        qtbot.keyClick(page, Qt.Key.Key_Q)  # shoulder_pan +
    qtbot.waitUntil(lambda: np.degrees(leader.angles()[0]) > before[0] + 11, timeout=5000)


def test_no_field_has_the_focus_when_the_window_opens(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    try:
        assert not takes_text(QApplication.focusWidget())
    finally:
        w.close()
