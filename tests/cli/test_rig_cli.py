"""`robotapp rig new | list | show | remove | udev`, run through the real command line, with virtual ports standing in
for USB adapters with serial numbers. The files are the window's: what `rig new` writes, load_rig reads."""

import pytest

from calibration.files import calibration_path
from hardware.discovery import SerialPortInfo, register_virtual_port, unregister_virtual_port
from hardware.rig_config import ArmConfig, CameraConfig, RigConfig, load_rig, resolve_port, rig_path, save_rig
from robotapp.cli.main import main
from robotapp.services.rig_config_form import rig_config_exists
from robotapp.terminal.rig_commands import NO_RIGS

LEADER = SerialPortInfo("/dev/ttyTEST-LEADER", "USB serial", serial_number="LEAD-1")
FOLLOWER = SerialPortInfo("/dev/ttyTEST-FOLLOWER", "USB serial", serial_number="FOLLOW-2")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def ports():
    """Two adapters plugged in; whatever a test registers more is taken away after it too."""
    registered = []

    def plug(info: SerialPortInfo) -> None:
        register_virtual_port(info)
        registered.append(info.device)

    plug(LEADER)
    plug(FOLLOWER)
    yield plug
    for device in registered:
        unregister_virtual_port(device)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["rig", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_new_list_show_then_the_window_reads_it_then_remove(home, ports, capsys, tmp_path):
    camera = tmp_path / "front.mp4"
    camera.write_bytes(b"")
    code, out, err = run(capsys, "new", "desk", "--leader", LEADER.device, "--follower", "FOLLOW-2",
                         "--camera", f"front={camera}@320x240@15")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"saved rig 'desk': {home / 'rigs' / 'desk.json'}"
    assert lines[-1] == "next: robotapp calibrate --rig desk --arm leader; robotapp calibrate --rig desk --arm follower"

    # the window's loader reads the same file; arm ids are the Rig page's (NAME-role); both port and serial stored
    assert rig_config_exists("desk")
    assert load_rig("desk") == RigConfig("desk", [
        ArmConfig("leader", "koch-v1.1-leader", "desk-leader", LEADER.device, "LEAD-1"),
        ArmConfig("follower", "koch-v1.1-follower", "desk-follower", FOLLOWER.device, "FOLLOW-2"),
    ], [CameraConfig("front", str(camera), 320, 240, 15)])

    code, out, _ = run(capsys, "list")
    assert code == 0
    assert out.splitlines() == [
        "desk",
        f"  leader    koch-v1.1-leader     {LEADER.device}, serial LEAD-1; arm id desk-leader",
        f"  follower  koch-v1.1-follower   {FOLLOWER.device}, serial FOLLOW-2; arm id desk-follower",
        f"  cameras   front ({camera}, 320x240 at 15 fps)",
    ]

    # the follower's adapter comes back under another name: found again by its serial number; one arm calibrated
    unregister_virtual_port(FOLLOWER.device)
    ports(SerialPortInfo("/dev/ttyTEST-RENAMED", serial_number="FOLLOW-2"))
    calibration = calibration_path("desk-follower")
    calibration.parent.mkdir(parents=True)
    calibration.write_text("{}")
    assert resolve_port(load_rig("desk").arm("follower")) == "/dev/ttyTEST-RENAMED"
    code, out, _ = run(capsys, "show", "desk")
    assert code == 0
    assert out.splitlines() == [
        f"rig desk ({home / 'rigs' / 'desk.json'})",
        "leader arm",
        "  profile      koch-v1.1-leader",
        "  arm id       desk-leader",
        f"  port         {LEADER.device}",
        "  serial       LEAD-1",
        f"  now          plugged in at {LEADER.device}",
        "  calibration  none yet: robotapp calibrate --rig desk --arm leader",
        "follower arm",
        "  profile      koch-v1.1-follower",
        "  arm id       desk-follower",
        f"  port         {FOLLOWER.device}",
        "  serial       FOLLOW-2",
        f"  now          plugged in at /dev/ttyTEST-RENAMED (it was {FOLLOWER.device}; found again by serial number)",
        f"  calibration  {calibration}",
        "cameras",
        f"  front        {camera}, 320x240 at 15 fps",
    ]
    unregister_virtual_port(LEADER.device)
    _, out, _ = run(capsys, "show", "desk")
    assert "  now          not plugged in (no adapter with its serial number)" in out.splitlines()

    code, out, _ = run(capsys, "remove", "desk")
    assert code == 0
    assert out.splitlines() == [f"removed rig 'desk': {home / 'rigs' / 'desk.json'}",
                                f"calibrations kept: {calibration}"]
    assert not rig_path("desk").exists() and calibration.exists()
    assert run(capsys, "list")[1] == NO_RIGS + "\n"


def test_a_saved_rig_is_replaced_only_with_force(home, ports, capsys):
    args = ["new", "desk", "--leader", "LEAD-1", "--follower", "FOLLOW-2"]
    assert run(capsys, *args)[0] == 0
    code, out, err = run(capsys, *args, "--camera", "wrist=/dev/null")
    assert (code, out) == (2, "")
    assert err == (f"robotapp rig: NAME: a rig called 'desk' is saved already ({rig_path('desk')}); add --force to "
                   f"replace it, or robotapp rig show desk to see it\n")
    assert load_rig("desk").cameras == []
    code, out, _ = run(capsys, *args, "--camera", "wrist=/dev/null", "--force")
    assert code == 0 and out.startswith("replaced rig 'desk'")
    assert load_rig("desk").cameras == [CameraConfig("wrist", "/dev/null", 640, 480, 30)]


def test_a_port_is_found_through_a_link_and_an_unlisted_port_keeps_no_serial(home, ports, capsys, tmp_path):
    device = tmp_path.resolve() / "ttyACM7"
    device.write_text("")
    ports(SerialPortInfo(str(device), serial_number="S7"))
    by_id = tmp_path / "usb-ROBOTIS_U2D2_S7-if00-port0"  # as /dev/serial/by-id/... links to /dev/ttyUSB0
    by_id.symlink_to(device)
    uart = tmp_path / "ttyS9"  # a port the OS does not list as USB: no serial number to find it by
    uart.write_text("")
    assert run(capsys, "new", "desk", "--leader", str(uart), "--follower", str(by_id))[0] == 0
    config = load_rig("desk")
    assert config.arm("follower").port == str(device) and config.arm("follower").serial_number == "S7"
    assert config.arm("leader").port == str(uart) and config.arm("leader").serial_number is None
    out = run(capsys, "show", "desk")[1].splitlines()
    assert "  serial       (none: found by port only)" in out
    assert (f"  now          {uart} is there (without a serial number it cannot be told from another adapter on "
            f"that port)") in out


def _new(name="desk", leader=LEADER.device, follower=FOLLOWER.device, *rest):
    return ["new", name, "--leader", leader, "--follower", follower, *rest]


@pytest.mark.parametrize("argv,message", [
    (_new("desk", LEADER.device, "NOPE-9"), "--follower NOPE-9: no such port or USB serial number; plugged in: "),
    (_new("desk", ""), "--leader: empty: give the arm's port"),
    (_new("desk", "FOLLOW-2"), "--leader: leader and follower are on the same port"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "front=/dev/video0@640x"),
     "--camera front=/dev/video0@640x: size must be WxH, e.g. 640x480"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "front=/dev/video0@0x480"),
     "--camera front=/dev/video0@0x480: size must be WxH"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "front=/dev/null@640x480@fast"),
     "--camera front=/dev/null@640x480@fast: fps must be a positive whole number"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "front"),
     "--camera front: expected ROLE=SOURCE[@WxH[@FPS]]"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "=/dev/null"), "--camera =/dev/null: no role"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "front=@640x480"), "--camera front=@640x480: no source"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "front=/nonexistent/cam0"),
     "--camera front=/nonexistent/cam0: no such camera device or file"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "front=/dev/null", "--camera", "front=/dev/zero"),
     "--camera: two cameras are called 'front'"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--camera", "fr ont=/dev/null"),
     "--camera: 'fr ont': use letters, digits"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--leader-profile", "koch-v1.1-follower"),
     "--leader-profile: koch-v1.1-follower is a follower profile, not a leader one"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--follower-profile", "nosuch"),
     "--follower-profile: unknown arm profile 'nosuch'"),
    (_new("desk", LEADER.device, FOLLOWER.device, "--leader-profile", " "),
     "--leader-profile: empty: give a built-in profile"),
    (_new("virtual"), "NAME: 'virtual' cannot be used"),
    (_new("my rig"), "NAME: 'my rig' cannot be used"),
])
def test_each_bad_value_is_one_line_naming_the_option(home, ports, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"robotapp rig: {message}") and err.count("\n") == 1, err
    assert not (home / "rigs").exists()


