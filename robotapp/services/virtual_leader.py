"""The virtual leader's hand, for a window: sliders and jog keys set joint targets that the hand reaches at a
person's speed; the 'demonstrator' plays the scripted pick-and-place once; `release()` lets go of the arm.

The window speaks the arm's calibrated units (degrees, gripper 0-100 %), the ones the session reads from the
leader's servos and the plots show; the hand works in the world's radians. World angle -> encoder ticks ->
Homing_Offset/Drive_Mode -> calibration is linear per joint, so two points of it convert both ways.

One source function is installed on the SimRig while the hand holds the leader; it is called on the sim thread
and reads the targets under a lock, so the window only ever swaps numbers and never waits on the world."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from hardware.arms.units import to_units
from hardware.virtual.demonstrator import Demonstrator
from hardware.virtual.world import JOINTS
from robotapp.core.scenes import VirtualResetScene

HAND_SPEED = 1.5  # rad/s: a slider dragged end to end moves the leader like a hand would, not in one jump


class VirtualLeader:
    joint_names = JOINTS

    def __init__(self, sim, arm=None, seed: int = 0):
        self.sim = sim
        # the world's arm (the Koch's or the SO-101's): radians per joint (the gripper: jaw angle), its rest pose
        self.ranges = np.asarray(sim.world.arm.joint_ranges, dtype=float)
        self.rest_q = np.asarray(sim.world.arm.home_q, dtype=float)
        self.arm = arm  # the leader's Arm: its calibration defines the units; None (or uncalibrated): degrees
        self.units = ["%" if self._calibrated and g else "°" for g in self._grippers()]
        self.seed = seed
        self._lock = threading.Lock()
        self._q = np.array(sim.leader_angles(), dtype=float)
        self._target = self._q.copy()
        self._t_last: float | None = None
        self._demo: Demonstrator | None = None
        self._planner: Demonstrator | None = None
        self._demo_t0: float | None = None
        self._demo_progress = (0.0, 0.0)
        self._holding = False
        self._jogged = np.zeros(len(JOINTS), dtype=bool)  # the joint's target was last set by a jog
        self._exec = ThreadPoolExecutor(1, thread_name_prefix="virtual-leader")

    # -- reads ------------------------------------------------------------------------------------------------
    def angles(self) -> np.ndarray:
        """Where the leader's joints are now (radians)."""
        with self._lock:
            if self._holding:
                return self._q.copy()
        return np.asarray(self.sim.leader_angles(), dtype=float)

    def positions(self) -> np.ndarray:
        """Where the leader's joints are now, in the arm's calibrated units (what the session reads)."""
        return self.to_units(self.angles())

    def unit_ranges(self) -> np.ndarray:
        """(low, high) per joint in calibrated units: as far as the hand can turn each joint."""
        ends = self.to_units(self.ranges.T)
        return np.stack([ends.min(axis=0), ends.max(axis=0)], axis=1)

    def to_units(self, q: np.ndarray) -> np.ndarray:
        """World radians (..., joints) -> calibrated units."""
        q = np.asarray(q, dtype=float)
        if not self._calibrated:
            return np.degrees(q)
        cals = [self.arm.calibration[n] for n in JOINTS]
        return to_units(self.sim.leader_readings(q), cals, self._grippers())

    def to_radians(self, index: int, value: float) -> float:
        """One joint's calibrated value -> world radians (the inverse of to_units, through its two ends)."""
        lo, hi = self.ranges[index]
        u_lo, u_hi = self.to_units(self.ranges.T)[:, index]
        return float(lo + (value - u_lo) * (hi - lo) / (u_hi - u_lo))

    @property
    def _calibrated(self) -> bool:
        return self.arm is not None and self.arm.calibration is not None

    def _grippers(self) -> np.ndarray:
        if self.arm is None:
            return np.array([n == "gripper" for n in JOINTS])
        flags = dict(zip(self.arm.names, self.arm.is_gripper, strict=True))
        return np.array([bool(flags[n]) for n in JOINTS])

    @property
    def demonstrating(self) -> bool:
        with self._lock:
            return self._demo is not None

    def demo_progress(self) -> tuple[float, float]:
        """(seconds played, plan duration) of the running or last demonstration."""
        with self._lock:
            return self._demo_progress

    # -- the hand ---------------------------------------------------------------------------------------------
    def set_target(self, index: int, radians: float, jogged: bool = False) -> None:
        lo, hi = self.ranges[index]
        self._hold()
        with self._lock:
            self._demo = None  # grabbing a slider takes the arm back from the demonstrator
            self._target[index] = float(np.clip(radians, lo, hi))
            self._jogged[index] = jogged

    def set_position(self, index: int, value: float) -> None:
        """A slider: one joint's target in calibrated units."""
        self.set_target(index, self.to_radians(index, value))

    def jog(self, index: int, delta: float) -> None:
        """Move one joint by delta calibrated units: from the previous jog's target while jogging, else from
        where the joint is now (after a slider, Home or the demonstrator the target is not where the arm is)."""
        self._hold()
        with self._lock:
            jogging = self._jogged[index] and self._demo is None
            base_q = self._target.copy() if jogging else self._q.copy()
        base = self.to_units(base_q)[index]
        self.set_target(index, self.to_radians(index, base + delta), jogged=True)

    def home(self, now: bool = False) -> None:
        """Targets to the rest pose; now=True puts the hand there at once (the world was just reset)."""
        self._hold()
        with self._lock:
            self._demo = None
            self._target = self.rest_q.copy()
            self._jogged[:] = False
            if now:
                self._q = self.rest_q.copy()

    def release(self) -> None:
        with self._lock:
            was, self._holding, self._demo = self._holding, False, None
        if was:
            self.sim.set_leader_source(None)

    def _hold(self) -> None:
        """Take the leader where it is (a recording's demonstrator may have moved it since the hand let go)."""
        with self._lock:
            if self._holding:
                return
        here = np.asarray(self.sim.leader_angles(), dtype=float)
        with self._lock:
            if self._holding:
                return
            self._holding = True
            self._t_last = None
            self._q, self._target = here, here.copy()
            self._jogged[:] = False
        self.sim.set_leader_source(self._source)

    def _source(self, t: float) -> np.ndarray:
        """Called by the sim thread each physics step: the leader's angles at sim time t."""
        with self._lock:
            dt = 0.0 if self._t_last is None else max(0.0, t - self._t_last)  # a world reset rewinds t
            self._t_last = t
            if self._demo is not None:
                if self._demo_t0 is None:
                    self._demo_t0 = t
                played = t - self._demo_t0
                self._q = self._demo.action(played)
                self._demo_progress = (min(played, self._demo.duration), self._demo.duration)
                if played >= self._demo.duration:
                    self._demo, self._target = None, self._q.copy()
            else:
                step = HAND_SPEED * dt
                self._q = self._q + np.clip(self._target - self._q, -step, step)
            return self._q.copy()

    # -- scripted helpers (slow work on this service's thread) ------------------------------------------------
    def start_demonstrator(self) -> Future:
        """Plan a pick-and-place from the cube where it lies now (~0.1 s of IK), then play it on the leader."""
        return self._exec.submit(self._plan_demo)

    def _plan_demo(self) -> float:
        if self._planner is None:
            self._planner = Demonstrator(self.sim.world, seed=self.seed)
        with self.sim.lock:
            cube, target = self.sim.world.cube_pose(), self.sim.world.target_pose()
        self._planner.reset(cube, target)
        self._hold()
        with self._lock:
            self._demo, self._demo_t0 = self._planner, None
            self._jogged[:] = False
            self._demo_progress = (0.0, self._planner.duration)
        return self._planner.duration

    def reset_world(self, seed: int) -> Future:
        """A new scene: arm at rest, cube at the seeded start; the hand goes home with it."""
        def go():
            self.sim.reset(seed)
            self.home(now=True)
        return self._exec.submit(go)

    def reset_scene(self, seed: int = 0) -> VirtualResetScene:
        """The recording scene when the window's hand drives the leader: each reset also brings the hand home."""
        return _HandResetScene(self.sim, seed, self)

    def close(self) -> None:
        self.release()
        self._exec.shutdown(wait=False, cancel_futures=True)


class _HandResetScene(VirtualResetScene):
    def __init__(self, sim, seed: int, hand: VirtualLeader):
        super().__init__(sim, seed)
        self.hand = hand

    def prepare(self, episode_number: int) -> None:
        super().prepare(episode_number)
        self.hand.home(now=True)
