"""Discovery on a machine with nothing plugged in, and its logic on fake port listings and a video file."""

from __future__ import annotations

import glob
from types import SimpleNamespace

import pytest
from serial.tools import list_ports

from hardware.discovery import (
    CameraInfo,
    SerialPortInfo,
    detect_replug,
    diff_ports,
    find_port_by_serial,
    list_cameras,
    list_serial_ports,
)
from tests.hardware.test_cameras import write_video

LEADER = SerialPortInfo("/dev/ttyACM0", "USB Serial Device", 0x2F5D, 0x2202, "58FA101278", "ROBOTIS", "1-1.2:1.0")
FOLLOWER = SerialPortInfo("/dev/ttyACM1", "USB Serial Device", 0x2F5D, 0x2202, "58FA101333", "ROBOTIS", "1-1.3:1.0")


def fake_comport(device: str, serial_number: str | None, hwid: str = "USB VID:PID=2F5D:2202") -> SimpleNamespace:
    return SimpleNamespace(device=device, description="OpenRB-150", vid=0x2F5D, pid=0x2202,
                           serial_number=serial_number, manufacturer="ROBOTIS", location="1-1:1.0", hwid=hwid)


def test_list_functions_work_with_whatever_is_plugged_in():
    ports = list_serial_ports()
    assert isinstance(ports, list) and all(isinstance(p, SerialPortInfo) for p in ports)
    assert all(p.vid is not None or p.description not in ("", "n/a") for p in ports)
    cams = list_cameras()
    assert all(isinstance(c, CameraInfo) and c.snapshot.shape == (c.height, c.width, 3) for c in cams)
    if not glob.glob("/dev/video*"):
        assert cams == []


def test_list_serial_ports_converts_sorts_and_hides_phantom_uarts(monkeypatch):
    fakes = [fake_comport("/dev/ttyACM1", "B"), fake_comport("/dev/ttyS0", None, hwid="n/a"),
             fake_comport("/dev/ttyACM0", "A")]
    monkeypatch.setattr(list_ports, "comports", lambda: fakes)
    ports = list_serial_ports()
    assert [p.device for p in ports] == ["/dev/ttyACM0", "/dev/ttyACM1"]
    assert ports[0] == SerialPortInfo("/dev/ttyACM0", "OpenRB-150", 0x2F5D, 0x2202, "A", "ROBOTIS", "1-1:1.0")
    assert "/dev/ttyS0" in [p.device for p in list_serial_ports(include_all=True)]


def test_find_port_by_serial():
    assert find_port_by_serial("58FA101333", [LEADER, FOLLOWER]) == "/dev/ttyACM1"
    with pytest.raises(LookupError) as err:
        find_port_by_serial("NOPE123", [LEADER, FOLLOWER])
    msg = str(err.value)
    assert "'NOPE123'" in msg and "\n" not in msg
    assert "/dev/ttyACM0 (USB Serial Device, serial 58FA101278)" in msg and "/dev/ttyACM1" in msg
    with pytest.raises(LookupError, match="plugged in: nothing$"):
        find_port_by_serial("NOPE123", [])


def test_find_port_by_serial_reads_the_system_by_default(monkeypatch):
    monkeypatch.setattr(list_ports, "comports", lambda: [fake_comport("/dev/ttyUSB3", "FT1234")])
    assert find_port_by_serial("FT1234") == "/dev/ttyUSB3"


def test_diff_ports():
    assert diff_ports([LEADER, FOLLOWER], [FOLLOWER]) == ([LEADER], [])
    assert diff_ports([FOLLOWER], [FOLLOWER, LEADER]) == ([], [LEADER])
    assert diff_ports([LEADER], [LEADER]) == ([], [])
    # Another adapter taking the same device node is a removal and an addition, not "no change".
    other = SerialPortInfo("/dev/ttyACM0", serial_number="OTHER")
    assert diff_ports([LEADER], [other]) == ([LEADER], [other])


def test_detect_replug():
    assert detect_replug([LEADER, FOLLOWER], [FOLLOWER]) is LEADER  # unplug the arm, press Enter
    assert detect_replug([FOLLOWER], [LEADER, FOLLOWER]) is LEADER  # plug it in, press Enter
    with pytest.raises(LookupError, match="no serial port appeared or disappeared"):
        detect_replug([LEADER], [LEADER])
    with pytest.raises(LookupError, match="more than one serial port changed .*removed: /dev/ttyACM0.*ttyACM1"):
        detect_replug([LEADER, FOLLOWER], [])


def test_list_cameras_probes_given_sources_and_snapshots_them(tmp_path):
    path = write_video(tmp_path / "cam.avi", color_rgb=(0, 0, 255))
    cams = list_cameras(sources=[str(path), str(tmp_path / "missing.avi"), "/dev/video99"])
    assert len(cams) == 1
    cam = cams[0]
    assert (cam.source, cam.width, cam.height, cam.fourcc) == (str(path), 64, 48, "MJPG")
    r, g, b = cam.snapshot.reshape(-1, 3).mean(axis=0)
    assert b > 230 and r < 25 and g < 25  # blue in RGB order
