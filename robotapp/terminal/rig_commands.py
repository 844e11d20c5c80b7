"""`robotapp rig ...` as the CLI runs them: saved rig configs made, listed, shown and removed from the terminal, and
udev rules for their arms. The files and the rules for a config's fields are the window's
(services/rig_config_form.py); this module only turns the options into those fields and prints."""

from __future__ import annotations

import os
import re
import sys

from calibration.files import CalibrationFileError, calibration_path
from hardware.discovery import SerialPortInfo, list_serial_ports, stable_camera_path
from hardware.rig_config import (
    ArmConfig,
    RigConfig,
    RigConfigError,
    load_rig,
    rig_path,
    saved_rig_names,
    saved_rig_path,
)
from hardware.rig_config import remove_rig as remove_rig_file
from robotapp.core.field_error import FieldError, raise_first
from robotapp.services.hardware_scan import CameraRow
from robotapp.services.rig_config_form import (
    ArmChoice,
    RigFormWords,
    build_rig_config,
    rig_config_problems,
    save_rig_config,
)

# `robotapp rig new`'s options, for the rig config's rules
TERMINAL_WORDS = RigFormWords("NAME", "--leader-profile", "--follower-profile", "--leader", "--follower", "--camera",
                              "give a built-in profile (koch-v1.1-leader, koch-v1.1-follower) or a profile file",
                              "add --follower PORT")
CAMERA_FORM = "ROLE=SOURCE[@WxH[@FPS]], e.g. front=/dev/video0@640x480@30"
_SIZE = re.compile(r"([0-9]+)x([0-9]+)")
_COUNT = re.compile(r"[0-9]+")
NO_RIGS = "no saved rigs yet: make one with robotapp rig new NAME --leader PORT --follower PORT"


# -- rig new --------------------------------------------------------------------------------------------------

def find_port(option: str, text: str, ports: list[SerialPortInfo]) -> tuple[SerialPortInfo | None, FieldError | None]:
    """The port a --leader/--follower value names: a listed device (or a link to one, e.g. /dev/serial/by-id/...),
    else a USB serial number, else a device the OS does not list as USB (no serial number to find it by)."""
    text = text.strip()
    if not text:
        return None, FieldError(option, "empty: give the arm's port (/dev/ttyACM0) or its USB serial number")
    real = os.path.realpath(text) if os.path.isabs(text) else text
    for p in ports:
        if p.device in (text, real):
            return p, None
    by_serial = [p for p in ports if p.serial_number == text]
    if len(by_serial) == 1:
        return by_serial[0], None
    if by_serial:
        return None, FieldError(f"{option} {text}", f"this serial number is on several ports "
                                                    f"({', '.join(p.device for p in by_serial)}); give the port")
    if os.path.isabs(text) and os.path.exists(text):
        return SerialPortInfo(text), None
    plugged = ", ".join(p.label() for p in ports) or "nothing"
    return None, FieldError(f"{option} {text}", f"no such port or USB serial number; plugged in: {plugged} "
                                                f"(robotapp find-port tells which is which)")


def parse_camera(text: str) -> tuple[CameraRow | None, FieldError | None]:
    """ROLE=SOURCE[@WxH[@FPS]] as a camera row. A bare number N means /dev/videoN on Linux; a /dev/videoN with a
    /dev/v4l/by-id link is stored as the link, as the window does, so renumbering after a replug does no harm."""
    field = f"--camera {text}"
    role, eq, rest = text.partition("=")
    parts = rest.split("@")
    if not eq or len(parts) > 3:
        return None, FieldError(field, f"expected {CAMERA_FORM}")
    source = parts[0].strip()
    if not role.strip():
        return None, FieldError(field, f"no role: name the camera, {CAMERA_FORM}")
    if not source:
        return None, FieldError(field, "no source: give /dev/videoN, a /dev/v4l/by-id/... path or a camera number")
    width, height, fps = 640, 480, 30
    if len(parts) > 1:
        m = _SIZE.fullmatch(parts[1].strip().lower())
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            return None, FieldError(field, "size must be WxH, e.g. 640x480")
        width, height = int(m.group(1)), int(m.group(2))
    if len(parts) > 2:
        if not _COUNT.fullmatch(parts[2].strip()) or int(parts[2]) < 1:
            return None, FieldError(field, "fps must be a positive whole number, e.g. 30")
        fps = int(parts[2])
    if _COUNT.fullmatch(source) and sys.platform.startswith("linux"):
        source = f"/dev/video{int(source)}"
    if "://" not in source:
        if not os.path.exists(source):
            return None, FieldError(field, "no such camera device or file (robotapp find-cameras lists them)")
        source = stable_camera_path(source) or source
    return CameraRow(source, role.strip(), width, height, fps=fps), None


