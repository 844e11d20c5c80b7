"""Open a Rig by name: "virtual" (emulated servos on ptys, the MuJoCo world, rendered cameras) or a saved rig
config (real arms found by USB serial number, OpenCV cameras); or one arm of a rig on its own (open_arm: the
setup wizards and the doctor). Every arm is connected by connect_arm. Calibrations come from the user's files;
the virtual arms calibrate themselves with the scripted hand the first time, like a new user would once.
Real arms pass the host check first (hardware/host_check: port, latency timer, supply, ids; the cameras' USB
buses): what would hurt an arm is refused in one line before anything is written to it. The virtual rig skips it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

from calibration.calibrate_arm import calibrate_and_save
from calibration.files import calibration_path, load_calibration
from hardware.arms import Arm, ArmProfile, load_profile
from hardware.cameras import OpenCVCamera
from hardware.host_check import ArmTarget, CameraTarget, preflight
from hardware.rig import Rig
from hardware.rig_config import RigConfig, load_rig, resolve_port

VIRTUAL = "virtual"
# virtual rig name -> the world's arm (the Koch on Dynamixels, the SO-101 on Feetech STS3215s)
VIRTUAL_RIGS = {VIRTUAL: "koch", "virtual-so101": "so101"}
ROLES = ("leader", "follower")


def is_virtual_rig(name: str | None) -> bool:
    """Whether `name` is one of the virtual rigs (emulated servos and the world), not a saved rig config."""
    return name in VIRTUAL_RIGS


def virtual_arm_id(rig: str, role: str) -> str:
    """The calibration file's arm id of a virtual rig's arm: the Koch's keep their names of old."""
    return f"{rig}-{role}"


def virtual_profile(rig: str, role: str) -> str:
    from hardware.arms.profile import ARM_PROFILES

    return ARM_PROFILES[VIRTUAL_RIGS[rig]][ROLES.index(role)]  # (leader, follower), as ROLES


def open_rig(name: str = VIRTUAL, *, cameras: tuple[str, ...] = ("front", "wrist"), width: int = 320,
             height: int = 240, camera_fps: float = 30.0, realtime: bool = True, seed: int = 0,
             wire_timing: bool = False, transport: str = "inprocess") -> Rig:
    """The camera/size/realtime options apply to the virtual rig; a real rig takes them from its config.
    The virtual arms' servos meet the bus in this process by default (the same bytes through pyserial, no
    thread hop): over a pty each packet and reply waits for the kernel's tty worker, which runs at normal priority
    and on a busy machine held the control loop ~10 ms per tick (bench/record_under_load.py, docs/benchmarks.md
    P7). transport="pty" puts them on a pseudo-terminal any process can open."""
    if is_virtual_rig(name):
        return open_virtual_rig(cameras=cameras, width=width, height=height, camera_fps=camera_fps,
                                realtime=realtime, seed=seed, wire_timing=wire_timing, transport=transport,
                                name=name)
    return open_real_rig(name)


# A pty's "latency" is the scheduler: the emulator's thread may wait tens of ms for a core on a busy machine, so
# the virtual rig's buses wait longer for a reply before retrying (real adapters keep the FTDI default).
VIRTUAL_LATENCY_MS = 50.0


def connect_arm(profile: ArmProfile | str, port: str, arm_id: str, *, latency_ms: float | None = None,
                handshake: bool = True, calibration: Literal["required", "if_saved", "none"] = "required") -> Arm:
    """One arm on a port: its bus at the profile's baud rate (latency_ms: how long a reply may take, None for the
    bus's default), connected (handshake=False: a missing motor does not stop it), and its saved calibration:
    "required" (a real rig's), "if_saved" (read when the file exists) or "none" (left unread: calibrating
    replaces it, and a broken one must not stop that). Nothing is left open when it fails."""
    if calibration not in ("required", "if_saved", "none"):
        raise ValueError(f"calibration must be 'required', 'if_saved' or 'none', not {calibration!r}")
    prof = load_profile(profile) if isinstance(profile, str) else profile
    latency = {} if latency_ms is None else {"latency_ms": latency_ms}
    bus = prof.servo_family.bus_class(port, prof.motors, baudrate=prof.baudrate, **latency)
    bus.connect(handshake=handshake)
    arm = Arm(prof, bus, arm_id=arm_id)
    path = calibration_path(arm_id)
    if calibration == "required" or (calibration == "if_saved" and path.exists()):
        try:
            arm.set_calibration(load_calibration(path, prof))
        except BaseException:
            with contextlib.suppress(Exception):
                arm.disconnect()
            raise
    return arm


