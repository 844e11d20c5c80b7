"""Rig configs: saved and loaded, an arm found again by its USB serial number after its port was renamed."""

import pytest

from hardware.discovery import SerialPortInfo
from hardware.rig_config import (
    ArmConfig,
    CameraConfig,
    RigConfig,
    RigConfigError,
    load_rig,
    remove_rig,
    resolve_port,
    save_rig,
    saved_rig_names,
)


def test_round_trip_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path))
    rig = RigConfig("desk", [ArmConfig("leader", "koch-v1.1-leader", "l1", "/dev/ttyACM0", "A1"),
                             ArmConfig("follower", "koch-v1.1-follower", "f1", "/dev/ttyACM1", "B2")],
                    [CameraConfig("front", "/dev/v4l/by-id/usb-cam-front", 640, 480, 30)])
    path = save_rig(rig)
    assert path == tmp_path / "rigs" / "desk.json"
    assert load_rig("desk") == rig
    assert load_rig(path) == rig
    assert list(path.parent.glob("*.tmp")) == []


def test_renamed_port_is_found_by_serial_number():
    arm = ArmConfig("follower", "koch-v1.1-follower", "f1", port="/dev/ttyACM1", serial_number="B2")
    after_reboot = [SerialPortInfo("/dev/ttyACM0", serial_number="B2"), SerialPortInfo("/dev/ttyACM1", serial_number="A1")]
    assert resolve_port(arm, after_reboot) == "/dev/ttyACM0"
    with pytest.raises(RigConfigError, match="follower arm 'f1': no serial port with serial number 'B2'"):
        resolve_port(arm, after_reboot[1:])
    assert resolve_port(ArmConfig("leader", "p", "l1", port="/dev/ttyUSB0"), []) == "/dev/ttyUSB0"
    with pytest.raises(RigConfigError, match="run `robotapp find-port`"):
        resolve_port(ArmConfig("leader", "p", "l1"), [])


@pytest.mark.parametrize("text,message", [
    ("{", "not valid JSON"),
    ('{"arms": []}', "'name'"),
    ('{"name": "x", "arms": [{"role": "left", "profile": "p", "arm_id": "a"}]}', "has role 'left'"),
    ('{"name": "x", "arms": [{"role": "leader", "profile": "p", "arm_id": "a", "colour": 1}]}', "colour"),
])
def test_bad_files_are_refused_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(RigConfigError, match=message):
        load_rig(path)
    with pytest.raises(RigConfigError, match="no rig config at"):  # a path is taken as given
        load_rig(tmp_path / "missing.json")


def test_an_unknown_name_lists_the_saved_rigs_and_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path))
    make = "make one with: robotapp rig new koch --leader PORT --follower PORT (or on the Rig page)"
    with pytest.raises(RigConfigError) as e:
        load_rig("koch")
    assert str(e.value) == f"no saved rig 'koch' (none saved yet); {make}"
    for name in ("lab", "desk"):
        save_rig(RigConfig(name, [ArmConfig("follower", "koch-v1.1-follower", f"{name}-follower", "/dev/ttyACM0")]))
    with pytest.raises(RigConfigError) as e:
        load_rig("koch")
    assert str(e.value) == f"no saved rig 'koch' (saved: desk, lab); {make}"
    assert saved_rig_names() == ["desk", "lab"]
    assert remove_rig("lab") == tmp_path / "rigs" / "lab.json" and saved_rig_names() == ["desk"]
    with pytest.raises(RigConfigError, match="not a rig name"):
        remove_rig("../desk")
