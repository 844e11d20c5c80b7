"""Open a Rig by name: "virtual" (emulated servos on ptys, the MuJoCo world, rendered cameras) or a saved rig
config (real arms found by USB serial number, OpenCV cameras). Calibrations come from the user's files; the
virtual arms calibrate themselves with the scripted hand the first time, like a new user would once."""

from __future__ import annotations

import contextlib

from calibration.files import calibration_path, load_calibration
from calibration.calibrate_arm import calibrate_and_save
from hardware.arms import Arm, load_profile
from hardware.cameras import OpenCVCamera
from hardware.motors import DynamixelBus
from hardware.rig import Rig
from hardware.rig_config import load_rig, resolve_port

VIRTUAL = "virtual"


def open_rig(name: str = VIRTUAL, *, cameras: tuple[str, ...] = ("front", "wrist"), width: int = 320,
             height: int = 240, camera_fps: float = 30.0, realtime: bool = True, seed: int = 0,
             wire_timing: bool = False, transport: str = "pty") -> Rig:
    """The camera/size/realtime options apply to the virtual rig; a real rig takes them from its config."""
    if name == VIRTUAL:
        return open_virtual_rig(cameras=cameras, width=width, height=height, camera_fps=camera_fps,
                                realtime=realtime, seed=seed, wire_timing=wire_timing, transport=transport)
    return open_real_rig(name)


# A pty's "latency" is the scheduler: the emulator's thread may wait tens of ms for a core on a busy machine, so
# the virtual rig's buses wait longer for a reply before retrying (real adapters keep the FTDI default).
VIRTUAL_LATENCY_MS = 50.0


def _arm(profile_name: str, port: str, arm_id: str, latency_ms: float = 16.0) -> Arm:
    profile = load_profile(profile_name)
    bus = DynamixelBus(port, profile.motors, baudrate=profile.baudrate, latency_ms=latency_ms)
    bus.connect()
    return Arm(profile, bus, arm_id=arm_id)


def open_virtual_rig(*, cameras=("front", "wrist"), width=320, height=240, camera_fps=30.0, realtime=True,
                     seed=0, wire_timing=False, transport="pty") -> Rig:
    from hardware.virtual.arms import run_scripted_calibration
    from hardware.virtual.sim import SimRig

    sim = SimRig(cameras=tuple(cameras), width=width, height=height, camera_fps=camera_fps, seed=seed,
                 transport=transport, wire_timing=wire_timing)
    rig = None
    try:
        arms = {}
        for role, virtual in (("leader", sim.leader), ("follower", sim.follower)):
            arm = arms[role] = _arm(virtual.profile.name, virtual.port, f"virtual-{role}", VIRTUAL_LATENCY_MS)
            path = calibration_path(arm.arm_id)
            if path.exists():
                arm.set_calibration(load_calibration(path, arm.profile))
            else:
                calibrate_and_save(arm, path, lambda proc, v=virtual: run_scripted_calibration(v, proc))
        rig = Rig(VIRTUAL, arms["follower"], arms["leader"], dict(sim.cameras), sim)
        for arm in arms.values():
            arm.configure()
        sim.couple()
        rig.follower.torque(True)  # hold: a limp simulated arm would fold onto the table
        if realtime:
            sim.start()
        return rig
    except BaseException:
        if rig is not None:
            rig.close()
        else:
            for arm in locals().get("arms", {}).values():
                with contextlib.suppress(Exception):
                    arm.disconnect()
            sim.close()
        raise


def open_real_rig(name: str) -> Rig:
    config = load_rig(name)
    arms: dict[str, Arm] = {}
    cams = {}
    try:
        for cfg in config.arms:
            arm = arms[cfg.role] = _arm(cfg.profile, resolve_port(cfg), cfg.arm_id)
            arm.set_calibration(load_calibration(calibration_path(cfg.arm_id), arm.profile))
            arm.configure()
        if "follower" not in arms:
            raise ValueError(f"rig {name!r} has no follower arm")
        for c in config.cameras:
            cams[c.name] = OpenCVCamera(c.name, c.source, c.width, c.height, c.fps)
            cams[c.name].connect()
        return Rig(name, arms["follower"], arms.get("leader"), cams)
    except BaseException:
        for cam in cams.values():
            cam.disconnect()
        for arm in arms.values():
            with contextlib.suppress(Exception):
                arm.disconnect()
        raise
