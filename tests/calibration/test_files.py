import json

import pytest

from calibration import CalibrationFileError, calibration_path, load_calibration, save_calibration
from hardware.arms import MotorCalibration, load_profile

PROFILE = load_profile("koch-v1.1-follower")
GOOD = {n: {"id": j.id, "drive_mode": 0, "homing_offset": -100 * j.id, "range_min": 1000, "range_max": 3000}
        for n, j in ((j.name, j) for j in PROFILE.joints)}


def _write(tmp_path, data):
    path = tmp_path / "arm.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _broken(change):
    data = json.loads(json.dumps(GOOD))
    change(data)
    return data


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("gripper"), "motor 'gripper' is missing"),
    (lambda d: d.update(elbow=GOOD["gripper"]), "unknown motor 'elbow' (the arm has shoulder_pan"),
    (lambda d: d["wrist_flex"].update(range_min="12"), "wrist_flex.range_min must be an integer, got '12'"),
    (lambda d: d["wrist_flex"].update(homing_offset=1.5), "wrist_flex.homing_offset must be an integer, got 1.5"),
    (lambda d: d["wrist_flex"].update(drive_mode=True), "wrist_flex.drive_mode must be an integer, got True"),
    (lambda d: d["elbow_flex"].update(range_min=3000, range_max=3000),
     "elbow_flex: range_min (3000) must be below range_max (3000)"),
    (lambda d: d["shoulder_pan"].pop("range_max"), "shoulder_pan.range_max is missing"),
    (lambda d: d["gripper"].update(id=9), "gripper.id is 9 but the arm profile says 6"),
    (lambda d: d["gripper"].update(drive_mode=2), "gripper.drive_mode must be 0 or 1, got 2"),
    (lambda d: d["wrist_flex"].update(homing_offset=2_000_000),
     "wrist_flex.homing_offset is 2000000, outside -1044479..1044479 (the Homing_Offset register's range"),
    (lambda d: d["wrist_flex"].update(homing_offset=-1_044_480), "wrist_flex.homing_offset is -1044480, outside"),
    (lambda d: d["elbow_flex"].update(range_min=-5), "elbow_flex.range_min is -5, outside 0..4095"),
    (lambda d: d["elbow_flex"].update(range_max=4096), "elbow_flex.range_max is 4096, outside 0..4095"),
])
def test_malformed_files_are_refused_naming_the_field(tmp_path, change, message):
    path = _write(tmp_path, _broken(change))
    with pytest.raises(CalibrationFileError) as e:
        load_calibration(path, PROFILE)
    assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)


def test_without_a_profile_the_id_must_still_fit_its_register(tmp_path):
    data = _broken(lambda d: d["gripper"].update(id=300))
    with pytest.raises(CalibrationFileError, match=r"gripper.id is 300, outside 0..253"):
        load_calibration(_write(tmp_path, data))
    edge = _broken(lambda d: d["gripper"].update(homing_offset=1_044_479, range_min=0, range_max=4095))
    assert load_calibration(_write(tmp_path, edge), PROFILE)["gripper"].homing_offset == 1_044_479


def test_not_json_and_missing_file(tmp_path):
    with pytest.raises(CalibrationFileError, match=r"not valid JSON \(line 1"):
        load_calibration(_write(tmp_path, "{oops"), PROFILE)
    with pytest.raises(CalibrationFileError, match="no calibration file at .*calibrate the arm first"):
        load_calibration(tmp_path / "none.json", PROFILE)


def test_round_trip_and_backup(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path))
    cal = {n: MotorCalibration(**v) for n, v in GOOD.items()}
    path = calibration_path("koch-follower")
    assert path == tmp_path / "calibration" / "koch-follower.json"
    save_calibration(cal, path)
    assert load_calibration(path, PROFILE) == cal
    assert json.loads(path.read_text())["gripper"] == GOOD["gripper"]  # lerobot's shape, field for field
    newer = dict(cal, gripper=MotorCalibration(6, 0, 5, 10, 20))
    save_calibration(newer, path)
    assert load_calibration(path, PROFILE)["gripper"].range_max == 20
    assert load_calibration(path.with_suffix(".json.bak"), PROFILE) == cal
    assert sorted(p.name for p in path.parent.iterdir()) == ["koch-follower.json", "koch-follower.json.bak"]


def test_arm_id_must_be_a_plain_name():
    with pytest.raises(CalibrationFileError, match="arm id '../etc'"):
        calibration_path("../etc")