def open_virtual_rig(*, cameras=("front", "wrist"), width=320, height=240, camera_fps=30.0, realtime=True,
                     seed=0, wire_timing=False, transport="inprocess", name: str = VIRTUAL) -> Rig:
    from hardware.virtual.arms import run_scripted_calibration
    from hardware.virtual.sim import SimRig

    # In real time the cameras render in a process of their own (the control loop must not wait for them);
    # lock-stepped, each frame belongs to exactly one step and the world renders it in line.
    sim = SimRig(cameras=tuple(cameras), width=width, height=height, camera_fps=camera_fps, seed=seed,
                 transport=transport, wire_timing=wire_timing, render_process=realtime, arm=VIRTUAL_RIGS[name])
    rig = None
    try:
        arms = {}
        for role, virtual in (("leader", sim.leader), ("follower", sim.follower)):
            arm = arms[role] = connect_arm(virtual.profile.name, virtual.port, virtual_arm_id(name, role),
                                           latency_ms=VIRTUAL_LATENCY_MS, calibration="if_saved")
            if arm.calibration is None:
                calibrate_and_save(arm, calibration_path(arm.arm_id),
                                   lambda proc, v=virtual: run_scripted_calibration(v, proc))
        rig = Rig(name, arms["follower"], arms["leader"], dict(sim.cameras), sim)
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
    ports = {cfg.role: resolve_port(cfg) for cfg in config.arms}
    preflight(*host_targets(config, ports))
    arms: dict[str, Arm] = {}
    cams = {}
    try:
        for cfg in config.arms:
            arm = arms[cfg.role] = connect_arm(cfg.profile, ports[cfg.role], cfg.arm_id)
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


def host_targets(config: RigConfig, ports: dict[str, str]) -> tuple[list[ArmTarget], list[CameraTarget]]:
    """What the host check looks at in a saved rig: its arms on their resolved ports (those in `ports`), its
    cameras at their configured size and rate."""
    arms = [ArmTarget(cfg.role, ports[cfg.role], load_profile(cfg.profile),
                      f"robotapp setup-motors --rig {config.name} --arm {cfg.role}")
            for cfg in config.arms if cfg.role in ports]
    # a config without a pixel format leaves the camera's default, which V4L2 cameras make YUYV
    cams = [CameraTarget(c.name, c.source, c.width, c.height, c.fps, getattr(c, "fourcc", None) or "YUYV")
            for c in config.cameras]
    return arms, cams


@dataclass
class OpenArm:
    """One arm opened on its own, with the emulated arm behind it on the virtual rig."""
    arm: Arm
    profile: ArmProfile
    virtual: object | None = None  # hardware.virtual.arms.VirtualArm on the virtual rig

    @property
    def calibration_file(self):
        return calibration_path(self.arm.arm_id)

    def close(self) -> None:
        self.arm.disconnect()
        if self.virtual is not None:
            self.virtual.close()


def open_arm(rig: str, role: str, *, port: str | None = None, profile: str | None = None,
             arm_id: str | None = None, configure: bool = True, handshake: bool = True,
             virtual_faults=None, load_saved: bool = True) -> OpenArm:
    """rig: 'virtual', a saved rig name, or 'manual' with port + profile given. Without handshake a missing
    motor does not stop the opening (the doctor wants to name it in its table). load_saved=False leaves the
    arm's calibration file unread: calibrating replaces it, and a broken one must not stop that."""
    if role not in ROLES:
        raise ValueError(f"arm must be 'leader' or 'follower', not {role!r}")
    virtual = None
    if is_virtual_rig(rig):
        from hardware.virtual.arms import VirtualArm

        prof = load_profile(profile or virtual_profile(rig, role))
        virtual = VirtualArm(prof, usb_serial=f"VIRTUAL-{role.upper()}")
        if virtual_faults:
            virtual_faults(virtual)
        port, arm_id = virtual.port, arm_id or virtual_arm_id(rig, role)
    elif port:
        if not profile:
            raise ValueError("--port needs --profile (e.g. koch-v1.1-follower)")
        prof, arm_id = load_profile(profile), arm_id or f"{profile}-{role}"
        # named by the profile's role: --port arms are opened as "follower" whatever they are
        preflight([ArmTarget(prof.role, port, prof, f"robotapp setup-motors --port {port} --profile {profile}")],
                  handshake=handshake)
    else:
        cfg = load_rig(rig).arm(role)
        prof, arm_id, port = load_profile(profile or cfg.profile), arm_id or cfg.arm_id, resolve_port(cfg)
        preflight([ArmTarget(role, port, prof, f"robotapp setup-motors --rig {rig} --arm {role}")],
                  handshake=handshake)
    try:
        arm = connect_arm(prof, port, arm_id, handshake=handshake, calibration="if_saved" if load_saved else "none")
    except BaseException:
        if virtual is not None:
            virtual.close()
        raise
    opened = OpenArm(arm, prof, virtual)
    if configure:
        try:
            arm.configure()
        except BaseException:
            with contextlib.suppress(Exception):
                opened.close()
            raise
    return opened
