"""`robotapp doctor --host`: the host check of a rig, a port, or the virtual rig's emulated arms, as one report:
what was found fine, then one line per problem; exit code 1 when a problem is left (a latency timer the check set
to 1 ms for this session counts as fixed)."""

from __future__ import annotations

from collections.abc import Callable

from hardware.arms import load_profile
from hardware.host_check import ArmTarget, HostReport, Problem, check_host
from hardware.rig_config import RigConfigError, load_rig, resolve_port
from robotapp.core.rig_opener import ROLES, host_targets, is_virtual_rig, virtual_profile


def doctor_host(rig: str, port: str | None, profile: str | None, out: Callable[[str], None] = print) -> int:
    if port is not None:
        if not profile:
            raise ValueError("--port needs --profile (e.g. koch-v1.1-follower, so101-follower)")
        prof = load_profile(profile)
        target = ArmTarget(prof.role, port, prof, f"robotapp setup-motors --port {port} --profile {profile}")
        return _print(check_host([target]), out)
    if is_virtual_rig(rig):
        return _virtual(rig, out)
    config = load_rig(rig)
    ports, unresolved = {}, []
    for cfg in config.arms:
        try:
            ports[cfg.role] = resolve_port(cfg)
        except RigConfigError as e:  # the arm's adapter is not plugged in: a finding, not the end of the check
            unresolved.append(Problem(f"{e}: plug it in, or run `robotapp find-port`", "port"))
    report = check_host(*host_targets(config, ports))
    report.problems[:0] = unresolved
    return _print(report, out)


def _virtual(rig: str, out: Callable[[str], None]) -> int:
    """The virtual rig's arms on pseudo-terminals, checked like real ones (no latency timer, no USB cameras)."""
    from hardware.virtual.arms import VirtualArm

    arms = []
    try:
        for role in ROLES:
            arms.append(VirtualArm(load_profile(virtual_profile(rig, role)), transport="pty"))
        targets = [ArmTarget(role, a.port, a.profile, f"robotapp setup-motors --rig {rig} --arm {role}")
                   for role, a in zip(ROLES, arms, strict=True)]
        return _print(check_host(targets), out)
    finally:
        for a in arms:
            a.close()


def _print(report: HostReport, out: Callable[[str], None]) -> int:
    for line in report.notes:
        out(line)
    for p in report.problems:
        out(p.line)
    left = report.unresolved
    out("host: no problems found" if not left else f"host: {len(left)} problem{'s' if len(left) != 1 else ''} found")
    return 1 if left else 0
