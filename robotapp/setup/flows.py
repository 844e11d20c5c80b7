"""The setup flows, each a plain function over a Prompter: find-port, setup-motors, calibrate, doctor."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from calibration.calibrate_arm import calibrate_and_save
from calibration.doctor import format_rows, health_table, mirror_test, range_report
from calibration.procedure import CalibrationProcedure, CalibrationResult, JointRange
from hardware.arms import ArmProfile
from hardware.arms.family import ServoFamily
from hardware.discovery import SerialPortInfo, detect_replug, list_serial_ports
from hardware.host_check.motor_wiring import ping_replies
from hardware.motors.sdk_bus import SdkBus
from robotapp.core.rig_opener import OpenArm, is_virtual_rig

from .prompter import Prompter


class SetupError(RuntimeError):
    pass


def find_port(prompter: Prompter, list_ports: Callable[[], list[SerialPortInfo]] = list_serial_ports
              ) -> SerialPortInfo:
    """'Which port is this arm?': list, ask to unplug, see which port vanished, ask to plug back in."""
    before = list_ports()
    prompter.say("Serial ports now: " + (", ".join(p.label() for p in before) or "none"))
    if not before:
        raise SetupError("no serial ports found: plug the arm's controller board in over USB")
    prompter.wait("Unplug the arm's USB cable.", action="unplug")
    after = list_ports()
    port = detect_replug(before, after)
    prompter.wait("Plug it back in.", action="replug")
    serial = f"; its USB serial number is {port.serial_number} (the rig config keeps it, so a renamed port is " \
             f"found again)" if port.serial_number else "; it reports no USB serial number"
    prompter.say(f"The arm is on {port.device}{serial}.")
    return port


def setup_motors(prompter: Prompter, port: str, profile: ArmProfile, baudrates: list[int] | None = None,
                 latency_ms: float = 16.0) -> list[tuple[str, int, int]]:
    """One motor at a time (gripper first, as the chain is built back to front): find it at whatever id and
    baud rate it has (`baudrates`, default every rate of the profile's servo family, the factory's first), then
    give it the profile's id and baud rate. Returns [(name, id, baud)]."""
    family = profile.servo_family
    rates = list(baudrates or family.scan_baudrates)
    done = []
    bus = family.bus_class(port, baudrate=profile.baudrate, latency_ms=latency_ms)
    bus.connect(handshake=False)
    try:
        for joint in reversed(profile.joints):
            prompter.wait(f"Connect ONLY the '{joint.name}' motor ({joint.model}) to the controller board.",
                          action=f"connect:{joint.name}")
            found = bus.scan(rates)
            motors = [(bps, i, n) for bps, ids in found.items() for i, n in ids.items()]
            if not motors:
                raise SetupError(f"'{joint.name}': no motor answers on {port} at any {family.name.capitalize()} baud "
                                 f"rate ({', '.join(map(str, rates))}); check the cable and the power supply")
            if len(motors) > 1:
                seen = ", ".join(f"id {i} ({family.model_name(n)}) at {b} bps" for b, i, n in motors)
                raise SetupError(f"'{joint.name}': found {len(motors)} motors ({seen}); connect only one")
            bps, motor_id, number = motors[0]
            _one_at(bus, family, port, joint.name, bps, motor_id, latency_ms)
            if family.model_name(number) != joint.model:
                raise SetupError(f"'{joint.name}': expected a {joint.model}, found {_a(family.model_name(number))} (id "
                                 f"{motor_id} at {bps} bps): connect the {joint.model} that goes there")
            bus.set_baudrate(bps)
            if motor_id != joint.id:
                bus.change_id(motor_id, joint.id)
            if bps != profile.baudrate:
                bus.change_baudrate(joint.id, profile.baudrate)
            bus.set_baudrate(profile.baudrate)
            prompter.say(f"'{joint.name}' is ready: id {joint.id} at {profile.baudrate} bps "
                         f"(was id {motor_id} at {bps} bps)")
            done.append((joint.name, joint.id, profile.baudrate))
    finally:
        bus.disconnect()
    return done


def _a(name: str) -> str:
    return f"an {name}" if name.startswith("unknown") else f"a {name}"


def _one_at(bus: SdkBus, family: ServoFamily, port: str, name: str, bps: int, motor_id: int, latency_ms: float) -> None:
    """Two motors that share an id (two factory-new ones: both id 1) look like one to a scan, which keeps one entry
    per id, and would both take the new id: a broadcast ping that keeps every reply tells them apart. The bus lets
    go of the port meanwhile (it is opened exclusively)."""
    bus.disconnect()
    try:
        heard = ping_replies(port, family, bps, max_id=motor_id, latency_ms=latency_ms)
    finally:
        bus.connect(handshake=False)
    count = heard.counts()[motor_id]
    if count > 1 or heard.garbled:
        what = f"{count} motors answer" if count > 1 else "replies collide (two motors answering at once)"
        raise SetupError(f"'{name}': {what} at id {motor_id} ({bps} bps): connect only the '{name}' motor")


