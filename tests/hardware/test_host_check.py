"""The host check: fake sysfs trees for the latency timer and the cameras' USB buses, a port file the user may not
open, and emulated arms (over a pty, as a real adapter, or in-process where only the bytes matter) with a swapped
supply, a missing id and a shared id. Opening a real arm runs the same check first and refuses, in one line,
before anything is written to the motors."""

import grp
import os

import pytest

from calibration.files import calibration_path, save_calibration
from hardware.arms import MotorCalibration, load_profile
from hardware.discovery import SerialPortInfo
from hardware.host_check import (
    UDEV_RULE,
    CameraTarget,
    HostCheckError,
    HostEnv,
    check_cameras,
    check_host,
    check_latency,
    check_motors,
    check_port,
    parse_ping_replies,
    preflight,
)
from hardware.rig_config import ArmConfig, RigConfig, save_rig
from hardware.virtual import FaultConfig, PtyServer, ServoChain, VirtualServo, serve_inprocess
from hardware.virtual.protocol import build_status
from robotapp.core.rig_opener import open_arm, open_real_rig

LEADER = load_profile("koch-v1.1-leader")
FOLLOWER = load_profile("koch-v1.1-follower")


def _spec(profile, without=()):
    return ",".join(f"{j.id}:{j.model}" for j in profile.joints if j.id not in without)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path / "home"))


@pytest.fixture
def writes(monkeypatch):
    """Every write that reaches an emulated servo, as (servo id, address)."""
    seen = []
    original = VirtualServo.write_bytes

    def spy(self, address, data, now):
        seen.append((self.id, address))
        return original(self, address, data, now)

    monkeypatch.setattr(VirtualServo, "write_bytes", spy)
    return seen


# ------------------------------------------------------------------ latency timer
def _latency(root, tty, ms):
    d = root / "bus" / "usb-serial" / "devices" / tty
    d.mkdir(parents=True)
    (d / "latency_timer").write_text(f"{ms}\n")
    return d / "latency_timer"


def test_a_16_ms_latency_timer_is_set_to_1_when_writable_and_said_so(tmp_path):
    timer = _latency(tmp_path, "ttyUSB0", 16)
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ttyUSB0").write_text("")
    link = dev / "usb-FTDI_USB__-__Serial_Converter_FT1234-if00-port0"
    link.symlink_to(dev / "ttyUSB0")  # a /dev/serial/by-id link leads to the tty
    p = check_latency(str(link), role="follower", sys_root=tmp_path)
    assert p.line.startswith(f"follower arm (port {link}): the USB latency timer was 16 ms")
    assert "set to 1 ms for this session" in p.line and UDEV_RULE in p.line
    assert p.fixed and not p.fatal
    assert timer.read_text() == "1"
    assert check_latency(str(link), role="follower", sys_root=tmp_path) is None


def test_a_latency_timer_the_user_cannot_write_gets_the_command(tmp_path):
    timer = _latency(tmp_path, "ttyUSB3", 16)
    p = check_latency("/dev/ttyUSB3", sys_root=tmp_path, writable=lambda path: False)
    assert not p.fixed and f"`echo 1 | sudo tee {timer}`" in p.line and "each read waits up to 16 ms" in p.line
    assert timer.read_text() == "16\n"


def test_a_1_ms_timer_and_a_cdc_port_are_fine(tmp_path):
    _latency(tmp_path, "ttyUSB1", 1)
    _latency(tmp_path, "ttyUSB0", 16)  # a slow FTDI port beside them, found as such
    (tmp_path / "class" / "tty" / "ttyACM0").mkdir(parents=True)  # CDC: in sysfs, but no latency timer
    assert check_latency("/dev/ttyUSB1", sys_root=tmp_path) is None
    assert check_latency("/dev/ttyACM0", sys_root=tmp_path) is None
    assert check_latency("/dev/ttyUSB0", sys_root=tmp_path, fix=False).kind == "latency"