def new_rig(name: str, leader: str, follower: str, leader_profile: str, follower_profile: str,
            cameras: list[str], force: bool) -> int:
    name = name.strip()
    ports = list_serial_ports()
    found = {role: find_port(option, text, ports)
             for role, option, text in (("leader", "--leader", leader), ("follower", "--follower", follower))}
    cams = [parse_camera(text) for text in cameras]
    arms = [ArmChoice("leader", leader_profile, found["leader"][0]),
            ArmChoice("follower", follower_profile, found["follower"][0])]
    rows = [row for row, _ in cams if row is not None]
    form = rig_config_problems(name, arms, rows, TERMINAL_WORDS)
    # every problem in the options' order: NAME, the ports, the profiles and the rest of the rules, the cameras
    problems = [p for p in form if p.field == TERMINAL_WORDS.name]
    if not problems and rig_path(name).exists() and not force:
        problems.append(FieldError("NAME", f"a rig called {name!r} is saved already ({rig_path(name)}); add --force "
                                           f"to replace it, or robotapp rig show {name} to see it"))
    problems += [err for _, err in found.values() if err is not None]
    problems += [p for p in form if p.field != TERMINAL_WORDS.name]
    problems += [err for _, err in cams if err is not None]
    raise_first(problems)
    replaced = rig_path(name).exists()
    config = build_rig_config(name, arms, rows, TERMINAL_WORDS)
    path = save_rig_config(config)
    print(f"{'replaced' if replaced else 'saved'} rig {name!r}: {path}")
    _print_summary(config)
    todo = [a for a in config.arms if not _calibration_file(a)[1]]
    if todo:
        print("next: " + "; ".join(f"robotapp calibrate --rig {name} --arm {a.role}" for a in todo))
    return 0


# -- rig list / show / remove ---------------------------------------------------------------------------------

def _where(arm: ArmConfig) -> str:
    return f"{arm.port or 'no port'}, " + (f"serial {arm.serial_number}" if arm.serial_number else "no serial number")


def _camera_text(cam) -> str:
    return f"{cam.name} ({cam.source}, {cam.width}x{cam.height} at {cam.fps} fps)"


def _print_summary(config: RigConfig) -> None:
    for a in config.arms:
        print(f"  {a.role:<9} {a.profile:<20} {_where(a)}; arm id {a.arm_id}")
    print(f"  cameras   {', '.join(_camera_text(c) for c in config.cameras) or 'none'}")


def list_rigs() -> int:
    names = saved_rig_names()
    if not names:
        print(NO_RIGS)
        return 0
    for name in names:
        try:
            config = load_rig(name)
        except RigConfigError as e:
            print(f"{name}: cannot be read: {e}")
            continue
        print(name)
        _print_summary(config)
    return 0


def _port_now(arm: ArmConfig, ports: list[SerialPortInfo]) -> str:
    """Whether the arm is plugged in now, found the way opening the rig finds it."""
    if arm.serial_number:
        matches = [p.device for p in ports if p.serial_number == arm.serial_number]
        if len(matches) == 1:
            moved = f" (it was {arm.port}; found again by serial number)" if arm.port and arm.port != matches[0] \
                else ""
            return f"plugged in at {matches[0]}{moved}"
        if matches:
            return f"serial number on several ports ({', '.join(matches)})"
        return "not plugged in (no adapter with its serial number)"
    if arm.port and (arm.port in {p.device for p in ports} or os.path.exists(arm.port)):
        return f"{arm.port} is there (without a serial number it cannot be told from another adapter on that port)"
    return f"not plugged in ({arm.port or 'no port'} is not there)"