def test_a_missing_port_option_is_refused_while_parsing(home, ports, capsys):
    code, out, err = run(capsys, "new", "desk", "--leader", LEADER.device)
    assert (code, out) == (2, "")
    assert "the following arguments are required: --follower" in err and err.count("\n") == 1


def test_an_unknown_name_lists_the_saved_rigs_and_how_to_make_one(home, capsys):
    make = "make one with: robotapp rig new koch --leader PORT --follower PORT (or on the Rig page)"
    assert run(capsys, "show", "koch")[2] == f"robotapp rig: no saved rig 'koch' (none saved yet); {make}\n"
    for name in ("lab", "desk"):
        save_rig(RigConfig(name, [ArmConfig("follower", "koch-v1.1-follower", f"{name}-follower", "/dev/ttyX")]))
    for argv in (["rig", "show", "koch"], ["rig", "remove", "koch"], ["rig", "udev", "koch"],
                 ["calibrate", "--rig", "koch", "--arm", "follower"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"robotapp {argv[0]}: no saved rig 'koch' (saved: desk, lab); {make}\n"


def test_remove_takes_names_only_and_removes_a_damaged_file(home, capsys):
    outside = home / "precious.json"
    outside.parent.mkdir(parents=True)
    outside.write_text("{")
    code, _, err = run(capsys, "remove", "../precious")
    assert code == 2 and "'../precious' is not a rig name" in err
    assert outside.exists()
    rig_path("broken").parent.mkdir()
    rig_path("broken").write_text("{")
    assert run(capsys, "list")[1].startswith("broken: cannot be read: ")
    code, out, _ = run(capsys, "remove", "broken")
    assert code == 0 and out == f"removed rig 'broken': {rig_path('broken')}\n"
    assert not rig_path("broken").exists()


def test_udev_rules_give_each_arm_with_a_serial_number_a_link(home, ports, capsys, tmp_path):
    uart = tmp_path / "ttyS9"
    uart.write_text("")
    assert run(capsys, "new", "desk", "--leader", "LEAD-1", "--follower", str(uart))[0] == 0
    code, out, err = run(capsys, "udev", "desk")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    rules = [line for line in lines if not line.startswith("#")]
    assert rules == [
        'SUBSYSTEM=="tty", ATTRS{serial}=="LEAD-1", SYMLINK+="robotapp-desk-leader", MODE="0660", GROUP="dialout"',
        'ACTION=="add", SUBSYSTEM=="usb-serial", DRIVER=="ftdi_sio", ATTRS{serial}=="LEAD-1", '
        'ATTR{latency_timer}="1"',
    ]
    assert "# install: robotapp rig udev desk | sudo tee /etc/udev/rules.d/99-robotapp-desk.rules" in lines
    assert "#          sudo udevadm control --reload-rules && sudo udevadm trigger" in lines
    no_rule = [line for line in lines if line.startswith("# follower arm:")]
    assert len(no_rule) == 1 and f"no USB serial number known ({uart})" in no_rule[0]
