"""The Rig page on the virtual rig: ports with USB identity and the identify flow, camera thumbnails and role
names, saving a rig config (with the field at fault named on bad input), the motor scan and setup wizard, the
calibration wizard with live range bars and the wrap warning, and the doctor."""

from hardware.rig_config import load_rig
from robotapp.gui.common import table_texts


def test_ports_list_usb_identity_and_identify_finds_the_replugged_arm(window, qtbot):
    ports = window.rig_page.ports
    qtbot.waitUntil(lambda: ports.table.rowCount() >= 2, timeout=5000)
    serials = table_texts(ports.table, 2)
    assert {"VIRTUAL-LEADER", "VIRTUAL-FOLLOWER"} <= set(serials)
    assert set(table_texts(ports.table, 3)) == {"0403:6014"}
    follower = ports.chosen("follower")
    assert follower.serial_number == "VIRTUAL-FOLLOWER" and ports.chosen("leader").serial_number == "VIRTUAL-LEADER"

    ports.identify_button.click()
    box = ports.flow
    for step in ("Unplug", "Plug it back"):  # each click performs the step on the virtual rig
        qtbot.waitUntil(box.done_button.isEnabled, timeout=5000)
        assert step in box.instruction.text() and box.done_button.text() == "Do it for me (virtual rig)"
        box.done_button.click()
    qtbot.waitUntil(lambda: "the arm is on" in ports.message.text(), timeout=5000)
    assert f"the arm is on {follower.device} (USB serial VIRTUAL-FOLLOWER)" in ports.message.text()
    assert ports.identified.device == follower.device
    qtbot.waitUntil(lambda: ports.table.rowCount() >= 2, timeout=5000)  # plugged back in: listed again


def test_cameras_have_thumbnails_and_role_names(window, qtbot):
    cams = window.rig_page.cameras
    qtbot.waitUntil(lambda: len(cams.cards) == 2, timeout=5000)
    assert [c.role.text() for c in cams.cards] == ["front", "wrist"]
    for card in cams.cards:
        pix = card.image.pixmap()
        assert not pix.isNull() and pix.width() == 240
        assert "160×120" in card.source.text()


def test_save_rig_config_names_the_field_at_fault_then_saves(window, qtbot):
    page = window.rig_page
    qtbot.waitUntil(lambda: page.ports.table.rowCount() >= 2 and len(page.cameras.cards) == 2, timeout=5000)
    page.set_profile("koch")
    assert page.save_button.isEnabled()

    page.rig_name.setText("")
    page.save_button.click()
    assert page.message.is_error and page.message.text().startswith("Rig name: empty")

    page.rig_name.setText("desk")
    follower = page.ports.chosen("follower")
    page.ports.set_role(follower.device, "—")
    page.save_button.click()
    assert page.message.text().startswith("Follower port: no port chosen")

    page.ports.set_role(follower.device, "follower")
    page.cameras.cards[1].role.setText("front")
    page.save_button.click()
    assert page.message.text() == "Camera name: two cameras are called 'front'"

    page.cameras.cards[1].role.setText("wrist")
    page.save_button.click()
    assert not page.message.is_error and "rig config saved" in page.message.text()
    config = load_rig("desk")
    assert [(a.role, a.profile, a.serial_number) for a in config.arms] == [
        ("leader", "koch-v1.1-leader", "VIRTUAL-LEADER"), ("follower", "koch-v1.1-follower", "VIRTUAL-FOLLOWER")]
    assert [(c.name, c.source) for c in config.cameras] == [("front", "virtual:front"), ("wrist", "virtual:wrist")]

    page.set_profile("custom")
    page.leader_file.setText("/nonexistent/leader.json")
    page.follower_file.setText("koch-v1.1-follower")
    page.save_button.click()
    assert page.message.text().startswith("Leader profile: cannot read arm profile /nonexistent/leader.json")
    page.leader_file.setText("koch-v1.1-follower")
    page.save_button.click()
    assert page.message.text().startswith("Leader profile: koch-v1.1-follower is a follower profile")


