"""Session modes, configuration and the snapshot the GUI polls."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class Mode(StrEnum):
    IDLE = "idle"  # loop runs and reads the follower; nothing is commanded
    HOLD = "hold"  # follower torque on, holding where it was
    ALIGN = "align"  # follower moving slowly onto the leader before teleop engages
    TELEOP = "teleop"  # follower copies the leader
    RECORD = "record"  # teleop (or the virtual demonstrator) while a recording flow runs
    REPLAY = "replay"  # a recorded episode's actions drive the follower
    POLICY = "policy"  # a policy drives the follower
    FAULT = "fault"  # a motor fault stopped the active mode; the follower is held or limp
    ESTOP = "estop"  # emergency stop; cleared only by clear_estop()


ACTIVE = {Mode.ALIGN, Mode.TELEOP, Mode.RECORD, Mode.REPLAY, Mode.POLICY}


def rate_problem(control_hz: float, fps: int, *, hz_name: str = "control rate",
                 fps_name: str = "the dataset fps") -> str | None:
    """The control rate must be a whole multiple of the fps: a frame is recorded every control_hz / fps ticks."""
    ratio = control_hz / fps
    if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
        return (f"{hz_name} {control_hz:g} must be a whole multiple of {fps_name} {fps}, e.g. {fps}, {2 * fps} or "
                f"{3 * fps}")
    return None


@dataclass
class SessionConfig:
    control_hz: float = 90.0  # a multiple of fps: frames are recorded every control_hz / fps ticks
    fps: int = 30
    realtime: bool = True  # False: lock-step with the virtual world, as fast as the machine allows
    estop_action: str = "torque_off"  # or "hold"
    fault_action: str = "hold"  # or "torque_off"
    watchdog_s: float = 0.2  # active mode and no tick for this long: the follower is held
    heartbeat_timeout_s: float | None = None  # set by the GUI: no heartbeat for this long -> hold
    align_threshold: float = 15.0  # degrees (or % for the gripper)
    align_speed: float = 30.0  # units/s while moving the follower onto the leader

    def __post_init__(self):
        if self.fps <= 0 or self.control_hz <= 0:
            raise ValueError(f"fps and control rate must be positive, got {self.fps} and {self.control_hz}")
        problem = rate_problem(self.control_hz, self.fps)
        if problem:
            raise ValueError(problem)
        for name in ("estop_action", "fault_action"):
            if getattr(self, name) not in ("torque_off", "hold"):
                raise ValueError(f"{name} must be 'torque_off' or 'hold', not {getattr(self, name)!r}")

    @property
    def ticks_per_frame(self) -> int:
        return round(self.control_hz / self.fps)


@dataclass
class Snapshot:
    mode: Mode
    phase: str = ""  # recording: warmup, episode, reset, saving, done
    phase_remaining: float = 0.0  # seconds left in the phase
    episode: int = 0  # episodes saved in this recording run
    episodes_target: int = 0
    dataset_episodes: int = 0
    follower: np.ndarray | None = None
    leader: np.ndarray | None = None
    action: np.ndarray | None = None
    loop_hz: float = 0.0
    tick_ms_p99: float = 0.0
    message: str = ""  # the last fault / e-stop / watchdog message
    camera_fps: dict[str, float] = field(default_factory=dict)
