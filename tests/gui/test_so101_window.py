"""The window's pages on the virtual SO-101 (its servos emulated Feetech STS3215s): chosen and opened from the Rig
page, the virtual hand's sliders spanning the SO-101's joints, teleop, a recording whose dataset names the robot as
lerobot does, and the Rig page's motor scan, calibration wizard and doctor on Feetech arms."""

import numpy as np

from hardware.arms import load_profile
from robotapp.dataset import DatasetReader
from robotapp.dataset.check import check_dataset
from robotapp.gui.common import table_texts
from tests.dataset import synth

from .conftest import mode_of, wait_for
from .test_record import fill
from .test_teleop_page import show_teleop


def test_the_rig_page_opens_the_virtual_so101_and_the_hand_spans_its_joints(window, qtbot):
    page = window.rig_page
    page.set_profile("virtual-so101")
    assert page.profile_for("follower") == "so101-follower" and page.profile_for("leader") == "so101-leader"
    koch_ranges = window.host.virtual_leader.unit_ranges()
    page.open_button.click()
    qtbot.waitUntil(lambda: window.host.rig_name == "virtual-so101" and window.host.is_open, timeout=60_000)
    qtbot.waitUntil(lambda: window.rig_label.text() == "robotapp · virtual SO-101", timeout=5000)
    teleop = show_teleop(window, qtbot)
    so101_ranges = window.host.virtual_leader.unit_ranges()
    assert not np.allclose(so101_ranges, koch_ranges)  # the SO-101's own joints, not the Koch's
    panel = teleop.leader_panel
    qtbot.waitUntil(lambda: [s.maximum() for s in panel.sliders[:5]]
                    == [int(np.floor(hi)) for hi in so101_ranges[:5, 1]], timeout=10_000)
    # the SO-101's shoulder_pan turns ±110° (the public SO-ARM100 model), the Koch's ±90°
    assert so101_ranges[0, 1] - so101_ranges[0, 0] > 200


def test_teleop_and_a_recording_on_the_virtual_so101(so101_window, qtbot, tmp_path):
    window = so101_window
    page = show_teleop(window, qtbot)
    page.align_button.click()
    wait_for(qtbot, window, lambda: mode_of(window) == "teleop", 20_000, "teleop")
    page.leader_panel.sliders[0].setValue(30)

    def follower_there() -> bool:
        snap = window.host.snapshot()
        return snap.leader is not None and snap.leader[0] > 22 and abs(snap.follower[0] - snap.leader[0]) < 3
    wait_for(qtbot, window, follower_there, 15_000, "the SO-101 follower on its leader")

    rec = page.record
    root = tmp_path / "so101"
    fill(rec, root, episodes=1, episode_time=2.0)
    rec.start_button.click()
    qtbot.waitUntil(lambda: page.recording, timeout=20_000)
    qtbot.waitUntil(lambda: not page.recording, timeout=60_000)
    assert "1 episode(s) saved" in rec.message.text(), rec.message.text()
    assert check_dataset(root) == []
    with DatasetReader(root) as reader:
        assert reader.robot_type == "so101_follower" and reader.num_episodes == 1
        assert reader.features["action"]["names"] == [f"{j}.pos" for j in load_profile("so101-follower").names]

    # the Evaluate page replays it; a Koch dataset is refused (its joint values are other angles on this arm)
    koch = synth.make_dataset(tmp_path / "koch", 1, cams=("front",), robot_type="koch_follower")
    replay = window.evaluate_page.replay
    window.tabs.setCurrentWidget(window.evaluate_page)
    replay.dataset.setText(str(koch))
    replay.replay_button.click()
    qtbot.waitUntil(lambda: replay.message.is_error, timeout=10_000)
    assert replay.message.text() == (f"{koch}: recorded on koch_follower, but rig 'virtual-so101' is so101_follower; "
                                     "open the virtual rig on the Rig page")
    replay.dataset.setText(str(root))
    replay.replay_button.click()
    wait_for(qtbot, window, lambda: "replayed episode 0" in replay.message.text(), 30_000, "the SO-101 replay")


def test_motor_scan_calibration_wizard_and_doctor_on_the_virtual_so101(so101_window, qtbot):
    page = so101_window.rig_page
    page.set_profile("virtual-so101")
    motors = page.motors
    page.tabs.setCurrentWidget(motors)
    motors.scan_button.click()
    qtbot.waitUntil(lambda: motors.scan_table.rowCount() == 6, timeout=20_000)
    assert table_texts(motors.scan_table, 2) == ["sts3215"] * 6
    assert table_texts(motors.scan_table, 3) == load_profile("so101-follower").names
    assert table_texts(motors.scan_table, 4) == [""] * 6  # every motor where the SO-101 profile wants it

    cal = page.calibration
    page.tabs.setCurrentWidget(cal)
    cal.arm_id.setText("gui-test-so101-follower")
    cal.start_button.click()
    qtbot.waitUntil(cal.middle_button.isEnabled, timeout=10_000)
    cal.auto_middle_button.click()
    qtbot.waitUntil(cal.auto_sweep_button.isEnabled, timeout=10_000)
    cal.auto_sweep_button.click()
    qtbot.waitUntil(lambda: cal.run is not None and not cal.run.status().auto_sweeping
                    and len(cal.bars.ranges) == 6 and all(r.span_degrees > 90 for r in cal.bars.ranges),
                    timeout=30_000)
    cal.finish_button.click()
    qtbot.waitUntil(lambda: cal.report.rowCount() == 6, timeout=10_000)
    assert cal.step.text().startswith("Saved ") and cal.step.text().endswith("gui-test-so101-follower.json")
    assert table_texts(cal.report, 0) == load_profile("so101-follower").names

    doc = page.doctor
    page.tabs.setCurrentWidget(doc)
    for spec, box in doc.inject:
        box.setChecked(spec == "unplug:elbow_flex")
    doc.run_button.click()
    qtbot.waitUntil(lambda: doc.run_button.isEnabled() and doc.health.rowCount() == 12, timeout=30_000)
    problems = dict(zip(table_texts(doc.health, 1)[6:], table_texts(doc.health, 8)[6:], strict=True))
    assert problems["elbow_flex"].startswith("not answering at id 3")
    assert set(table_texts(doc.health, 3)[:6]) == {"sts3215"}  # the model each servo reports
    for _, box in doc.inject:
        box.setChecked(False)
    doc.run_button.click()
    qtbot.waitUntil(lambda: doc.run_button.isEnabled() and doc.mirror.rowCount() == 6, timeout=30_000)
    assert doc.message.text().startswith("no problems found"), (
        table_texts(doc.health, 8), [table_texts(doc.ranges, c) for c in range(doc.ranges.columnCount())],
        [table_texts(doc.mirror, c) for c in range(doc.mirror.columnCount())])
