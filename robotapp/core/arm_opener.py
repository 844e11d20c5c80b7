"""Open one arm of a rig, virtual or configured, with its calibration if one is saved."""

from __future__ import annotations

from dataclasses import dataclass

from calibration.files import calibration_path, load_calibration
from hardware.arms import Arm, ArmProfile, load_profile
from hardware.motors import DynamixelBus
from hardware.rig_config import load_rig, resolve_port


@dataclass
class OpenArm:
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
    if role not in ("leader", "follower"):
        raise ValueError(f"arm must be 'leader' or 'follower', not {role!r}")
    virtual = None
    if rig == "virtual":
        from hardware.virtual.arms import VirtualArm

        prof = load_profile(profile or f"koch-v1.1-{role}")
        virtual = VirtualArm(prof, usb_serial=f"VIRTUAL-{role.upper()}")
        if virtual_faults:
            virtual_faults(virtual)
        port, arm_id = virtual.port, arm_id or f"virtual-{role}"
    elif port:
        if not profile:
            raise ValueError("--port needs --profile (e.g. koch-v1.1-follower)")
        prof, arm_id = load_profile(profile), arm_id or f"{profile}-{role}"
    else:
        cfg = load_rig(rig).arm(role)
        prof, arm_id, port = load_profile(profile or cfg.profile), arm_id or cfg.arm_id, resolve_port(cfg)
    bus = DynamixelBus(port, prof.motors, baudrate=prof.baudrate)
    try:
        bus.connect(handshake=handshake)
    except Exception:
        if virtual is not None:
            virtual.close()
        raise
    arm = Arm(prof, bus, arm_id=arm_id)
    opened = OpenArm(arm, prof, virtual)
    if load_saved and opened.calibration_file.exists():
        arm.set_calibration(load_calibration(opened.calibration_file, prof))
    if configure:
        arm.configure()
    return opened
