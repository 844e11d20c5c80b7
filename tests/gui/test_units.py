"""Values that agree: the virtual leader's sliders, their labels, the joint plots and the session's reading of the
leader are one number in one unit (degrees; the gripper in %); a jog after Home or the demonstrator moves one step
from where the leader is; the "for me" actions say what they did; a wrap corrected by calibration shows no more;
the Motors tab says what its scan reads."""

import time

import numpy as np
from PySide6.QtCore import Qt

from robotapp.gui.joint_units import format_value
from robotapp.gui.teleop.leader_panel import JOG_STEP

from .conftest import mode_of, wait_for

WRIST_FLEX, SHOULDER_LIFT, GRIPPER = 3, 1, 5
TOLERANCE = 2.0  # degrees the arm may move between a reading and the key press landing (the hand is in motion)


def show_teleop(window, qtbot):
    page = window.teleop_page
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.leader_panel.isVisible(), timeout=5000)
    return page


def settled(leader, qtbot, joint: int, timeout: int = 15_000) -> float:
    """Wait until the joint has stopped moving (within 0.2 for 0.3 s) and return where it is."""
    mark = [np.inf, time.monotonic()]  # value, since when

    def still() -> bool:
        now = float(leader.positions()[joint])
        if abs(now - mark[0]) >= 0.2:
            mark[:] = [now, time.monotonic()]
        return time.monotonic() - mark[1] > 0.3
    qtbot.waitUntil(still, timeout=timeout)
    return float(leader.positions()[joint])


def test_slider_label_plot_and_leader_read_one_value_in_one_unit(window, qtbot):
    page = show_teleop(window, qtbot)
    panel, plots, leader = page.leader_panel, page.plots, window.host.virtual_leader
    page.align_button.click()
    wait_for(qtbot, window, lambda: mode_of(window) == "teleop", 20_000, "teleop")  # the session reads the leader
    panel.sliders[WRIST_FLEX].setValue(60)
    panel.sliders[GRIPPER].setValue(30)
    for joint, goal in ((WRIST_FLEX, 60), (GRIPPER, 30)):
        qtbot.waitUntil(lambda j=joint, g=goal: abs(leader.positions()[j] - g) < 0.6, timeout=15_000)
        settled(leader, qtbot, joint)
    qtbot.waitUntil(lambda: plots.redraws > 3, timeout=5000)
    for joint, unit in ((WRIST_FLEX, "°"), (GRIPPER, "%")):
        here = float(leader.positions()[joint])
        snap = window.host.snapshot()
        qtbot.waitUntil(lambda j=joint, h=here: abs(plots.curves[j][1].getData()[1][-1] - h) < 0.6, timeout=5000)
        assert abs(snap.leader[joint] - here) < 0.6  # what the session reads from the leader's servos
        assert panel.sliders[joint].value() == round(here)
        qtbot.waitUntil(lambda j=joint, h=here, u=unit: panel.values[j].text() == format_value(h, u), timeout=2000)
        assert plots.plots[joint].titleLabel.text.endswith(f"({unit})")
        assert panel.values[joint].text().endswith(unit)


def test_a_jog_after_the_demonstrator_or_home_moves_one_step_from_the_real_pose(window, qtbot):
    page = show_teleop(window, qtbot)
    panel, leader = page.leader_panel, window.host.virtual_leader
    page.setFocus()
    start = leader.positions()
    panel.demo_button.click()
    qtbot.waitUntil(lambda: abs(leader.positions()[SHOULDER_LIFT] - start[SHOULDER_LIFT]) > 10, timeout=20_000)
    before = float(leader.positions()[SHOULDER_LIFT])
    qtbot.keyClick(page, Qt.Key.Key_W)  # shoulder_lift +, taking the arm from the demonstrator
    after = float(leader.positions()[SHOULDER_LIFT])
    assert not leader.demonstrating
    end = settled(leader, qtbot, SHOULDER_LIFT)
    assert min(before, after) + JOG_STEP - TOLERANCE <= end <= max(before, after) + JOG_STEP + TOLERANCE
    qtbot.waitUntil(lambda: panel.sliders[SHOULDER_LIFT].value() == round(end), timeout=2000)  # where the leader is

    panel.home_button.click()
    assert "home" in panel.message.text()
    home = settled(leader, qtbot, SHOULDER_LIFT)
    panel.sliders[SHOULDER_LIFT].setValue(round(home + 40))  # away from home, then Home, and a jog on the way
    qtbot.waitUntil(lambda: leader.positions()[SHOULDER_LIFT] > home + 39, timeout=15_000)
    away = settled(leader, qtbot, SHOULDER_LIFT)
    panel.home_button.click()
    qtbot.waitUntil(lambda: leader.positions()[SHOULDER_LIFT] < away - 5, timeout=15_000)
    before = float(leader.positions()[SHOULDER_LIFT])
    qtbot.keyClick(page, Qt.Key.Key_S)  # shoulder_lift -: from where it is, not from home
    after = float(leader.positions()[SHOULDER_LIFT])
    end = settled(leader, qtbot, SHOULDER_LIFT)
    assert min(before, after) - JOG_STEP - TOLERANCE <= end <= max(before, after) - JOG_STEP + TOLERANCE
    assert end > home + 10


def test_for_me_actions_say_what_they_did_and_a_corrected_wrap_clears(window, qtbot):
    page = window.rig_page
    cal = page.calibration
    page.tabs.setCurrentWidget(cal)
    cal.arm_id.setText("units-test-follower")
    cal.start_button.click()
    qtbot.waitUntil(cal.middle_button.isEnabled, timeout=10_000)
    cal.auto_middle_button.click()
    qtbot.waitUntil(lambda: "middle pose recorded" in cal.message.text(), timeout=10_000)
    assert "virtual hand" in cal.message.text()
    cal.auto_sweep_button.click()
    assert "sweeping every joint" in cal.message.text()
    qtbot.waitUntil(lambda: bool(cal.bars.warnings()), timeout=20_000)  # the sweep crossed 0/4095: shown live
    qtbot.waitUntil(lambda: "sweep done" in cal.message.text(), timeout=30_000)
    cal.finish_button.click()
    qtbot.waitUntil(lambda: cal.report.rowCount() == 6, timeout=10_000)
    assert "Corrected: wrist_roll" in cal.message.text()
    assert cal.bars.warnings() == [] and cal.wrap.text() == ""  # the saved ranges: no wrap left to warn about
    assert all(0 <= r.low <= r.high <= 4095 for r in cal.bars.ranges)


def test_motors_tab_says_what_the_scan_reads(window, qtbot):
    page = window.rig_page
    motors = page.motors
    page.tabs.setCurrentWidget(motors)
    assert "assembled arm" in motors.where.text() and "factory-new" in motors.where.text()
    motors.scan_button.click()
    qtbot.waitUntil(lambda: "found" in motors.message.text(), timeout=20_000)
    assert motors.message.text().startswith("6 motor(s) found") and "as the profile says" in motors.message.text()