def _calibration_file(arm: ArmConfig) -> tuple[str, bool]:
    try:
        path = calibration_path(arm.arm_id)
    except CalibrationFileError as e:
        return str(e), False
    return str(path), path.exists()


def show_rig(name: str) -> int:
    config = load_rig(name)
    ports = list_serial_ports()
    print(f"rig {config.name} ({rig_path(name)})")
    for a in config.arms:
        calibration, calibrated = _calibration_file(a)
        print(f"{a.role} arm")
        print(f"  profile      {a.profile}")
        print(f"  arm id       {a.arm_id}")
        print(f"  port         {a.port or '(none)'}")
        print(f"  serial       {a.serial_number or '(none: found by port only)'}")
        print(f"  now          {_port_now(a, ports)}")
        todo = f"none yet: robotapp calibrate --rig {name} --arm {a.role}"
        print(f"  calibration  {calibration if calibrated else todo}")
    print("cameras" if config.cameras else "cameras      none")
    for c in config.cameras:
        print(f"  {c.name:<12} {c.source}, {c.width}x{c.height} at {c.fps} fps")
    return 0


def remove_rig(name: str) -> int:
    saved_rig_path(name)  # a name, not a path
    try:
        arms = load_rig(name).arms  # an unknown name gets the saved rigs and how to make one
    except RigConfigError:
        if not rig_path(name).is_file():
            raise
        arms = []  # a damaged file can still be removed
    path = remove_rig_file(name)
    kept = [p for p, exists in map(_calibration_file, arms) if exists]
    print(f"removed rig {name!r}: {path}")
    if kept:
        print(f"calibrations kept: {', '.join(kept)}")
    return 0


# -- rig udev -------------------------------------------------------------------------------------------------

def udev_rules(name: str) -> int:
    """A rules file (comments and rules only, so the output can go straight to `sudo tee`)."""
    saved_rig_path(name)  # a name, not a path: it names the links and the rules file
    config = load_rig(name)
    file = f"/etc/udev/rules.d/99-robotapp-{name}.rules"
    print(f"# robotapp rig {name!r}: a stable /dev/robotapp-{name}-<role> link for each arm, found by its USB "
          f"adapter's serial number,")
    print("# readable by the dialout group; on FTDI adapters (the U2D2) a 1 ms latency timer instead of 16 ms")
    print(f"# install: robotapp rig udev {name} | sudo tee {file}")
    print("#          sudo udevadm control --reload-rules && sudo udevadm trigger")
    for a in config.arms:
        serial = a.serial_number
        if not serial:
            print(f"# {a.role} arm: no USB serial number known ({a.port or 'no port'}), so no rule: udev tells adapters "
                  f"apart by serial number; plug it in and run robotapp rig new {name} --force with its port")
            continue
        if any(c in serial for c in '"\\\n'):
            print(f"# {a.role} arm: its serial number {serial!r} has characters a udev rule cannot match, so no rule")
            continue
        link = f"robotapp-{name}-{a.role}"
        print(f'SUBSYSTEM=="tty", ATTRS{{serial}}=="{serial}", SYMLINK+="{link}", MODE="0660", GROUP="dialout"')
        # FTDI adapters (the ROBOTIS U2D2) hold replies up to 16 ms by default; 1 ms keeps servo reads fast. The
        # rule matches FTDI's driver only, so other adapters (CH340, CDC-ACM) are left alone.
        print(f'ACTION=="add", SUBSYSTEM=="usb-serial", DRIVER=="ftdi_sio", ATTRS{{serial}}=="{serial}", '
              f'ATTR{{latency_timer}}="1"')
    return 0
