"""Any leader drives any follower with the same joint names: an SO-101 leader (Feetech STS3215s) and a Koch
follower (Dynamixels), each emulated byte for byte behind a port of its own, saved as a rig config and opened on
the real-rig path. Teleop goes through calibrated units: a joint the leader turns by D degrees turns the follower
by D degrees, and a gripper the leader closes to P % closes the follower's to P % of its own (different) span."""

import time

import numpy as np
import pytest

from calibration import calibration_path
from calibration.calibrate_arm import calibrate_and_save
from hardware.arms import load_profile
from hardware.rig_config import ArmConfig, RigConfig, remove_rig, save_rig
from hardware.virtual.arms import VirtualArm, run_scripted_calibration
from robotapp.core.modes import SessionConfig
from robotapp.core.rig_opener import connect_arm, open_rig
from robotapp.core.session import Session

LEADER, FOLLOWER = "so101-leader", "koch-v1.1-follower"


@pytest.fixture
def mixed_rig(monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOST_CHECK", "0")  # the host check looks at USB adapters; these are emulated
    arms = {"leader": VirtualArm(load_profile(LEADER), usb_serial="MIXED-LEADER"),
            "follower": VirtualArm(load_profile(FOLLOWER), usb_serial="MIXED-FOLLOWER")}
    try:
        for role, hw in arms.items():  # each arm calibrated in its own family's way, by the scripted hand
            arm = connect_arm(hw.profile, hw.port, f"mixed-{role}", calibration="none")
            try:
                calibrate_and_save(arm, calibration_path(arm.arm_id), lambda proc, v=hw: run_scripted_calibration(v, proc))
            finally:
                arm.bus.disconnect()
        save_rig(RigConfig("mixed", [ArmConfig("leader", LEADER, "mixed-leader", arms["leader"].port, "MIXED-LEADER"),
                                     ArmConfig("follower", FOLLOWER, "mixed-follower", arms["follower"].port,
                                               "MIXED-FOLLOWER")]))
        rig = open_rig("mixed")
        yield rig, arms
        rig.close()
    finally:
        remove_rig("mixed")
        for hw in arms.values():
            hw.close()


def test_an_so101_leader_drives_a_koch_follower_in_calibrated_units(mixed_rig):
    rig, arms = mixed_rig
    assert rig.leader.profile.family == "feetech" and rig.follower.profile.family == "dynamixel"
    assert rig.leader.names == rig.follower.names
    session = Session(rig, SessionConfig(control_hz=60, fps=30)).start()
    try:
        session.teleop(align=True)
        # the leader's hand: each joint a little off its middle, the gripper 80 % of the way from closed to open
        arms["leader"].pose({"shoulder_pan": 0.58, "shoulder_lift": 0.44, "elbow_flex": 0.55, "wrist_flex": 0.45,
                             "wrist_roll": 0.6, "gripper": 0.8})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            snap = session.snapshot()
            if snap.leader is not None and snap.follower is not None and snap.mode.value == "teleop" and \
                    abs(snap.leader[0]) > 10 and np.allclose(snap.follower, snap.leader, atol=2.0):
                break
            time.sleep(0.05)
        else:
            snap = session.snapshot()
            raise AssertionError(f"mode {snap.mode}, leader {snap.leader}, follower {snap.follower}")
        session.hold()
        units = rig.leader.read_positions(), rig.follower.read_positions()
        raw = rig.leader.read_raw(), rig.follower.read_raw()
    finally:
        session.close()
    # the leader's pan turned 8 % of the SO-101's 220° range, ~17.6°; the Koch follower turned as many degrees
    assert 15 < units[0][0] < 20 and abs(units[1][0] - units[0][0]) < 2.0
    assert abs(units[0][5] - 80.0) < 3.0 and abs(units[1][5] - 80.0) < 3.0  # grippers: 80 % of each one's span
    # the same 80 % is another angle on each gripper (their spans differ): the pairing is in units, not ticks
    assert abs(int(raw[0][5]) - int(raw[1][5])) > 20
