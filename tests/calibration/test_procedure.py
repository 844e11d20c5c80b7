"""Full calibrations against emulated arms, moved by a scripted hand."""

import numpy as np
import pytest

from calibration import CalibrationError, CalibrationProcedure, calibration_path, load_calibration
from calibration.calibrate_arm import calibrate_and_save
from hardware.virtual.arms import run_scripted_calibration

SPANS = {"shoulder_pan": 180, "shoulder_lift": 190, "elbow_flex": 190, "wrist_flex": 200, "wrist_roll": 300}


def _check_ends(rig):
    """After calibration, each joint's mechanical ends read as -span/2 and +span/2 degrees (gripper 0 and 100 %)."""
    arm, hw = rig.arm, rig.hw
    for k, name in enumerate(arm.names):
        hw.pose({name: 0.0})
        low = arm.read_positions()[k]
        hw.pose({name: 1.0})
        high = arm.read_positions()[k]
        hw.pose({name: 0.5})
        if name == "gripper":
            assert (low, high) == (pytest.approx(0, abs=1), pytest.approx(100, abs=1))
        else:
            assert (low, high) == (pytest.approx(-SPANS[name] / 2, abs=1.5), pytest.approx(SPANS[name] / 2, abs=1.5))


def test_full_calibration_with_a_sweep_across_the_encoder_wrap(follower):
    # A person puts wrist_roll 45 degrees off its middle: its 300-degree sweep then runs past 0 on one side.
    result = run_scripted_calibration(follower.hw, CalibrationProcedure(follower.arm), {"wrist_roll": 0.15})
    cal = result.calibration
    assert set(cal) == set(follower.arm.names)
    assert all(0 <= c.range_min < c.range_max <= 4095 for c in cal.values())
    assert len(result.notes) == 1 and result.notes[0].startswith("wrist_roll: its sweep crossed the encoder's 0/4095")
    follower.arm.write_calibration(cal)
    follower.arm.set_calibration(cal)
    _check_ends(follower)


def test_single_turn_reading_jumps_are_unwrapped(follower):
    follower.hw.servo("wrist_roll").single_turn = True  # this servo folds its reading: it jumps 0 <-> 4095
    proc = CalibrationProcedure(follower.arm)
    result = run_scripted_calibration(follower.hw, proc, {"wrist_roll": 0.15})
    roll = next(r for r in proc.ranges if r.name == "wrist_roll")
    assert roll.wraps >= 1 and "jumped across it" in result.notes[0]
    follower.arm.write_calibration(result.calibration)
    follower.arm.set_calibration(result.calibration)
    _check_ends(follower)


def test_drive_mode_reverses_a_joint(leader):
    proc = CalibrationProcedure(leader.arm, drive_modes={"elbow_flex": 1})
    result = run_scripted_calibration(leader.hw, proc)
    assert result.calibration["elbow_flex"].drive_mode == 1 and result.notes == []
    leader.arm.write_calibration(result.calibration)
    leader.arm.set_calibration(result.calibration)
    k = leader.arm.names.index("elbow_flex")
    leader.hw.pose({"elbow_flex": 0.0})
    assert leader.arm.read_positions()[k] == pytest.approx(95, abs=1.5)  # reversed: the low end reads high


def test_a_joint_that_did_not_move_is_named_and_the_sweep_can_go_on(follower):
    proc = CalibrationProcedure(follower.arm)
    proc.prepare()
    proc.record_middle()
    for pose in follower.hw.sweep_poses():
        follower.hw.pose({k: v for k, v in pose.items() if k != "elbow_flex"})  # elbow_flex forgotten
        proc.sample()
    with pytest.raises(CalibrationError, match=r"not finished: elbow_flex moved only 0° \(keep sweeping") as e:
        proc.finish()
    assert "\n" not in str(e.value)
    for pose in follower.hw.sweep_poses():  # the user sweeps again and finishes
        follower.hw.pose(pose)
        proc.sample()
    assert proc.finish().calibration["elbow_flex"].range_max > 3000


def test_more_than_a_full_turn_is_refused(follower):
    proc = CalibrationProcedure(follower.arm)
    proc.prepare()
    proc.record_middle()
    servo = follower.hw.servo("wrist_roll")
    for _ in range(60):  # spin the joint by hand through 1.3 turns
        servo.move_by_hand(servo.actual + 90, follower.hw.chain.clock())
        proc.sample()
    with pytest.raises(CalibrationError, match="wrist_roll turned .*a full turn or more"):
        proc.finish()


def test_steps_out_of_order_are_refused(follower):
    proc = CalibrationProcedure(follower.arm)
    with pytest.raises(CalibrationError, match="cannot sample now: calibration is idle"):
        proc.sample()
    proc.prepare()
    with pytest.raises(CalibrationError, match="cannot finish now: calibration is prepared"):
        proc.finish()


def test_calibrate_and_save_round_trips_and_matches_the_motors(follower):
    path = calibration_path("follower-a")
    saved, result = calibrate_and_save(follower.arm, path, lambda p: run_scripted_calibration(follower.hw, p))
    assert saved == path and path.exists()
    loaded = load_calibration(path, follower.profile)
    assert loaded == result.calibration
    bus, names = follower.arm.bus, follower.arm.names
    held = {n: (int(o), int(m)) for n, o, m in zip(names, bus.sync_read("Homing_Offset", names),
                                                   bus.sync_read("Drive_Mode", names), strict=True)}
    assert {n: (c.homing_offset, c.drive_mode) for n, c in loaded.items()} == held
    assert np.all(np.abs(follower.arm.read_positions()[:5]) < 1.5)  # the hand left every joint mid-range


def test_a_failed_calibration_never_overwrites_the_good_file(follower):
    path = calibration_path("follower-b")
    calibrate_and_save(follower.arm, path, lambda p: run_scripted_calibration(follower.hw, p))
    good = path.read_text()

    def abandoned(proc):
        proc.prepare()
        proc.record_middle()
        return proc.finish()  # nothing was swept

    with pytest.raises(CalibrationError):
        calibrate_and_save(follower.arm, path, abandoned)
    assert path.read_text() == good
    assert not path.with_suffix(".json.bak").exists()
