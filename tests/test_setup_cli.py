"""The setup commands end to end on the virtual rig, as a user runs them: find-port, find-cameras,
setup-motors, calibrate --auto and doctor (healthy, then with a hot and an unplugged motor)."""

import json

import pytest

from robotapp.cli.main import main


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_find_port_names_the_unplugged_arm_and_its_serial(capsys):
    assert main(["find-port", "--rig", "virtual"]) == 0
    out = capsys.readouterr().out
    assert "serial VIRTUAL-LEADER" in out and "serial VIRTUAL-FOLLOWER" in out
    assert "its USB serial number is VIRTUAL-FOLLOWER" in out.splitlines()[-1]


def test_find_cameras_saves_a_snapshot_per_camera(capsys, tmp_path):
    assert main(["find-cameras", "--rig", "virtual", "--snapshots", str(tmp_path / "snaps")]) == 0
    out = capsys.readouterr().out
    assert "virtual:front: front, 320x240" in out and "virtual:wrist: wrist, 320x240" in out
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == ["virtual_front.png", "virtual_wrist.png"]


def test_setup_motors_gives_each_factory_new_motor_its_id(capsys):
    assert main(["setup-motors", "--rig", "virtual", "--arm", "follower"]) == 0
    out = capsys.readouterr().out
    for motor_id, name in enumerate(["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll",
                                     "gripper"], start=1):
        assert f"'{name}' is ready: id {motor_id} at 1000000 bps (was id 1 at 57600 bps)" in out


def test_calibrate_auto_writes_the_file_and_explains_the_wrap(capsys, home):
    assert main(["calibrate", "--rig", "virtual", "--arm", "follower", "--auto"]) == 0
    out = capsys.readouterr().out
    path = home / "calibration" / "virtual-follower.json"
    assert out.splitlines()[-1] == f"calibration written to {path}"
    assert "wrist_roll: its sweep crossed the encoder's 0/4095 point" in out
    data = json.loads(path.read_text())
    assert set(data) == {"shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"}
    assert all(0 <= m["range_min"] < m["range_max"] <= 4095 for m in data.values())


def test_doctor_is_clean_after_calibration_and_names_injected_faults(capsys):
    for arm in ("leader", "follower"):
        assert main(["calibrate", "--rig", "virtual", "--arm", arm, "--auto"]) == 0
    capsys.readouterr()
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Mirror test" in out and out.splitlines()[-1] == "doctor: no problems found"
    assert main(["doctor", "--inject", "hot:wrist_flex,unplug:elbow_flex"]) == 1
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "not answering at id 3" in rows["elbow_flex"]
    assert "hot: 65 °C" in rows["wrist_flex"]


@pytest.mark.parametrize("argv,message", [
    (["calibrate", "--rig", "virtual", "--auto", "--drive-mode", "knee"], "--drive-mode knee: no such joint"),
    (["doctor", "--rig", "virtual", "--inject", "melt:gripper"], "bad injection 'melt:gripper'"),
    (["calibrate", "--rig", "nosuchrig", "--arm", "follower"],
     "no saved rig 'nosuchrig' (none saved yet); make one with: robotapp rig new nosuchrig --leader PORT"),
    (["calibrate", "--port", "/dev/ttyUSB9"], "--port needs --profile"),
])
def test_bad_input_is_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
