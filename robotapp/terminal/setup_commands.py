"""The setup commands as the CLI runs them: open what is needed, run the flow, print, return an exit code."""

from __future__ import annotations

from pathlib import Path

from hardware.arms import load_profile
from hardware.discovery import list_cameras, list_serial_ports
from robotapp.core.rig_opener import VIRTUAL_RIGS, is_virtual_rig, open_arm, virtual_profile
from robotapp.setup import flows
from robotapp.setup.prompter import Prompter


def find_port(rig: str | None) -> int:
    if is_virtual_rig(rig):
        from hardware.virtual.arms import VirtualArm
        from robotapp.setup.virtual_ops import find_port_operator

        arms = [VirtualArm(load_profile(virtual_profile(rig, r)), transport="pty", usb_serial=f"VIRTUAL-{r.upper()}")
                for r in ("leader", "follower")]
        try:
            ports = [p for p in list_serial_ports() if p.serial_number and p.serial_number.startswith("VIRTUAL-")]
            flows.find_port(find_port_operator(ports, which=1), list_serial_ports)
        finally:
            for a in arms:
                a.close()
        return 0
    flows.find_port(Prompter())
    return 0


def find_cameras(rig: str | None, snapshots: str | None) -> int:
    if is_virtual_rig(rig):
        from hardware.virtual.world import World

        # what the virtual rig's cameras (open_rig's default two, at its default size) see in a fresh scene
        cameras = ("front", "wrist")
        world = World(cameras=cameras, width=320, height=240, seed=0, arm=VIRTUAL_RIGS[rig])
        try:
            infos = [(f"virtual:{name}", name, world.render(name)) for name in cameras]
        finally:
            world.close()
    else:
        infos = [(str(c.source), c.name or "camera", c.snapshot) for c in list_cameras()]
    if not infos:
        print("no cameras found")
        return 0
    for source, name, image in infos:
        shape = f"{image.shape[1]}x{image.shape[0]}" if image is not None else "no frame"
        line = f"{source}: {name}, {shape}"
        if snapshots and image is not None:
            import cv2

            path = Path(snapshots) / f"{source.replace('/', '_').replace(':', '_')}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), image[:, :, ::-1])
            line += f", snapshot {path}"
        print(line)
    return 0


def setup_motors(rig: str, role: str, port: str | None, profile: str | None) -> int:
    """On a virtual rig (no --port): its arm's profile on a bench of factory-new motors of that profile's servo
    family. Otherwise the port given, or the saved rig's, with --profile or the rig's profile for the arm."""
    if is_virtual_rig(rig) and port is None:
        from robotapp.setup.virtual_ops import MotorBench

        prof = load_profile(profile or virtual_profile(rig, role))
        bench = MotorBench(prof)
        try:
            rates = sorted({prof.servo_family.factory_baudrate, prof.baudrate})  # the two the bench's motors see
            flows.setup_motors(bench.operator(), bench.port, prof, baudrates=rates, latency_ms=1.0)
        finally:
            bench.close()
        return 0
    if port is None:  # a saved rig: its arm's port, and its profile unless --profile
        from hardware.rig_config import load_rig, resolve_port

        arm = load_rig(rig).arm(role)
        port = resolve_port(arm)
        profile = profile or arm.profile
    default = virtual_profile(rig, role) if is_virtual_rig(rig) else f"koch-v1.1-{role}"
    flows.setup_motors(Prompter(), port, load_profile(profile or default))
    return 0


def calibrate(rig: str, role: str, port: str | None, profile: str | None, arm_id: str | None, auto: bool,
              reversed_joints: list[str]) -> int:
    opened = open_arm(rig if port is None else "manual", role, port=port, profile=profile, arm_id=arm_id,
                      configure=False, load_saved=False)
    try:
        unknown = [j for j in reversed_joints if j not in opened.profile.names]
        if unknown:
            raise ValueError(f"--drive-mode {unknown[0]}: no such joint; joints: {', '.join(opened.profile.names)}")
        drive_modes = {j: 1 for j in reversed_joints}
        if auto:
            if opened.virtual is None:
                raise ValueError("--auto sweeps emulated joints: it needs --rig virtual")
            from hardware.virtual.arms import run_scripted_calibration

            prompter = Prompter()
            drive = lambda proc: run_scripted_calibration(opened.virtual, proc, {"wrist_roll": 0.12})  # noqa: E731
        else:
            from robotapp.terminal.tty import block_view

            prompter = Prompter()
            drive = flows.interactive_sweep(prompter, show=block_view())
        flows.calibrate(opened, drive, prompter, drive_modes)
    finally:
        opened.close()
    return 0


def doctor(rig: str, port: str | None, profile: str | None, inject: str | None) -> int:
    from robotapp.setup.virtual_ops import parse_injections

    faults = parse_injections(inject) if inject else None
    if faults and not is_virtual_rig(rig):
        raise ValueError("--inject breaks emulated servos: it needs --rig virtual")
    if port is not None:  # a single arm on a port: health and ranges only
        follower = open_arm("manual", "follower", port=port, profile=profile, configure=False, handshake=False)
        try:
            # opened as the follower whatever its profile: that role names its calibration file, so the hint keeps it
            hint = lambda _role: flows.calibrate_command("follower", port=port, profile=profile)  # noqa: E731
            return 1 if flows.doctor(Prompter(), follower, calibrate_hint=hint) else 0
        finally:
            follower.close()
    leader = open_arm(rig, "leader", configure=False, handshake=False)
    try:
        follower = open_arm(rig, "follower", virtual_faults=faults, configure=False, handshake=False)
    except Exception:
        leader.close()
        raise
    try:
        poses = flows.virtual_mirror_poses(leader) if leader.virtual is not None else None
        hint = lambda role: flows.calibrate_command(role, rig)  # noqa: E731
        return 1 if flows.doctor(Prompter(), follower, leader, poses, calibrate_hint=hint) else 0
    finally:
        leader.close()
        follower.close()
