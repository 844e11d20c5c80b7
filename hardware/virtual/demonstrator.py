"""A scripted demonstrator for pick-and-place, in joint space: it plays a person who looked at the scene once
(cube start pose, target zone) and then moves the leader arm. It never reads the simulation state.

The plan is a list of Cartesian waypoints for the grasp site (gripper pointing down, jaw axis aligned with a
cube face), joined by minimum-jerk segments and turned into joint angles by damped-least-squares IK on a
private MjData. Human-like variation (seeded): segment durations, short hesitations, aim and place offsets
and a slow wobble of the joints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import mujoco
import numpy as np

from .task import PickPlaceTask
from .world import ARMS, CUBE_SIZE, JOINTS, ArmModel, World

GRASP_Z = CUBE_SIZE / 2 + 0.003  # grasp site height when closing: jaw tips stay clear of the table
HOVER_Z = 0.065  # above the cube / zone: the held cube's bottom clears the table by ~5 cm
PLACE_Z = CUBE_SIZE / 2 + 0.006  # let go a few mm above the table
APPROACH_OFFSET = 0.005  # aim the cube this far from the fixed jaw; closing pushes it flush
SAMPLE_DT = 0.02  # trajectory table resolution (s); action() interpolates between samples


def min_jerk(s: np.ndarray | float) -> np.ndarray | float:
    s = np.clip(s, 0.0, 1.0)
    return s ** 3 * (10.0 - 15.0 * s + 6.0 * s * s)


def wrap(a: float) -> float:
    return float((a + np.pi) % (2 * np.pi) - np.pi)


@dataclass
class Waypoint:
    """Grasp-site target: position (m), jaw-axis yaw (rad), gripper (rad), reached after `duration` s."""
    pos: np.ndarray
    yaw: float
    gripper: float
    duration: float


class ArmIK:
    """Damped-least-squares IK for the grasp site, gripper pointing straight down, on a private MjData."""

    def __init__(self, model: mujoco.MjModel, arm: ArmModel = ARMS["koch"]):
        self.model = model
        self.ranges = arm.joint_ranges
        self.data = mujoco.MjData(model)
        self.qadr = np.array([model.jnt_qposadr[model.joint(j).id] for j in JOINTS[:5]])
        self.dadr = np.array([model.jnt_dofadr[model.joint(j).id] for j in JOINTS[:5]])
        self.site = model.site("grasp").id
        self._jp = np.zeros((3, model.nv))
        self._jr = np.zeros((3, model.nv))
        self.last_error = 0.0  # position error (m) of the last solve: a plan out of reach shows here

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.data.qpos[self.qadr] = q
        mujoco.mj_kinematics(self.model, self.data)
        return self.data.site_xpos[self.site].copy(), self.data.site_xmat[self.site].reshape(3, 3).copy()

    def solve(self, pos: np.ndarray, yaw: float, q0: np.ndarray, iters: int = 60, tol: float = 1e-5,
              damping: float = 0.02) -> np.ndarray:
        # site axes: x along the gripper (down), y across the jaws (at `yaw` in the table plane)
        c, s = np.cos(yaw), np.sin(yaw)
        want = np.array([[0.0, c, s], [0.0, s, -c], [-1.0, 0.0, 0.0]])
        q = np.array(q0, dtype=float)
        lo, hi = self.ranges[:5, 0], self.ranges[:5, 1]
        for _ in range(iters):
            p, rot = self.forward(q)
            err = np.concatenate([pos - p, 0.5 * 0.1 * sum(np.cross(rot[:, i], want[:, i]) for i in range(3))])
            self.last_error = float(np.linalg.norm(err[:3]))
            if err @ err < tol * tol:
                break
            mujoco.mj_comPos(self.model, self.data)
            mujoco.mj_jacSite(self.model, self.data, self._jp, self._jr, self.site)
            jac = np.vstack([self._jp[:, self.dadr], 0.1 * self._jr[:, self.dadr]])
            dq = jac.T @ np.linalg.solve(jac @ jac.T + damping ** 2 * np.eye(6), err)
            q = np.clip(q + dq, lo, hi)
        return q


class Demonstrator:
    """`reset(cube_pose, target_pose)` plans an episode; `action(t)` gives the 6 joint targets (radians, gripper
    as the jaw angle like World) at t seconds since the episode start; `duration` is when the plan ends."""

    def __init__(self, world: World | PickPlaceTask | mujoco.MjModel, seed: int = 0, noise: float = 1.0):
        if isinstance(world, PickPlaceTask):
            world = world.world
        model = world.model if isinstance(world, World) else world
        self.arm = world.arm if isinstance(world, World) else ARMS["koch"]  # a bare model: the Koch's
        self.home = self.arm.home_q
        self.ik = ArmIK(model, self.arm)
        # arms differ in shoulder_pan's sign and in how the jaws lie at wrist_roll = 0: read both off the model
        self._pan_sign = float(np.sign(model.jnt_axis[model.joint(JOINTS[0]).id][2]))
        q = self.home[:5].copy()
        q[0] = q[4] = 0.0
        across = self.ik.forward(q)[1][:, 1]  # the grasp site's y: from the fixed jaw to the moving one
        self._yaw_at_zero = float(np.arctan2(across[1], across[0]))  # its yaw with the arm facing +x, roll 0
        self.noise = noise
        self._rng = np.random.default_rng(seed)
        self._times = np.zeros(1)
        self._traj = self.home[None, :].copy()
        self.duration = 0.0
        self.max_ik_error = 0.0

    # -- planning --------------------------------------------------------------------------------------------
    def reset(self, cube_pose: tuple[np.ndarray, np.ndarray],
              target_pose: tuple[np.ndarray, float] | np.ndarray, start_q: np.ndarray | None = None) -> None:
        """Plan from the rest pose, or from `start_q` (world radians): a correction starts where the arm is."""
        cube_pos, cube_quat = np.asarray(cube_pose[0], float), np.asarray(cube_pose[1], float)
        target = np.asarray(target_pose[0] if isinstance(target_pose, tuple) else target_pose, float)
        rng, k = self._rng, self.noise
        w, x, y, z = cube_quat
        cube_yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        # jaw axis along a cube face normal, picking the one that needs the least wrist roll
        natural = np.arctan2(cube_pos[1], cube_pos[0]) + self._yaw_at_zero
        yaw_grasp = min((cube_yaw + i * np.pi / 2 for i in range(-4, 5)), key=lambda a: abs(wrap(a - natural)))
        roll = wrap(yaw_grasp - natural)
        yaw_grasp = natural + roll
        yaw_place = np.arctan2(target[1], target[0]) + self._yaw_at_zero + roll  # keep the roll while carrying
        across = np.array([np.cos(yaw_grasp), np.sin(yaw_grasp), 0.0])  # from the fixed jaw to the moving jaw
        aim = cube_pos[:2] - APPROACH_OFFSET * across[:2] + np.clip(rng.normal(0, 0.0012 * k, 2), -0.003, 0.003)
        place = target[:2] + np.clip(rng.normal(0, 0.005 * k, 2), -0.012, 0.012)
        hover = HOVER_Z + rng.uniform(0, 0.01 * k)

        def dur(base: float) -> float:
            return base * rng.uniform(1 - 0.15 * k, 1 + 0.2 * k)

        def pause() -> float:
            return rng.uniform(0.05, 0.05 + 0.3 * k)

        g_open, g_closed = self.arm.gripper_open, self.arm.gripper_closed
        above_cube = np.array([*aim, hover])
        plan = [
            Waypoint(np.array([*aim, GRASP_Z]), yaw_grasp, g_open, dur(1.0)),  # descend
            Waypoint(np.array([*aim, GRASP_Z]), yaw_grasp, g_closed, dur(0.5)),  # squeeze
            Waypoint(np.array([*aim, GRASP_Z]), yaw_grasp, g_closed, pause() + 0.2),
            Waypoint(np.array([*aim, hover]), yaw_grasp, g_closed, dur(0.8)),  # lift
            Waypoint(np.array([*place, hover]), yaw_place, g_closed, dur(1.6)),  # carry
            Waypoint(np.array([*place, PLACE_Z]), yaw_place, g_closed, dur(0.9)),  # lower
            Waypoint(np.array([*place, PLACE_Z]), yaw_place, g_open, dur(0.4)),  # let go
            Waypoint(np.array([*place, PLACE_Z]), yaw_place, g_open, pause()),
            Waypoint(np.array([*place, hover + 0.02]), yaw_place, g_open, dur(0.8)),  # retreat
        ]
        self.max_ik_error = 0.0
        q_start = self.home.copy() if start_q is None else np.asarray(start_q, float).copy()
        q_above = np.append(self.ik.solve(above_cube, yaw_grasp, self._seed_guess(above_cube)), g_open)
        times, qs = self._joint_segment(q_start, q_above, dur(1.6), 0.0)
        times, qs = [times], [qs]
        t, q, pos, yaw = times[-1][-1], q_above, above_cube, yaw_grasp
        for wp in plan:
            ts, seg = self._cartesian_segment(q, pos, yaw, wp, t)
            times.append(ts[1:])
            qs.append(seg[1:])
            t, q, pos, yaw = ts[-1], seg[-1], wp.pos, wp.yaw
        ts, seg = self._joint_segment(q, self.home, dur(1.4), t)  # back to rest
        times.append(ts[1:])
        qs.append(seg[1:])
        self._times = np.concatenate(times)
        self._traj = np.concatenate(qs) + self._wobble(np.concatenate(times))
        self.duration = float(self._times[-1])

    def _seed_guess(self, pos: np.ndarray) -> np.ndarray:
        q = self.home[:5].copy()
        q[0] = self._pan_sign * np.arctan2(pos[1], pos[0])
        return q

    @staticmethod
    def _steps(duration: float) -> np.ndarray:
        return np.linspace(0.0, 1.0, max(2, int(np.ceil(duration / SAMPLE_DT)) + 1))

    def _joint_segment(self, q0: np.ndarray, q1: np.ndarray, duration: float, t0: float
                       ) -> tuple[np.ndarray, np.ndarray]:
        s = self._steps(duration)
        return t0 + s * duration, q0 + min_jerk(s)[:, None] * (q1 - q0)

    def _cartesian_segment(self, q0: np.ndarray, pos0: np.ndarray, yaw0: float, wp: Waypoint, t0: float
                           ) -> tuple[np.ndarray, np.ndarray]:
        """Min-jerk in cylindrical coordinates (radius, azimuth, height): the arm sweeps like a person's would."""
        s = self._steps(wp.duration)
        r0, r1 = np.hypot(*pos0[:2]), np.hypot(*wp.pos[:2])
        a0 = np.arctan2(pos0[1], pos0[0])
        a1 = a0 + wrap(np.arctan2(wp.pos[1], wp.pos[0]) - a0)
        yaw1 = yaw0 + wrap(wp.yaw - yaw0)
        out = np.empty((len(s), 6))
        q = q0[:5].copy()
        for i, u in enumerate(min_jerk(s)):
            r, a = r0 + u * (r1 - r0), a0 + u * (a1 - a0)
            p = np.array([r * np.cos(a), r * np.sin(a), pos0[2] + u * (wp.pos[2] - pos0[2])])
            q = self.ik.solve(p, yaw0 + u * (yaw1 - yaw0), q, iters=20)
            self.max_ik_error = max(self.max_ik_error, self.ik.last_error)
            out[i, :5] = q
            out[i, 5] = q0[5] + u * (wp.gripper - q0[5])
        return t0 + s * wp.duration, out

    def _wobble(self, times: np.ndarray) -> np.ndarray:
        """A slow, smooth wobble of the arm joints (a hand is never still), zero at both ends."""
        out = np.zeros((len(times), 6))
        if self.noise <= 0 or len(times) < 2:
            return out
        amp = 0.003 * self.noise
        for j in range(5):
            for _ in range(3):
                f, ph = self._rng.uniform(0.2, 1.2), self._rng.uniform(0, 2 * np.pi)
                out[:, j] += amp / 3 * np.sin(2 * np.pi * f * times + ph)
        fade = np.clip(np.minimum(times, times[-1] - times) / 0.5, 0.0, 1.0)
        return out * fade[:, None]

    # -- playing ---------------------------------------------------------------------------------------------
    def action(self, t: float) -> np.ndarray:
        """Joint targets at t seconds since the episode start (held at the ends)."""
        ts = self._times
        if t <= ts[0]:
            return self._traj[0].copy()
        if t >= ts[-1]:
            return self._traj[-1].copy()
        i = int(np.searchsorted(ts, t)) - 1
        u = (t - ts[i]) / (ts[i + 1] - ts[i])
        return self._traj[i] + u * (self._traj[i + 1] - self._traj[i])