def test_motor_scan_and_setup_wizard_one_motor_at_a_time(window, qtbot):
    page = window.rig_page
    motors = page.motors
    page.tabs.setCurrentWidget(motors)
    motors.scan_button.click()
    qtbot.waitUntil(lambda: motors.scan_table.rowCount() == 6, timeout=20_000)
    assert table_texts(motors.scan_table, 3) == ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex",
                                                 "wrist_roll", "gripper"]
    assert table_texts(motors.scan_table, 4) == [""] * 6

    motors.setup_button.click()
    box = motors.flow
    expected = ["gripper", "wrist_roll", "wrist_flex", "elbow_flex", "shoulder_lift", "shoulder_pan"]
    for k, joint in enumerate(expected):
        qtbot.waitUntil(box.done_button.isEnabled, timeout=20_000)
        assert f"Connect ONLY the '{joint}' motor" in box.instruction.text()
        assert table_texts(motors.plan_table, 4)[k] == "connect it now"
        box.done_button.click()
    qtbot.waitUntil(lambda: "all 6 motors set up" in motors.message.text(), timeout=20_000)
    assert table_texts(motors.plan_table, 4) == ["ready"] * 6
    assert "'shoulder_pan' is ready: id 1 at 1000000 bps (was id 1 at 57600 bps)" in box.log.toPlainText()


def test_calibration_wizard_live_bars_wrap_warning_and_save(window, qtbot, tmp_path):
    page = window.rig_page
    cal = page.calibration
    page.tabs.setCurrentWidget(cal)
    cal.arm_id.setText("gui-test-follower")  # the virtual rig's own file stays as it is
    cal.start_button.click()
    qtbot.waitUntil(cal.middle_button.isEnabled, timeout=10_000)
    assert "middle" in cal.step.text()
    cal.auto_middle_button.click()
    qtbot.waitUntil(cal.finish_button.isEnabled, timeout=10_000)

    cal.finish_button.click()  # nothing swept yet: refused, the wizard stays in the sweep
    qtbot.waitUntil(lambda: "calibration not finished" in cal.message.text(), timeout=5000)
    assert cal.message.is_error and "moved only" in cal.message.text()
    assert cal.finish_button.isEnabled()

    cal.auto_sweep_button.click()
    qtbot.waitUntil(lambda: "wrist_roll crossed the encoder's 0/4095 point" in cal.wrap.text(), timeout=20_000)
    wrist = next(r for r in cal.bars.ranges if r.name == "wrist_roll")
    assert wrist.low < 0  # live: the bar runs past the encoder's zero
    qtbot.waitUntil(lambda: all(r.span_degrees > 90 for r in cal.bars.ranges), timeout=20_000)
    qtbot.waitUntil(lambda: cal.run is not None and not cal.run.status().auto_sweeping, timeout=20_000)
    cal.finish_button.click()
    qtbot.waitUntil(lambda: cal.report.rowCount() == 6, timeout=10_000)
    assert "Corrected: wrist_roll: its sweep crossed the encoder's 0/4095 point" in cal.message.text()
    assert cal.step.text().startswith("Saved ") and cal.step.text().endswith("gui-test-follower.json")
    assert table_texts(cal.report, 5) == [""] * 6  # every calibrated range is fine
    assert cal.start_button.isEnabled()


def test_doctor_names_injected_faults_then_mirror_test_passes(window, qtbot):
    page = window.rig_page
    doc = page.doctor
    page.tabs.setCurrentWidget(doc)
    for spec, box in doc.inject:
        box.setChecked(spec in ("hot:wrist_flex", "unplug:elbow_flex"))
    doc.run_button.click()
    qtbot.waitUntil(lambda: doc.run_button.isEnabled() and doc.health.rowCount() == 12, timeout=30_000)
    problems = dict(zip(table_texts(doc.health, 1)[6:], table_texts(doc.health, 8)[6:], strict=True))
    assert problems["elbow_flex"].startswith("not answering at id 3")
    assert problems["wrist_flex"].startswith("hot: 65 °C")
    assert doc.message.is_error and doc.message.text().startswith("2 problem(s) found")
    assert doc.mirror.rowCount() == 0  # skipped while something is broken

    for _, box in doc.inject:
        box.setChecked(False)
    doc.run_button.click()
    qtbot.waitUntil(lambda: doc.run_button.isEnabled() and doc.mirror.rowCount() == 6, timeout=30_000)
    assert doc.message.text().startswith("no problems found")
    assert all(float(e) < 5.0 for e in table_texts(doc.mirror, 2))  # per-joint max error, degrees / %
