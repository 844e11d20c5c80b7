"""The Teleop & Record page on the virtual rig: live previews (rate in the window, control loop unharmed), the
leader-vs-follower plots, the align check on engage, the virtual leader's sliders, jog keys and demonstrator."""

import numpy as np
from PySide6.QtCore import Qt

from .conftest import mode_of, wait_for

MIN_PREVIEW_FPS = 15.0


def show_teleop(window, qtbot):
    page = window.teleop_page
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.leader_panel.isVisible(), timeout=5000)
    return page


def test_previews_reach_15_fps_in_the_window_without_slowing_the_loop(window, qtbot):
    page = show_teleop(window, qtbot)
    previews = page.previews
    qtbot.waitUntil(lambda: set(previews.previews) == {"front", "wrist"}, timeout=5000)
    target = window.host.config.control_hz

    def healthy() -> bool:  # a full second of frames at >= 15 fps, with the loop at its rate meanwhile
        shown = min(p.frames_shown for p in previews.previews.values())
        snap = window.host.snapshot()
        return shown > 30 and min(previews.fps().values()) >= MIN_PREVIEW_FPS and snap.loop_hz >= 0.85 * target
    qtbot.waitUntil(healthy, timeout=15_000)
    assert all(p.fps <= 31 for p in previews.previews.values())  # never more than the cameras deliver


def test_plots_follow_leader_and_follower_and_the_sliders_move_the_leader(window, qtbot):
    page = show_teleop(window, qtbot)
    page.align_button.click()
    wait_for(qtbot, window, lambda: mode_of(window) == "teleop", 20_000, "teleop")
    plots = page.plots
    start = plots.history.count
    qtbot.waitUntil(lambda: plots.history.count > start + 10, timeout=10_000)  # the arm at rest is in the plot
    pan = page.leader_panel.sliders[0]
    pan.setValue(35)  # degrees of the leader's shoulder_pan, reached at a hand's speed

    def follower_there() -> bool:
        snap = window.host.snapshot()
        return snap.leader is not None and snap.leader[0] > 25 and abs(snap.follower[0] - snap.leader[0]) < 3
    wait_for(qtbot, window, follower_there, 15_000, "the follower on the leader")
    qtbot.waitUntil(lambda: plots.redraws > 5, timeout=5000)
    follower_curve, leader_curve = plots.curves[0]
    qtbot.waitUntil(lambda: np.nanmax(leader_curve.getData()[1]) > 25, timeout=5000)
    qtbot.waitUntil(lambda: np.nanmax(follower_curve.getData()[1]) > 25, timeout=5000)  # a redraw behind
    x, y = follower_curve.getData()
    assert x.min() >= -10.5 and x.max() <= 0.0  # the last 10 s, time relative to now
    assert np.nanmax(y) > 25 and np.nanmin(y) < 10  # the follower's swing is in its curve
    assert plots.plots[0].titleLabel.text == "shoulder_pan (°)"


def test_engage_refuses_a_misaligned_leader_naming_the_joint_then_aligns(window, qtbot):
    page = show_teleop(window, qtbot)
    page.leader_panel.sliders[0].setValue(50)  # leader's shoulder_pan far from the follower
    leader = window.host.virtual_leader
    qtbot.waitUntil(lambda: np.degrees(leader.angles()[0]) > 48, timeout=10_000)
    page.engage_button.click()
    qtbot.waitUntil(lambda: page.teleop_message.is_error, timeout=5000)
    text = page.teleop_message.text()
    assert text.startswith("Align check: follower is too far from the leader") and "shoulder_pan" in text
    assert mode_of(window) == "idle"
    page.align_button.click()
    qtbot.waitUntil(lambda: mode_of(window) == "align", timeout=5000)
    wait_for(qtbot, window, lambda: mode_of(window) == "teleop", 20_000, "aligned teleop")
    page.disengage_button.click()
    qtbot.waitUntil(lambda: mode_of(window) == "hold", timeout=5000)


def test_jog_keys_move_the_virtual_leader(window, qtbot):
    page = show_teleop(window, qtbot)
    leader = window.host.virtual_leader
    page.setFocus()
    before = np.degrees(leader.angles())
    for _ in range(3):
        qtbot.keyClick(page, Qt.Key.Key_W)  # shoulder_lift +
        qtbot.keyClick(page, Qt.Key.Key_D)  # elbow_flex -
    qtbot.waitUntil(lambda: np.degrees(leader.angles()[1]) > before[1] + 11, timeout=5000)
    qtbot.waitUntil(lambda: np.degrees(leader.angles()[2]) < before[2] - 11, timeout=5000)
    after = np.degrees(leader.angles())
    assert abs(after[0] - before[0]) < 1 and abs(after[3] - before[3]) < 1  # only those two moved
    page.record.task.setFocus()
    qtbot.keyClick(page.record.task, Qt.Key.Key_W)  # typing in a field is typing, not jogging
    assert page.record.task.text().endswith("w")


def test_demonstrator_button_plays_a_pick_and_place_on_the_leader(window, qtbot):
    page = show_teleop(window, qtbot)
    panel = page.leader_panel
    start = window.host.virtual_leader.angles()
    panel.demo_button.click()
    qtbot.waitUntil(lambda: panel.demo_button.text().startswith("Demonstrator ") and "/" in
                    panel.demo_button.text(), timeout=10_000)
    qtbot.waitUntil(lambda: "pick-and-place on the leader" in panel.message.text(), timeout=5000)
    qtbot.waitUntil(lambda: np.abs(window.host.virtual_leader.angles() - start).max() > 0.3, timeout=10_000)
