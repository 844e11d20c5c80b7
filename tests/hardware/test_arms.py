import json

import numpy as np
import pytest

from hardware.arms import (
    AlignmentError,
    Arm,
    GoalClamp,
    MotorCalibration,
    ProfileError,
    check_alignment,
    load_profile,
    to_raw,
    to_units,
)
from hardware.motors import DynamixelBus
from hardware.virtual.arms import VirtualArm


def test_builtin_profiles_match_the_koch_v11():
    f, ld = load_profile("koch-v1.1-follower"), load_profile("koch-v1.1-leader")
    assert [(j.id, j.model) for j in f.joints][:2] == [(1, "xl430-w250"), (2, "xl430-w250")]
    assert {j.model for j in ld.joints} == {"xl330-m077"}
    assert f.joint("gripper").mode == "current_position" and f.joint("elbow_flex").mode == "extended_position"
    assert ld.gripper_trigger == {"position": 50.0, "goal_current": 100}


@pytest.mark.parametrize("data,message", [
    ({"name": "x", "role": "boss", "motors": {}}, "role must be 'leader' or 'follower'"),
    ({"name": "x", "role": "leader", "motors": {"a": {"id": 1, "model": "mx28"}}}, "motors.a.model: unknown motor"),
    ({"name": "x", "role": "leader", "motors": {"a": {"id": "1", "model": "xl330-m077"}}}, "motors.a.id must be int"),
    ({"name": "x", "role": "leader", "motors": {"a": {"id": 1, "model": "xl330-m077", "mode": "wheel"}}},
     "motors.a.mode must be one of"),
    ({"name": "x", "role": "leader", "motors": {"a": {"id": 1, "model": "xl330-m077"},
                                                "b": {"id": 1, "model": "xl330-m077"}}}, "a and b both use id 1"),
    ({"name": "x", "role": "leader", "motors": {"a": {"id": 1, "model": "xl330-m077"}},
      "registers": {"a": {"Position_P_Gain": 99999}}}, "registers.a.Position_P_Gain: 99999 is outside"),
])
def test_custom_profile_files_and_their_errors(tmp_path, data, message):
    path = tmp_path / "arm.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ProfileError, match=message.replace("(", r"\(")):
        load_profile(path)
    with pytest.raises(ProfileError, match="unknown arm profile 'so100'"):
        load_profile("so100")


_ONE = {"a": {"id": 1, "model": "xl330-m077"}}
_GRIP = {"a": {"id": 1, "model": "xl330-m077"}, "g": {"id": 2, "model": "xl330-m077", "gripper": True}}


@pytest.mark.parametrize("extra,message", [
    ({"baudrate": "fast"}, "baudrate must be int, got 'fast'"),
    ({"baudrate": True}, "baudrate must be int, got True"),
    ({"baudrate": 4_500_000}, "baudrate: baud rate 4500000 is not supported by xl330-m077"),
    ({"baudrate": 250_000}, "baudrate: baud rate 250000 is not supported"),
    ({"baud_rate": 57_600}, "baud_rate: unknown field (known: name, role, baudrate"),
    ({"name": " "}, "name is empty"),
    ({"motors": {"a": {"id": 253, "model": "xl330-m077"}}}, "motors.a.id: 253 is outside 0..252"),
    ({"motors": {"a": {"id": -1, "model": "xl330-m077"}}}, "motors.a.id: -1 is outside 0..252"),
    ({"motors": {"a": {"id": 1, "model": "xl330-m077", "gripper": "yes"}}}, "motors.a.gripper must be bool"),
    ({"motors": {"a": {"id": 1, "model": "xl330-m077", "idd": 2}}}, "motors.a.idd: unknown field"),
    ({"motors": {"a": {"id": 1, "model": 330}}}, "motors.a.model must be str, got 330"),
    ({"motors": {}}, "motors is empty"),
    ({"registers": {"a": {"Position_P_Gain": "high"}}}, "registers.a.Position_P_Gain must be int, got 'high'"),
    ({"registers": {"a": {"Present_Position": 5}}}, "registers.a.Present_Position: read-only"),
    ({"registers": {"a": {"ID": 5}}}, "registers.a.ID: set by the app"),
    ({"registers": {"a": {"Goal_Positon": 5}}}, "registers.a.Goal_Positon: unknown register"),
    ({"registers": {"a": 5}}, "registers.a must be an object"),
    ({"registers": {"b": {}}}, "registers.b: no such motor"),
    ({"gripper_trigger": {"position": 50}}, 'gripper_trigger needs a motor marked "gripper": true'),
    ({"motors": _GRIP, "gripper_trigger": {"position": 150}}, "gripper_trigger.position must be within 0..100"),
    ({"motors": _GRIP, "gripper_trigger": {"position": "half"}}, "gripper_trigger.position must be int or float"),
    ({"motors": _GRIP, "gripper_trigger": {"position": 50, "goal_current": 5000}},
     "gripper_trigger.goal_current: 5000 is outside -1750..1750"),
    ({"motors": _GRIP, "gripper_trigger": {"position": 50, "force": 1}}, "gripper_trigger.force: unknown field"),
    ({"motors": {"g": {"id": 2, "model": "xl430-w250", "gripper": True}}, "gripper_trigger": {"position": 50}},
     "the gripper g is an xl430-w250, which has no current control"),
])
def test_profile_fields_are_checked_when_the_file_is_loaded(tmp_path, extra, message):
    path = tmp_path / "arm.json"
    path.write_text(json.dumps({"name": "x", "role": "leader", "motors": _ONE, **extra}))
    with pytest.raises(ProfileError) as e:
        load_profile(path)
    text = str(e.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_a_custom_profile_with_a_trigger_and_another_rate_loads(tmp_path):
    path = tmp_path / "arm.json"
    path.write_text(json.dumps({"name": "x", "role": "leader", "baudrate": 57_600, "motors": _GRIP,
                                "registers": {"a": {"Position_P_Gain": 900}},
                                "gripper_trigger": {"position": 40, "goal_current": 80}}))
    p = load_profile(path)
    assert p.baudrate == 57_600 and p.joint("g").gripper and p.gripper_trigger == {"position": 40, "goal_current": 80}


def test_units_round_trip():
    cals = [MotorCalibration(1, 0, 0, 1000, 3000), MotorCalibration(2, 0, 0, 1500, 2500)]
    grip = np.array([False, True])
    assert list(to_units(np.array([2000, 2000]), cals, grip)) == [0.0, 50.0]
    values = np.array([-45.0, 80.0])
    assert np.allclose(to_units(to_raw(values, cals, grip), cals, grip), values, atol=0.1)


def test_goal_clamp_limits_step_and_range():
    clamp = GoalClamp(5.0, [-90, -90, 0], [90, 90, 100])
    out, changed = clamp.apply(np.array([30.0, -1.0, 120.0]), np.array([0.0, 0.0, 98.0]))
    assert list(out) == [5.0, -1.0, 100.0] and list(changed) == [True, False, True]
    out, _ = clamp.apply(np.array([200.0, 0, 0]), np.array([88.0, 0, 0]))
    assert out[0] == 90.0
    with pytest.raises(ValueError, match="per-step limit must be positive"):
        GoalClamp(0, [0], [1])


def test_alignment_check_names_joints_worst_first():
    names = ["a", "b", "c"]
    check_alignment(names, np.array([0, 10, 20]), np.array([5, 0, 14]), threshold=10.5)
    with pytest.raises(AlignmentError, match=r"\(limit 10\): c 30.0, a 12.0; move the leader closer") as e:
        check_alignment(names, np.array([0, 10, 20]), np.array([12, 5, -10]), threshold=10)
    assert set(e.value.errors) == {"a", "c"}


@pytest.fixture
def clock():
    from .conftest import FakeClock

    return FakeClock()


@pytest.fixture
def arms(clock):
    from calibration import CalibrationProcedure
    from hardware.virtual.arms import run_scripted_calibration

    out = []
    for name in ("koch-v1.1-leader", "koch-v1.1-follower"):
        profile = load_profile(name)
        hw = VirtualArm(profile, clock=clock)
        bus = DynamixelBus(hw.port, profile.motors, latency_ms=1.0)
        bus.connect()
        arm = Arm(profile, bus)
        proc = CalibrationProcedure(arm)
        proc.apply(run_scripted_calibration(hw, proc))
        out.append((arm, hw))
    yield out
    for arm, hw in out:
        arm.disconnect()
        hw.close()


def test_per_step_clamp_on_the_real_bus(arms):
    (_, _), (follower, hw) = arms
    follower.configure()
    follower.torque(True)
    start = follower.read_positions()
    sent = follower.write_goals(start + np.array([90, 0, 0, 0, 0, 0]))
    assert sent[0] == pytest.approx(start[0] + 10)  # max_step = 10 degrees per command
    goal_raw = follower.bus.read("Goal_Position", "shoulder_pan")
    assert goal_raw == to_raw(sent, [follower.calibration[n] for n in follower.names], follower.is_gripper)[0]