def run_episode(task: PickPlaceTask, demo: Demonstrator, seed: int, control_dt: float = 0.02,
                settle: float = 0.5) -> bool:
    """Reset, play the demonstrator at the control rate, let things settle; True if the cube ended in the zone."""
    task.reset(seed)
    demo.reset(task.world.cube_pose(), task.world.target_pose())
    end = min(demo.duration + settle, task.timeout)
    while task.elapsed < end - 1e-9:
        task.step(control_dt, demo.action(task.elapsed))
    return task.success()


def evaluate_demonstrator(n: int = 100, seed: int = 0, verbose: bool = False, arm: str = "koch"
                          ) -> tuple[int, int]:
    """Run the demonstrator on seeds seed..seed+n-1 without rendering; returns (successes, n)."""
    task = PickPlaceTask(World(cameras=(), arm=arm))
    demo = Demonstrator(task, seed=seed)
    successes = 0
    t0 = time.perf_counter()
    for i in range(n):
        ok = run_episode(task, demo, seed + i)
        successes += ok
        if verbose and not ok:
            pos, _ = task.world.cube_pose()
            print(f"seed {seed + i}: failed ({task.world.failure_reason()}), cube start {task.world.cube_start[0]}, "
                  f"end {pos}")
    if verbose:
        print(f"{successes}/{n} in {time.perf_counter() - t0:.1f} s")
    return successes, n


if __name__ == "__main__":
    import sys

    evaluate_demonstrator(int(sys.argv[1]) if len(sys.argv) > 1 else 100, verbose=True,
                          arm=sys.argv[2] if len(sys.argv) > 2 else "koch")
