"""The SO-101's arms on emulated STS3215s through FeetechBus: the same Arm and calibration procedure as the Koch,
with the Feetech family's details (position mode 0, no Drive_Mode, Homing_Offset subtracted, EEPROM under Lock)."""

import json

import numpy as np
import pytest

from calibration import CalibrationFileError, CalibrationProcedure, calibration_path, load_calibration
from calibration.calibrate_arm import calibrate_and_save
from hardware.arms import Arm, load_profile
from hardware.arms.profile import ProfileError, profile_from_dict
from hardware.motors import FeetechBus
from hardware.virtual import so101
from hardware.virtual.arms import VirtualArm, run_scripted_calibration
from hardware.virtual.feetech_chain import FeetechChain

NAMES = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]


@pytest.fixture(autouse=True)
def _user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path / "home"))


@pytest.fixture(params=["so101-follower", "so101-leader"])
def so101_arm(request):
    profile = load_profile(request.param)
    hw = VirtualArm(profile)
    bus = FeetechBus(hw.port, profile.motors, latency_ms=1.0)
    bus.connect()
    yield hw, Arm(profile, bus)
    bus.disconnect()
    hw.close()


def test_profiles_load_as_lerobot_names_the_so101():
    for role in ("leader", "follower"):
        p = load_profile(f"so101-{role}")
        assert (p.family, p.role, p.names) == ("feetech", role, NAMES)
        assert [j.id for j in p.joints] == [1, 2, 3, 4, 5, 6] and {j.model for j in p.joints} == {"sts3215"}
        assert p.robot_type == f"so101_{role}"
    assert load_profile("koch-v1.1-follower").family == "dynamixel"  # the default


def test_a_feetech_profile_refuses_dynamixel_modes_and_managed_registers():
    base = {"name": "x", "role": "follower", "family": "feetech",
            "motors": {"a": {"id": 1, "model": "sts3215", "mode": "extended_position"}}}
    with pytest.raises(ProfileError, match="mode must be one of position"):
        profile_from_dict(base)
    base["motors"]["a"]["mode"] = "position"
    with pytest.raises(ProfileError, match="Lock: set by the app"):
        profile_from_dict({**base, "registers": {"a": {"Lock": 0}}})
    with pytest.raises(ProfileError, match="unknown Dynamixel model|unknown"):
        profile_from_dict({**base, "family": "dynamixel"})


def test_the_virtual_so101_arm_is_a_feetech_chain_on_the_so101s_mechanics(so101_arm):
    hw, _ = so101_arm
    assert isinstance(hw.chain, FeetechChain)
    assert {n: (m.span_degrees, m.middle_ticks) for n, m in hw.mechanics.items()} == so101.MECHANICS


def test_calibration_puts_the_middle_at_2047_and_ranges_by_sweep(so101_arm):
    hw, arm = so101_arm
    proc = CalibrationProcedure(arm)
    result = run_scripted_calibration(hw, proc, {"elbow_flex": 0.05})
    cal = result.calibration
    for name in NAMES:
        servo = hw.servo(name)
        c = cal[name]
        assert c.drive_mode == 0
        # Feetech: Present = actual - Homing_Offset; the middle pose (hand placed) read 2047 after the offset
        mid_actual = hw.mechanics[name].ticks(0.5 + (0.05 if name == "elbow_flex" else 0.0))
        assert round(mid_actual) - c.homing_offset == 2047
        # the offset was saved (written with Lock 0): a power cycle keeps it
        servo.reboot(hw.chain.clock())
        assert servo.get("Homing_Offset") == c.homing_offset
        span = hw.mechanics[name].span_degrees * 4096 / 360
        assert c.range_max - c.range_min == pytest.approx(span, abs=3)
    assert result.notes == []
    proc.apply(result)
    for k, name in enumerate(NAMES):
        hw.pose({name: 0.0})
        low = arm.read_positions()[k]
        hw.pose({name: 1.0})
        high = arm.read_positions()[k]
        hw.pose({name: 0.5})
        if name == "gripper":
            assert (low, high) == (pytest.approx(0, abs=1), pytest.approx(100, abs=1))
        else:
            half = so101.MECHANICS[name][0] / 2
            assert (low, high) == (pytest.approx(-half, abs=1.5), pytest.approx(half, abs=1.5))


def test_calibrated_goals_reach_the_servo_in_position_mode():
    profile = load_profile("so101-follower")
    hw = VirtualArm(profile)
    bus = FeetechBus(hw.port, profile.motors, latency_ms=1.0)
    bus.connect()
    try:
        arm = Arm(profile, bus)
        proc = CalibrationProcedure(arm)
        proc.apply(run_scripted_calibration(hw, proc))
        arm.configure()
        assert bus.read("Operating_Mode", "shoulder_pan") == 0 and bus.read("P_Coefficient", "gripper") == 16
        assert bus.read("Max_Torque_Limit", "gripper") == 500
        arm.torque(True)
        goals = np.array([10.0, -5.0, 3.0, 0.0, 0.0, 40.0])
        sent = arm.write_goals(goals, clamp=False)
        c = arm.calibration["shoulder_pan"]
        raw = bus.read("Goal_Position", "shoulder_pan")
        assert raw == round(10.0 * 4095 / 360 + (c.range_min + c.range_max) / 2)
        assert np.allclose(sent, goals)
    finally:
        bus.disconnect()
        hw.close()


def test_the_calibration_file_has_lerobots_so101_fields(so101_arm):
    hw, arm = so101_arm
    path = calibration_path(f"test-{arm.profile.name}")
    calibrate_and_save(arm, path, lambda proc: run_scripted_calibration(hw, proc))
    data = json.loads(path.read_text())
    assert list(data) == NAMES
    for k, entry in enumerate(data.values()):
        assert list(entry) == ["id", "drive_mode", "homing_offset", "range_min", "range_max"]
        assert entry["id"] == k + 1 and entry["drive_mode"] == 0
        assert -2047 <= entry["homing_offset"] <= 2047 and 0 <= entry["range_min"] < entry["range_max"] <= 4095
    assert load_calibration(path, arm.profile) == arm.calibration
    data["wrist_roll"]["homing_offset"] = 3000  # fine for a Dynamixel, beyond an STS3215's register
    path.write_text(json.dumps(data))
    with pytest.raises(CalibrationFileError, match=r"wrist_roll.homing_offset is 3000, outside -2047..2047"):
        load_calibration(path, arm.profile)


def test_the_doctors_health_table_reads_the_sts3215s_own_registers(so101_arm):
    from calibration.doctor import health_table

    hw, arm = so101_arm
    rows = health_table(arm.bus)
    assert [(r.model, r.firmware, r.voltage, r.hardware_error, r.problem) for r in rows] == \
        [("sts3215", "v3.10", "7.4 V", "none", "")] * 6
    hw.servo("elbow_flex").raise_hardware_error(0x04)  # overheating
    row = health_table(arm.bus)[2]
    assert row.hardware_error == "overheating" and "hardware error: overheating" in row.problem
