"""The virtual rig's hardware: a leader and a follower made of emulated servos, a MuJoCo world the follower
lives in, and cameras rendered from that world.

Coupling, per physics step (under the follower chain's lock, so no packet sees a half-updated arm):
- follower: each servo's goal (through Homing_Offset and Drive_Mode, as firmware applies them) becomes the
  MuJoCo joint target; torque off makes the joint limp; MuJoCo's joint position, velocity and actuator torque
  go back into Present_Position / Present_Velocity / Present_Current. dynamixel-sdk on the other end of the pty
  thus commands the simulated arm exactly as it would a real one.
- leader: servos with torque off whose horns are turned by an input source (the scripted demonstrator, a
  replay, GUI sliders): `leader_source(t)` gives joint angles in the world's radians.
Angles map linearly onto encoder ticks through each joint's mechanical range (JOINT_RANGES <-> the arm's
Mechanics), the same for both arms, so degree 0 of a calibrated joint is the middle of its range on each.

Time: `advance(dt)` steps everything by dt of sim time (evaluation as fast as possible, lock-stepped with the
caller); `start()` runs a thread that keeps sim time on the wall clock (teleop, recording).

Cameras: lock-stepped, the world renders them itself (a frame belongs to exactly that step). In real time
(render_process=True) a process of its own renders them from the world's pose (render_process.py): rendering
holds the interpreter's lock for milliseconds, which the control loop in this process must not wait for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from hardware.arms.profile import ARM_PROFILES, load_profile
from hardware.cameras import VirtualCamera
from hardware.deadline_timer import DeadlineTimer
from hardware.thread_priority import DEVICE, raise_priority

from .arms import VirtualArm
from .render_process import RenderProcess
from .task import PickPlaceTask
from .world import ARMS, JOINTS, TIMESTEP, World

# N*m per A, from the stall figures: XL430-W250 1.4 N*m at 1.3 A, XL330-M288 0.52 N*m at 1.47 A.
# STS3215 (7.4 V): ~1.9 N*m (19.5 kg*cm) at 2.7 A stall.
TORQUE_CONSTANT = {"xl430-w250": 1.08, "xl330-m288": 0.35, "xl330-m077": 0.13, "sts3215": 0.7}
PHYSICS_HZ = 200.0  # real-time thread rate; each tick steps the whole TIMESTEPs that wall time allows
# the world's arm -> (leader profile, follower profile) of the emulated servos behind it: Dynamixels behind the
# Koch, Feetech STS3215s behind the SO-101 (their mechanics: arms.DEFAULT_MECHANICS by the profile's family)


class JointMap:
    """World radians <-> encoder ticks of one arm, joint by joint, through the mechanical range."""

    def __init__(self, arm: VirtualArm, joint_ranges: np.ndarray = ARMS["koch"].joint_ranges):
        mech = [arm.mechanics[n] for n in JOINTS]
        lo, hi = joint_ranges[:, 0], joint_ranges[:, 1]
        self._t0 = np.array([m.ticks(0.0) for m in mech])
        self._t1 = np.array([m.ticks(1.0) for m in mech])
        self.ticks_per_rad = (self._t1 - self._t0) / (hi - lo)
        self._lo = lo

    def ticks(self, q: np.ndarray) -> np.ndarray:
        return self._t0 + (np.asarray(q, dtype=float) - self._lo) * self.ticks_per_rad

    def radians(self, ticks: np.ndarray) -> np.ndarray:
        return self._lo + (np.asarray(ticks, dtype=float) - self._t0) / self.ticks_per_rad


class SimRig:
    """Emulated leader + follower on ports (pty by default, so any process can open them) and the world."""

    def __init__(self, cameras: tuple[str, ...] = ("front", "wrist"), width: int = 320, height: int = 240,
                 camera_fps: float = 30.0, seed: int = 0, transport: str = "pty", wire_timing: bool = False,
                 timeout: float = 30.0, render_process: bool = False, arm: str = "koch"):
        if arm not in ARM_PROFILES:
            raise ValueError(f"no emulated servos for the {arm!r} arm yet (there are for {', '.join(ARM_PROFILES)});"
                             f" its world runs on its own: World(arm={arm!r})")
        self._renderer: RenderProcess | None = None
        if render_process and cameras:  # started first: it loads while the rest is built
            self._renderer = RenderProcess(tuple(cameras), width, height, deliver=self._deliver,
                                           on_drop=lambda name: self.cameras[name].missed(),
                                           on_error=self._camera_error, arm=arm)
        try:
            self._build(cameras, width, height, camera_fps, seed, transport, wire_timing, timeout, arm)
        except BaseException:
            if self._renderer is not None:
                self._renderer.close()
            raise

    def _build(self, cameras, width, height, camera_fps, seed, transport, wire_timing, timeout, arm) -> None:
        self.world = World(cameras=() if self._renderer else cameras, width=width, height=height, seed=seed,
                           arm=arm)
        self.home = self.world.arm.home_q
        self.task = PickPlaceTask(self.world, timeout=timeout)
        leader_profile, follower_profile = ARM_PROFILES[arm]
        self.leader = VirtualArm(load_profile(leader_profile), transport=transport, wire_timing=wire_timing,
                                 usb_serial="VIRTUAL-LEADER")
        self.follower = VirtualArm(load_profile(follower_profile), transport=transport,
                                   wire_timing=wire_timing, usb_serial="VIRTUAL-FOLLOWER")
        self.cameras = {c: VirtualCamera(c, width, height, camera_fps, source="push") for c in cameras}
        self.camera_fps = camera_fps
        self._next_frame = dict.fromkeys(cameras, 0.0)
        self._servos = [self.follower.servo(n) for n in JOINTS]
        self._leader_servos = [self.leader.servo(n) for n in JOINTS]
        self._map = JointMap(self.follower, self.world.arm.joint_ranges)
        self._leader_map = JointMap(self.leader, self.world.arm.joint_ranges)
        self._kt = np.array([TORQUE_CONSTANT.get(s.spec.name, 0.35) for s in self._servos])
        self._source: Callable[[float], np.ndarray] | None = None
        self._source_t0 = 0.0
        self._coupled = False
        self.lock = threading.RLock()  # world state; taken inside the chain locks' order: world, then chain
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.overruns = 0  # real-time ticks the thread could not keep (skipped deadlines)
        self.pose_leader(self.home)

    # -- set-up ----------------------------------------------------------------------------------------------
    @property
    def ports(self) -> dict[str, str]:
        return {"leader": self.leader.port, "follower": self.follower.port}

    def couple(self) -> None:
        """Hand the follower's physics to the world (after calibration, which sweeps the joints by hand)."""
        with self.lock, self.follower.chain.lock:
            for s in self._servos:
                s.external = True
            self._publish(self.follower.chain.clock())
            self._hold_here()
            self._coupled = True
        self.pose_leader(self.home)  # calibration left the leader's joints mid-range
        for cam in self.cameras.values():
            cam.connect()
        if self._renderer is not None:
            self._renderer.wait_ready()
        self._render_due(force=True)

    def _hold_here(self) -> None:
        """Goals = present, so torque coming on (or a teleported arm) does not jump."""
        for s in self._servos:
            s.set("Goal_Position", s.get("Present_Position"))

    def reset(self, seed: int | None = None) -> None:
        """New episode: arm at home, cube at a seeded random start; goals follow so nothing jumps."""
        with self.lock, self.follower.chain.lock:
            self.task.reset(seed)
            self._publish(self.follower.chain.clock())
            self._hold_here()
        self.pose_leader(self.home)
        self._next_frame = dict.fromkeys(self.cameras, self.world.time)
        self._render_due(force=True)

    # -- the leader's hand -----------------------------------------------------------------------------------
    def pose_leader(self, q: np.ndarray) -> None:
        """Turn the leader's joints by hand to world angles q (radians, gripper = jaw angle)."""
        ticks = self._leader_map.ticks(q)
        chain = self.leader.chain
        now = chain.clock()
        with chain.lock:
            for s, t in zip(self._leader_servos, ticks, strict=True):
                s.blocked = s.torque_on  # a hand holding a powered horn (the gripper trigger) stops its motor
                s.move_by_hand(float(t), now)

    def set_leader_source(self, source: Callable[[float], np.ndarray] | None) -> None:
        """source(t) -> world angles for the leader, t = sim seconds since this call; None = let go."""
        with self.lock:
            self._source = source
            self._source_t0 = self.world.time
        if source is None:
            with self.leader.chain.lock:
                for s in self._leader_servos:
                    s.blocked = False

    def leader_angles(self) -> np.ndarray:
        with self.leader.chain.lock:
            return self._leader_map.radians([s.actual for s in self._leader_servos])

    def leader_readings(self, q: np.ndarray) -> np.ndarray:
        """The Present_Position each leader servo would report with its joints at world angles q: the ticks
        through the servo's Homing_Offset and Drive_Mode, taken from its reading now (so linear in q)."""
        ticks = self._leader_map.ticks(q)
        with self.leader.chain.lock:
            return np.array([s.get("Present_Position") + s.direction * (t - s.actual)
                             for s, t in zip(self._leader_servos, np.moveaxis(ticks, -1, 0), strict=True)]).T

    def follower_angles(self) -> np.ndarray:
        return self.world.joint_state()[0]

    # -- time ------------------------------------------------------------------------------------------------
    def advance(self, dt: float) -> None:
        """Step the world by dt of sim time, with the coupling and any camera frames that fall due."""
        if not self._coupled:
            raise RuntimeError("SimRig.advance before couple()")
        with self.lock:
            chain = self.follower.chain
            with chain.lock:
                now = chain.clock()
                for s in self._servos:
                    s.update(now)  # thermal model and fault bits
                torque = np.array([s.torque_on for s in self._servos])
                goals = self._map.radians([s.goal_actual() for s in self._servos])
            self.world.set_torque(torque)
            q_now = self.world.joint_state()[0]
            self.world.set_joint_targets(np.where(torque, goals, q_now))
            self.task.step(dt)
            with chain.lock:
                self._publish(chain.clock())
            if self._source is not None:
                self.pose_leader(self._source(self.world.time - self._source_t0))
        self._render_due()

    def _publish(self, now: float) -> None:
        q, v, tau = self.world.joint_state()
        ticks = self._map.ticks(q)
        vel = v * self._map.ticks_per_rad
        current_ma = tau / self._kt * 1000.0
        for s, t, w, c in zip(self._servos, ticks, vel, current_ma, strict=True):
            s.set_present(float(t), float(w), float(c), now)

    def _render_due(self, force: bool = False) -> None:
        due = []
        with self.lock:  # a reset() on another thread rewinds the world's clock: read it and the grid together
            t = self.world.time
            for name, cam in self.cameras.items():
                if not cam.is_connected:
                    continue
                if force or t + 1e-9 >= self._next_frame[name]:
                    due.append(name)
                    period = 1.0 / self.camera_fps
                    nxt = self._next_frame[name] + period  # on the sim-time grid; rejoin it if we fell behind
                    self._next_frame[name] = t + period if (force or nxt <= t or nxt > t + 2 * period) else nxt
            if not due:
                return
            if self._renderer is None:
                for name in due:
                    self.cameras[name].push(self.world.render(name))
                return
            qpos = self.world.data.qpos.copy()
        self._renderer.request(qpos, tuple(due), time.monotonic())
        if force:  # a new scene's first frame is out before anyone reads the cameras
            self._renderer.flush()

    def _camera_error(self, why: str) -> None:
        for cam in self.cameras.values():
            cam.fail(why)

    def _deliver(self, name: str, image: np.ndarray, t_capture: float) -> None:
        cam = self.cameras[name]
        if cam.is_connected:
            cam.push(image, t_capture)

    def start(self) -> None:
        """Real time: a thread steps the world so sim time follows the wall clock."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-world", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._renderer is not None:
            # It steps physics and answers for the servos' sensors, as a real arm's physics never waits for a
            # CPU; it is raised only when the cameras render elsewhere (rendering here would starve the machine).
            raise_priority(DEVICE)
        timer = DeadlineTimer(PHYSICS_HZ)
        last, owed = timer.start, 0.0
        while True:
            skipped = timer.wait_next(self._stop)
            if skipped is None:
                return
            self.overruns += skipped
            # whole physics steps for the wall time that passed, the remainder carried: sim time keeps to the
            # wall clock (and a reset() of the world's clock changes nothing here)
            now = time.monotonic()
            owed += now - last
            last = now
            steps = int(owed / TIMESTEP)
            if steps > 0:
                owed -= steps * TIMESTEP
                self.advance(steps * TIMESTEP)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def close(self) -> None:
        self.stop()
        for cam in self.cameras.values():
            cam.disconnect()
        if self._renderer is not None:
            self._renderer.close()
        self.leader.close()
        self.follower.close()
        self.world.close()
