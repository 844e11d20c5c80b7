"""What is plugged in, for a window's setup tabs: serial ports, the motors on a port (at the usual baud rates)
and the cameras that deliver a frame, as rows for tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hardware.arms import load_profile
from hardware.discovery import SerialPortInfo, list_cameras, list_serial_ports


def list_ports() -> list[SerialPortInfo]:
    """Serial ports with their USB serial numbers (the virtual rig's included while it is open)."""
    return list_serial_ports()


@dataclass
class MotorRow:
    baudrate: int
    id: int
    model: str
    joint: str  # the profile's joint at this id, or "" when the id is not in the profile
    problem: str = ""


def scan_motors(profile: str, port: str | None, baudrates: list[int] | None = None) -> list[MotorRow]:
    """Every motor on a port at the usual baud rates of the profile's servo family, the factory's and the
    profile's (port None: an assembled virtual arm of this profile)."""
    prof = load_profile(profile)
    family = prof.servo_family
    virtual = None
    if port is None:
        from hardware.virtual.arms import VirtualArm

        virtual = VirtualArm(prof)
        port = virtual.port
    bus = family.bus_class(port, baudrate=prof.baudrate, latency_ms=1.0 if virtual else 16.0)
    try:
        bus.connect(handshake=False)
        found = bus.scan(baudrates or sorted({family.factory_baudrate, prof.baudrate}))
    finally:
        bus.disconnect()
        if virtual is not None:
            virtual.close()
    by_id = {j.id: j for j in prof.joints}
    rows = []
    for bps, ids in found.items():
        for motor_id, number in ids.items():
            joint = by_id.get(motor_id)
            row = MotorRow(bps, motor_id, family.model_name(number), joint.name if joint else "")
            if joint is None:
                row.problem = f"id {motor_id} is not in profile {prof.name}"
            elif row.model != joint.model:
                row.problem = f"expected a {joint.model}"
            elif bps != prof.baudrate:
                row.problem = f"at {bps} bps, the profile wants {prof.baudrate}: run the setup"
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- cameras
@dataclass
class CameraRow:
    source: str
    name: str  # role name ("front", "wrist"); empty for a camera not yet named
    width: int
    height: int
    thumbnail: np.ndarray | None = None  # RGB
    fps: int = 0  # 0: the rig config's default (30)


def scan_cameras() -> list[CameraRow]:
    """Cameras that deliver a frame, each with a snapshot (opens /dev/video*: seconds; a worker thread's job)."""
    return [CameraRow(str(c.stable_path or c.source), "", c.width, c.height, c.snapshot) for c in list_cameras()]
