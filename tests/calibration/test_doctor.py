import numpy as np
import pytest

from calibration.doctor import format_rows, health_table, mirror_test, range_report
from hardware.motors.tables import HW_OVERLOAD
from hardware.virtual.arms import run_scripted_calibration
from tests.hardware.conftest import FakeClock

from .conftest import VirtualRigArm


def _calibrate(rig):
    from calibration import CalibrationProcedure

    proc = CalibrationProcedure(rig.arm)
    proc.apply(run_scripted_calibration(rig.hw, proc))


def test_health_table_names_a_hot_and_an_unplugged_motor(follower):
    follower.hw.servo("wrist_flex").temperature = 64.0  # XL330 shuts down at 70 °C
    follower.hw.servo("shoulder_lift").raise_hardware_error(HW_OVERLOAD)
    follower.hw.chain.unplug(3)
    rows = {r.motor: r for r in health_table(follower.bus)}
    assert rows["elbow_flex"].problem.startswith("not answering at id 3")
    assert rows["wrist_flex"].problem == "hot: 64 °C, shuts down at 70 °C"
    assert "hardware error: overload" in rows["shoulder_lift"].problem
    assert rows["shoulder_pan"].problem == "" and rows["shoulder_pan"].model == "xl430-w250"
    assert rows["shoulder_pan"].voltage == "12.0 V" and rows["gripper"].voltage == "5.0 V"
    text = format_rows(list(rows.values()), "Motor health")
    assert "elbow_flex" in text and "not answering" in text


def test_range_report_flags_a_joint_outside_its_range(follower):
    _calibrate(follower)
    rows = {r.joint: r for r in range_report(follower.arm)}
    assert rows["wrist_roll"].span_degrees == pytest.approx(300, abs=2)
    assert all(r.problem == "" for r in rows.values())
    follower.hw.servo("elbow_flex").move_by_hand(follower.hw.mechanics["elbow_flex"].ticks(1.4), 0)
    assert "outside its calibrated range" in range_report(follower.arm)[2].problem


def test_mirror_test_measures_tracking_and_names_a_stuck_joint():
    clock = FakeClock()
    leader, follower = VirtualRigArm("koch-v1.1-leader", clock), VirtualRigArm("koch-v1.1-follower", clock)
    try:
        _calibrate(leader)
        _calibrate(follower)
        rng = np.random.default_rng(0)
        fractions = [rng.uniform(0.2, 0.8, 6) for _ in range(5)]
        poses = [lambda f=f: leader.hw.pose(dict(zip(leader.arm.names, f, strict=True))) for f in fractions]
        rows = mirror_test(leader.arm, follower.arm, poses, settle=lambda: clock.advance(3.0))
        assert all(r.max_error < 1.0 and r.problem == "" for r in rows)
        follower.hw.servo("elbow_flex").blocked = True
        rows = {r.joint: r for r in mirror_test(leader.arm, follower.arm, poses, settle=lambda: clock.advance(3.0))}
        assert rows["elbow_flex"].max_error > 5 and "misses the leader" in rows["elbow_flex"].problem
        assert rows["wrist_flex"].problem == ""
    finally:
        leader.close()
        follower.close()
