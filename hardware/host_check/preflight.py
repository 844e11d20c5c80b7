"""The host check as a whole: each arm's port, latency timer and motors, and the cameras' USB buses.

`check_host` is what `robotapp doctor --host` prints; `preflight` runs the same checks quietly before a real arm is
connected: it prints the problems that do not stop the arm (a slow latency timer, cameras on one bus) and refuses,
with one line, the ones that would hurt it or fail anyway (a 12 V supply on 5 V motors, a shared id, no port)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hardware.arms.profile import ArmProfile
from hardware.discovery import SerialPortInfo, list_serial_ports

from .camera_bandwidth import CameraTarget, check_cameras, describe_cameras
from .motor_wiring import check_motors
from .port_access import check_port
from .problem import HostCheckError, Problem
from .usb_latency import check_latency

# Fatal for an arm that must answer in full; an arm opened without the handshake (the doctor's table names what is
# missing) is not refused for them.
HANDSHAKE_KINDS = ("missing_id", "no_motors")


@dataclass(frozen=True)
class ArmTarget:
    role: str | None  # "leader" / "follower"; None: named by its port only
    port: str
    profile: ArmProfile
    setup_command: str | None = None  # how to set its motors up; default `robotapp setup-motors --arm ROLE`


@dataclass
class HostReport:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was found fine, for the doctor's own output

    @property
    def unresolved(self) -> list[Problem]:
        return [p for p in self.problems if not p.fixed]

    def extend(self, other: HostReport) -> None:
        self.problems += other.problems
        self.notes += other.notes


@dataclass(frozen=True)
class HostEnv:
    """Where the checks look, injectable for tests: sysfs, the identity that opens ports, what is plugged in."""
    sys_root: Path = Path("/sys")
    uid: int | None = None  # None: this process (os.access has the last word, ACLs included)
    gids: Sequence[int] | None = None
    ports: Callable[[], list[SerialPortInfo]] = list_serial_ports
    fix_latency: bool = True
    latency_writable: Callable[[Path], bool] | None = None
    latency_ms: float = 16.0  # how long the bus waits for a reply (the FTDI default timer, the worst case)


def check_arm(target: ArmTarget, env: HostEnv | None = None) -> HostReport:
    """Port first: without it nothing else can be looked at."""
    env = env or HostEnv()
    problem = check_port(target.port, role=target.role, uid=env.uid, gids=env.gids, ports=env.ports)
    if problem is not None:
        return HostReport([problem])
    report = HostReport()
    latency = check_latency(target.port, role=target.role, sys_root=env.sys_root, fix=env.fix_latency,
                            writable=env.latency_writable)
    if latency is not None:
        report.problems.append(latency)
    problems, notes = check_motors(target.port, target.profile, role=target.role, latency_ms=env.latency_ms,
                                   setup_command=target.setup_command)
    report.problems += problems
    report.notes += notes
    return report


def check_host(arms: Sequence[ArmTarget], cameras: Sequence[CameraTarget] = (), env: HostEnv | None = None
               ) -> HostReport:
    env = env or HostEnv()
    report = HostReport()
    for target in arms:
        report.extend(check_arm(target, env))
    report.problems += check_cameras(list(cameras), env.sys_root)
    report.notes += describe_cameras(list(cameras), env.sys_root)
    return report


def preflight(arms: Sequence[ArmTarget], cameras: Sequence[CameraTarget] = (), *, handshake: bool = True,
              env: HostEnv | None = None, report: Callable[[str], None] | None = None) -> HostReport:
    """Before real arms are connected: print the problems that do not stop them (stderr by default), and raise
    HostCheckError with the first that does. ROBOTAPP_HOST_CHECK=0 skips it (a setup the checks misjudge)."""
    if os.environ.get("ROBOTAPP_HOST_CHECK", "1") == "0":
        return HostReport()
    env = env or HostEnv()
    say = report or (lambda line: print(line, file=sys.stderr, flush=True))
    found, port_of = HostReport(), {}
    for target in arms:
        arm = check_arm(target, env)
        port_of.update({id(p): target.port for p in arm.problems})
        found.extend(arm)
    found.problems += check_cameras(list(cameras), env.sys_root)
    fatal = [p for p in found.problems if p.fatal and (handshake or p.kind not in HANDSHAKE_KINDS)]
    for p in found.problems:
        if not fatal or p is not fatal[0]:
            say(p.line)
    if fatal:
        raise HostCheckError(fatal[0], port=port_of.get(id(fatal[0])), problems=tuple(found.problems))
    return found