# ------------------------------------------------------------------ the port
def test_a_port_the_user_may_not_open_is_refused_with_its_group_and_the_command(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("giving a file to the dialout group takes root")
    group = next((g for g in ("dialout", "uucp") if _gid(g) is not None), None)
    if group is None:
        pytest.skip("no dialout or uucp group on this machine")
    port = tmp_path / "ttyUSB0"
    port.write_text("")
    os.chown(port, 0, _gid(group))
    os.chmod(port, 0o660)
    user = (4242, [4242])  # an ordinary user outside the group
    p = check_port(str(port), role="leader", uid=user[0], gids=user[1])
    assert p.kind == "permission" and p.fatal
    assert p.line.startswith(f"leader arm (port {port}): permission denied for user 4242 (the port is "
                             f"-rw-rw---- root:{group})")
    assert p.line.endswith(f"run `sudo usermod -aG {group} $USER`, then log out and in")
    assert check_port(str(port), role="leader", uid=4242, gids=[4242, _gid(group)]) is None  # once in the group
    assert check_port(str(port), role="leader") is None  # this process (root) may
    os.chmod(port, 0o640)  # the group may only read: joining it would not help
    assert f"run `sudo chmod a+rw {port}`" in check_port(str(port), uid=4242, gids=[_gid(group)]).line


def test_a_missing_port_names_what_is_plugged_in_instead():
    plugged = [SerialPortInfo("/dev/ttyACM0", "USB Single Serial", serial_number="5A46083062")]
    p = check_port("/dev/ttyUSB7", role="follower", ports=lambda: plugged)
    assert p.line == ("follower arm (port /dev/ttyUSB7): no such port; plugged in instead: /dev/ttyACM0 (USB Single "
                      "Serial, serial 5A46083062): if one of them is this arm, `robotapp find-port` tells which, then "
                      "use that port")
    assert "nothing" in check_port("/dev/ttyUSB7", ports=lambda: []).line


def _gid(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


# ------------------------------------------------------------------ supply voltage, over a pty
def test_12_v_on_the_leader_is_refused_before_torque(writes):
    chain = ServoChain(_spec(LEADER))
    with PtyServer(chain) as server:
        problems, notes = check_motors(server.path, LEADER, latency_ms=50.0)
        assert problems == []
        assert notes == [f"leader arm (port {server.path}): 6 motors answer (ids 1, 2, 3, 4, 5, 6), supply 5.0 V "
                         f"(XL330)"]
        open_arm("manual", "leader", port=server.path, profile="koch-v1.1-leader", configure=False).close()

        chain.set_supply(12.0)  # the follower's adapter, plugged into the leader
        line = (f"leader arm (port {server.path}): supply 12.0 V but its XL330 motors take 5 V: plug the 5 V supply "
                f"into the leader")
        problems, _ = check_motors(server.path, LEADER, latency_ms=50.0)
        assert [(p.line, p.kind, p.fatal) for p in problems] == [(line, "supply", True)]
        writes.clear()
        with pytest.raises(HostCheckError) as e:  # configure would turn the gripper's torque on
            open_arm("manual", "leader", port=server.path, profile="koch-v1.1-leader")
        assert str(e.value) == line and e.value.port == server.path
    assert writes == []
    assert not any(s.torque_on for s in chain.servos)


def test_5_v_on_the_follower_is_refused_when_the_rig_opens(writes, capsys):
    chain = ServoChain(_spec(FOLLOWER), faults=FaultConfig.parse("voltage=5.0"))
    # calibrated, so that without the check the rig would open and configure the arm (torque off, modes, limits)
    save_calibration({j.name: MotorCalibration(j.id, 0, 0, 1000, 3000) for j in FOLLOWER.joints},
                     calibration_path("bench-follower"))
    with PtyServer(chain) as server:
        save_rig(RigConfig("bench", [ArmConfig("follower", "koch-v1.1-follower", "bench-follower", server.path)]))
        with pytest.raises(HostCheckError) as e:
            open_real_rig("bench")
    assert str(e.value) == (f"follower arm (port {server.path}): supply 5.0 V but its XL430 motors take 12 V: plug "
                            f"the 12 V supply into the follower")
    assert writes == [] and not any(s.torque_on for s in chain.servos)
    assert capsys.readouterr().err == ""  # the refusal is the exception's one line, nothing else printed


def test_the_emulators_voltage_setting_is_checked():
    assert FaultConfig.parse("voltage=12.0,seed=1").voltage == 12.0
    for text, message in (("voltage=twelve", "'twelve' is not a number"), ("voltage=120", "at most 30 V"),
                          ("voltage=0", "above 0")):
        with pytest.raises(ValueError, match=message):
            FaultConfig.parse(text)
    chain = ServoChain("1:xl330-m077", faults=FaultConfig(voltage=12.0))
    chain.servo(1).reboot(0.0)  # a power-cycle keeps the wire's voltage
    assert chain.servo(1).get("Present_Input_Voltage") == 120


# ------------------------------------------------------------------ ids
def test_a_missing_id_is_named_with_its_joint_and_the_fix():
    with PtyServer(ServoChain(_spec(FOLLOWER, without={4}))) as server:
        problems, notes = check_motors(server.path, FOLLOWER, latency_ms=50.0)
        line = (f"follower arm (port {server.path}): motor id 4 (wrist_flex) does not answer: check its cable and "
                f"that it was set up (robotapp setup-motors --arm follower)")
        assert [(p.line, p.kind) for p in problems] == [(line, "missing_id")]
        assert "5 motors answer (ids 1, 2, 3, 5, 6), supply 12.0 V (XL430), 5.0 V (XL330)" in notes[0]
        # the doctor opens without the handshake to name it in its table; an arm opened for work is refused
        open_arm("manual", "follower", port=server.path, profile="koch-v1.1-follower", configure=False,
                 handshake=False).close()
        with pytest.raises(HostCheckError, match="motor id 4 \\(wrist_flex\\) does not answer"):
            open_arm("manual", "follower", port=server.path, profile="koch-v1.1-follower", configure=False)


def test_two_motors_on_one_id_are_found_by_the_broadcast_ping():
    chain = ServoChain(_spec(FOLLOWER))
    chain.servo(5).set("ID", 4)  # wrist_roll was given wrist_flex's id
    link = serve_inprocess(chain)
    try:
        problems, _ = check_motors(link.url, FOLLOWER, latency_ms=1.0)
    finally:
        link.close()
    label = f"follower arm (port {link.url})"
    assert [p.line for p in problems] == [
        f"{label}: 2 motors answer at id 4 (wrist_flex): every command reaches all of them: connect them one at a "
        f"time and give each its own id with `robotapp setup-motors --arm follower`",
        f"{label}: motor id 5 (wrist_roll) does not answer: check its cable and that it was set up (robotapp "
        f"setup-motors --arm follower)",
    ]


def test_colliding_replies_count_as_garbled():
    one, two = build_status(3, 0, bytes([0xB0, 0x04, 52])), build_status(4, 0, bytes([0xB0, 0x04, 52]))
    collided = bytes(a & b for a, b in zip(one, two, strict=True))  # both drive the line at once
    heard = parse_ping_replies(b"\x00" + one + collided + two[:9])
    assert heard.replies == [(3, 1200)] and heard.garbled == 2


def test_motors_at_the_factory_baud_rate_are_found_there():
    link = serve_inprocess(ServoChain("1:xl330-m077", baudrate=57_600))
    try:
        problems, notes = check_motors(link.url, LEADER, latency_ms=1.0)
    finally:
        link.close()
    assert [p.line for p in problems] == [
        f"leader arm (port {link.url}): no motor answers at 1000000 bps, but id 1 (xl330-m077) at 57600 bps: set the "
        f"motors up with `robotapp setup-motors --arm leader`"]
    assert notes == []


# ------------------------------------------------------------------ cameras
def _camera(root, node, bus, device, speed):
    usb = root / "devices" / "pci0000:00" / "0000:00:14.0" / f"usb{bus}" / device
    interface = usb / f"{device}:1.0"
    interface.mkdir(parents=True)
    (usb / "busnum").write_text(f"{bus}\n")
    (usb / "speed").write_text(f"{speed}\n")
    v4l = root / "class" / "video4linux" / node
    v4l.mkdir(parents=True)
    (v4l / "device").symlink_to(interface)


def test_two_yuyv_cameras_on_one_usb2_bus_are_flagged(tmp_path):
    _camera(tmp_path, "video0", 1, "1-1", 480)
    _camera(tmp_path, "video2", 1, "1-2", 480)
    _camera(tmp_path, "video4", 3, "3-1", 480)
    front = CameraTarget("front", "/dev/video0", 640, 480, 30)
    wrist = CameraTarget("wrist", "/dev/video2", 640, 480, 30)
    problems = check_cameras([front, wrist], tmp_path)
    assert [p.line for p in problems] == [
        "cameras front (/dev/video0) and wrist (/dev/video2) share USB 2 bus 1: 640x480@30 YUYV each needs 18.4 MB/s, "
        "36.9 MB/s in all, more than the ~35 MB/s one USB 2 bus carries: plug one into a port on another bus, lower "
        "the fps or size, or use MJPG"]
    assert not problems[0].fatal
    report = check_host([], [front, wrist], HostEnv(sys_root=tmp_path))
    assert report.notes[0] == "camera front (/dev/video0): USB bus 1 at 480 Mbit/s; 640x480@30 YUYV needs about 18.4 MB/s"
    printed = []  # before a rig opens, it is said and the rig still opens
    assert preflight([], [front, wrist], env=HostEnv(sys_root=tmp_path), report=printed.append).problems == problems
    assert printed == [problems[0].line]
    moved = CameraTarget("wrist", "/dev/video4", 640, 480, 30)
    assert check_cameras([front, moved], tmp_path) == []  # on another bus
    assert check_cameras([front, CameraTarget("wrist", 2, 640, 480, 30, "MJPG")], tmp_path) == []
    assert check_cameras([front, CameraTarget("wrist", 2, 640, 480, 15)], tmp_path) == []  # 27.6 MB/s


def test_a_usb3_camera_does_not_count_against_a_usb2_bus(tmp_path):
    _camera(tmp_path, "video0", 2, "2-1", 5000)
    _camera(tmp_path, "video2", 2, "2-2", 5000)
    cams = [CameraTarget("front", "/dev/video0", 1280, 720, 30), CameraTarget("top", "/dev/video2", 1280, 720, 30)]
    assert check_cameras(cams, tmp_path) == []
