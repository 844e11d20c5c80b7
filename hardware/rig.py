"""A Rig: the arms and cameras one session drives. The same type for a real Koch rig and the virtual one; the
virtual rig also carries its simulation (`sim`), which the session may step or ask for task success."""

from __future__ import annotations

from dataclasses import dataclass, field

from hardware.arms import Arm
from hardware.cameras import Camera


@dataclass
class Rig:
    name: str
    follower: Arm
    leader: Arm | None = None
    cameras: dict[str, Camera] = field(default_factory=dict)
    sim: object | None = None  # hardware.virtual.sim.SimRig on the virtual rig

    @property
    def is_virtual(self) -> bool:
        return self.sim is not None

    def camera_shapes(self) -> dict[str, tuple[int, int]]:
        """(height, width) per camera, from its latest frame."""
        return {name: cam.read_latest(timeout=5.0).image.shape[:2] for name, cam in self.cameras.items()}

    def close(self) -> None:
        """Disconnect everything; safe to call twice and after a failed open."""
        if self.sim is not None:
            self.sim.stop()  # no more frames pushed into cameras being disconnected
        for cam in self.cameras.values():
            cam.disconnect()
        for arm in (self.leader, self.follower):
            if arm is not None and arm.bus.is_connected:
                arm.disconnect()
        if self.sim is not None:
            self.sim.close()