def range_bars(ranges: list[JointRange], width: int = 30) -> str:
    """Live range bars for the sweep: where each joint is, and how much of a turn it has covered."""
    lines = []
    for r in ranges:
        lo, hi = r.low, r.high
        span = max(1, hi - lo)
        pos = int((r.current - lo) / span * (width - 1))
        bar = "".join("|" if k == pos else "=" for k in range(width))
        wrap = "  (crossed encoder 0/4095)" if r.wraps else ""
        lines.append(f"{r.name:>14} {lo:>6} [{bar}] {hi:<6} {r.span_degrees:5.0f}°{wrap}")
    return "\n".join(lines)


def interactive_sweep(prompter: Prompter, rate_hz: float = 20.0, show: Callable[[str], None] | None = None
                      ) -> Callable[[CalibrationProcedure], CalibrationResult]:
    """The person-at-the-terminal drive for calibrate_and_save."""
    def drive(proc: CalibrationProcedure) -> CalibrationResult:
        proc.prepare()
        prompter.wait("Move the arm so every joint is in the middle of its range.", action="middle")
        proc.record_middle()
        prompter.say("Now move every joint through its whole range, one joint at a time. Press Enter when done.")
        done = prompter.until_enter()
        next_t = time.monotonic()
        while not done.is_set():
            bars = range_bars(proc.sample())
            (show or prompter.say)(bars)
            next_t += 1.0 / rate_hz
            done.wait(max(0.0, next_t - time.monotonic()))
        return proc.finish()
    return drive


def calibrate(opened: OpenArm, drive: Callable[[CalibrationProcedure], CalibrationResult], prompter: Prompter,
              drive_modes: dict[str, int] | None = None) -> Path:
    path, result = calibrate_and_save(opened.arm, opened.calibration_file, drive, drive_modes)
    for note in result.notes:
        prompter.say(f"note: {note}")
    prompter.say(format_rows(range_report(opened.arm), f"Calibrated ranges of {opened.arm.arm_id}"))
    prompter.say(f"calibration written to {path}")
    return path


def calibrate_command(role: str, rig: str = "virtual", port: str | None = None, profile: str | None = None) -> str:
    """The `robotapp calibrate` line for one arm, to be typed as printed: the same rig (or port and profile) the
    doctor opened, and --auto on the virtual rig, whose joints no hand can move."""
    if port is not None:
        where = f"--port {shlex.quote(port)} --profile {shlex.quote(profile or f'koch-v1.1-{role}')}"
    else:
        where = f"--rig {shlex.quote(rig)}"
    auto = " --auto" if port is None and is_virtual_rig(rig) else ""
    return f"robotapp calibrate {where} --arm {role}{auto}"


def doctor(prompter: Prompter, follower: OpenArm, leader: OpenArm | None = None,
           poses: list[Callable[[], None]] | None = None, settle: Callable[[], None] | None = None,
           calibrate_hint: Callable[[str], str] = calibrate_command) -> int:
    """Health tables, range reports and (with a leader) the mirror test. Returns the number of problems.
    calibrate_hint(role) is the command suggested for an uncalibrated arm."""
    problems = 0
    for opened in (leader, follower):
        if opened is None:
            continue
        rows = health_table(opened.arm.bus)
        problems += sum(1 for r in rows if r.problem)
        prompter.say(format_rows(rows, f"Motor health: {opened.arm.arm_id} on {opened.arm.bus.port}"))
        if opened.arm.calibration is None:
            prompter.say(f"{opened.arm.arm_id} is not calibrated: run `{calibrate_hint(opened.profile.role)}` "
                         f"first")
            problems += 1
            continue
        if all(not r.problem.startswith("not answering") for r in rows):
            opened.arm.configure()  # puts the file's offsets into the motors before reading ranges
            ranges = range_report(opened.arm)
            problems += sum(1 for r in ranges if r.problem)
            prompter.say(format_rows(ranges, f"Joint ranges: {opened.arm.arm_id}"))
    ready = leader is not None and leader.arm.calibration and follower.arm.calibration
    if ready and poses is not None and not problems:
        rows = mirror_test(leader.arm, follower.arm, poses, settle or (lambda: time.sleep(0.5)))
        problems += sum(1 for r in rows if r.problem)
        prompter.say(format_rows(rows, "Mirror test: follower copying the leader (error in degrees / %)"))
    prompter.say("doctor: no problems found" if not problems else f"doctor: {problems} problem(s) found")
    return problems


def virtual_mirror_poses(leader: OpenArm, count: int = 6, seed: int = 0) -> list[Callable[[], None]]:
    names = leader.profile.names
    fractions = np.random.default_rng(seed).uniform(0.25, 0.75, (count, len(names)))
    return [lambda f=f: leader.virtual.pose(dict(zip(names, f, strict=True))) for f in fractions]
