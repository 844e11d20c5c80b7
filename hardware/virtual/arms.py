"""A virtual arm: an emulated servo chain laid out from an arm profile, with mechanical joint ranges and a
scripted "hand" that moves the joints as a person would (torque off). It lets calibration, the doctor and the
CLI run end to end with no hardware; the MuJoCo world takes over the follower's physics in a later step."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hardware.arms.profile import ArmProfile
from hardware.discovery import SerialPortInfo, register_virtual_port, unregister_virtual_port
from hardware.motors.tables import RESOLUTION

from . import so101
from .chain import ServoChain
from .feetech_chain import FeetechChain
from .transports import PtyServer, serve_inprocess

TICKS_PER_DEGREE = RESOLUTION / 360.0

# Mechanical range (degrees) of each Koch-like joint, and where its middle sits on the encoder (ticks): an
# assembly detail no two arms share. wrist_roll's middle is near the encoder zero on purpose.
KOCH_MECHANICS = {
    "shoulder_pan": (180.0, 2100), "shoulder_lift": (190.0, 1000), "elbow_flex": (190.0, 3100),
    "wrist_flex": (200.0, 2600), "wrist_roll": (300.0, 150), "gripper": (100.0, 1500),
}


# the emulated chain behind an arm of each servo family, and its joints' mechanics unless given
CHAINS = {"dynamixel": ServoChain, "feetech": FeetechChain}
DEFAULT_MECHANICS = {"dynamixel": KOCH_MECHANICS, "feetech": so101.MECHANICS}


def virtual_usb_port(device: str, serial_number: str) -> SerialPortInfo:
    """How an emulated arm's port is listed: like a U2D2 (FTDI) adapter with a serial number."""
    return SerialPortInfo(device=device, description="virtual U2D2 (emulated servos)", vid=0x0403, pid=0x6014,
                          serial_number=serial_number, manufacturer="robotapp")


@dataclass
class Mechanics:
    span_degrees: float
    middle_ticks: int

    def ticks(self, fraction: float) -> float:
        """Encoder position at `fraction` of the range (0 = one end, 1 = the other)."""
        return self.middle_ticks + (fraction - 0.5) * self.span_degrees * TICKS_PER_DEGREE


class VirtualArm:
    def __init__(self, profile: ArmProfile, *, transport: str = "inprocess", wire_timing: bool = False,
                 clock: Callable[[], float] = time.monotonic, mechanics: dict[str, Mechanics] | None = None,
                 usb_serial: str | None = None):
        self.profile = profile
        self.usb_serial = usb_serial
        chain_class = CHAINS[profile.family]
        self.chain = chain_class({j.id: j.model for j in profile.joints}, baudrate=profile.baudrate,
                                 wire_timing=wire_timing, clock=clock)
        table = DEFAULT_MECHANICS[profile.family]
        self.mechanics = mechanics or {n: Mechanics(*table.get(n, (180.0, 2048))) for n in profile.names}
        self._server = self._link = None
        if transport == "pty":
            self._server = PtyServer(self.chain).start()
            self.port = self._server.path
        else:
            self._link = serve_inprocess(self.chain)
            self.port = self._link.url
        if usb_serial:
            register_virtual_port(virtual_usb_port(self.port, usb_serial))
        self.pose({n: 0.5 for n in profile.names})
        for s in self.chain.servos:
            s.reboot(clock())  # power-up: the reading folds into one turn wherever the joint happens to be

    def servo(self, name: str):
        return self.chain.servo(self.profile.joint(name).id)

    def pose(self, fractions: dict[str, float]) -> None:
        """Move joints by hand to fractions of their mechanical range."""
        now = self.chain.clock()
        with self.chain.lock:
            for name, f in fractions.items():
                self.servo(name).move_by_hand(self.mechanics[name].ticks(f), now)

    def sweep_poses(self, steps: int = 24) -> list[dict[str, float]]:
        """One joint after another, end to end and back to the middle, as a person sweeps during calibration."""
        poses = []
        ramp = np.concatenate([np.linspace(0.5, 0.0, steps // 2), np.linspace(0.0, 1.0, steps),
                               np.linspace(1.0, 0.5, steps // 2)])
        current = {n: 0.5 for n in self.profile.names}
        for name in self.profile.names:
            for f in ramp:
                current[name] = float(f)
                poses.append(dict(current))
        return poses

    def close(self) -> None:
        unregister_virtual_port(self.port)
        if self._server:
            self._server.stop()
        if self._link:
            self._link.close()


def run_scripted_calibration(arm_hw: VirtualArm, procedure, middle_error: dict[str, float] | None = None):
    """Drive a CalibrationProcedure with the virtual hand. `middle_error` (fractions) places the 'middle' pose
    imperfectly, as a person does."""
    procedure.prepare()
    arm_hw.pose({n: 0.5 + (middle_error or {}).get(n, 0.0) for n in arm_hw.profile.names})
    procedure.record_middle()
    for pose in arm_hw.sweep_poses():
        arm_hw.pose(pose)
        procedure.sample()
    return procedure.finish()
