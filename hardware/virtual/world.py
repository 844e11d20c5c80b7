"""The MuJoCo world the virtual follower lives in: a Koch-v1.1-like arm built from primitive geoms, a table, a
cube and a target zone, with cameras rendered offscreen. `World(arm="so101")` puts an SO-101 (so101.py: the
public model's kinematics and limits) on the same table instead; the Koch stays the default, its MJCF unchanged.
The conventions below are the Koch's; so101.py says where the SO-101 differs (shoulder_pan's sign, the jaws).

Conventions (all SI):
- joints, in order: shoulder_pan (yaw, + = towards +y), shoulder_lift (pitch, + = lean forward), elbow_flex
  (pitch, + = forearm down), wrist_flex (pitch, + = gripper down), wrist_roll, gripper. All six are radians, the
  gripper included: it is the moving jaw's hinge angle, 0 = closed, GRIPPER_OPEN (~1.15) = wide open, as the
  real gripper servo's angle would be. All zeros = upper arm vertical, forearm and gripper pointing forward (+x).
- world frame: table top at z = 0, arm base at the origin, the workspace in front of it (+x).
- `reset(seed)` puts the cube (CUBE_SIZE wide, resting on the table) at a random position in the annular sector
  CUBE_R x CUBE_AZIMUTH (radius 9-18 cm, azimuth +-75 deg: about 35 x 16 cm, so a camera is needed to find it),
  never closer than TARGET_CLEARANCE to the target zone, with a random yaw. The target zone is fixed
  (TARGET_XY, TARGET_HALF): a policy learns one place location, the pick location comes from the images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import mujoco  # MUJOCO_GL is set by hardware/virtual/__init__.py, which Python runs before this module
import numpy as np

from . import so101

JOINTS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
TIMESTEP = 0.002
BASE_HEIGHT, UPPER_ARM, FOREARM = 0.05, 0.11, 0.11  # shoulder_lift axis height, link lengths (m)
WRIST_TO_ROLL = 0.035  # wrist_flex axis -> gripper frame; gripper tip is ~0.10 from the wrist_flex axis
GRASP_X = 0.055  # grasp site along the gripper axis (gripper frame): where a held cube's centre sits
FIXED_JAW_Y = -0.020  # inner face of the fixed jaw (gripper frame)
CUBE_SIZE, CUBE_MASS = 0.03, 0.025
GRIPPER_GRASP = 0.55  # jaw angle at which the pad lies flat on a CUBE_SIZE cube held against the fixed jaw
GRIPPER_OPEN, GRIPPER_CLOSED = GRIPPER_GRASP + 0.6, 0.0
TARGET_XY, TARGET_HALF = np.array([0.08, 0.115]), 0.035
CUBE_R, CUBE_AZIMUTH, TARGET_CLEARANCE = (0.09, 0.18), np.radians(75.0), 0.075
HOME_Q = np.array([0.0, -0.45, 0.25, 1.6, 0.0, GRIPPER_OPEN])  # tucked back, gripper down: cameras see the table
JOINT_RANGES = np.array([[-1.57, 1.57], [-1.66, 1.66], [-1.66, 1.66], [-1.4, 2.1], [-2.6, 2.6], [0.0, 1.7]])
# (kp N*m/rad, force limit N*m): XL430-W250 on the shoulder (~1.4 N*m stall), XL330-M288 elsewhere (~0.5 N*m);
# the gripper is weak on purpose, as lerobot's current-limited gripper is.
SERVOS = ((12.0, 1.4), (20.0, 1.4), (12.0, 0.5), (6.0, 0.5), (4.0, 0.5), (1.0, 0.25))
CAMERAS = ("front", "top", "wrist")


@dataclass(frozen=True)
class ArmModel:
    """What the world and the demonstrator need to know of one arm: its joints' ranges and servos, where it
    rests, and its gripper's open and closed angles (radians, JOINTS order)."""
    name: str
    joint_ranges: np.ndarray
    home_q: np.ndarray
    gripper_open: float
    gripper_closed: float
    servos: tuple[tuple[float, float], ...]


ARMS = {
    "koch": ArmModel("koch", JOINT_RANGES, HOME_Q, GRIPPER_OPEN, GRIPPER_CLOSED, SERVOS),
    "so101": ArmModel("so101", so101.JOINT_RANGES, so101.HOME_Q, so101.GRIPPER_OPEN, so101.GRIPPER_CLOSED,
                      so101.SERVOS),
}


def _release_gl_context() -> None:
    """An EGL context can be current in one thread at a time and stays current where it was last used. Letting
    go after each render lets the world be built in one thread and rendered in another (the real-time world
    thread, a session's control thread), one at a time: callers serialise renders."""
    if os.environ.get("MUJOCO_GL") == "egl":
        from mujoco import egl

        if egl.EGL_DISPLAY is not None:
            egl.EGL.eglMakeCurrent(egl.EGL_DISPLAY, egl.EGL.EGL_NO_SURFACE, egl.EGL.EGL_NO_SURFACE,
                                   egl.EGL.EGL_NO_CONTEXT)


def _xyaxes(pos: np.ndarray, target: np.ndarray) -> str:
    """MJCF camera axes looking from pos at target with world z up."""
    f = (target - pos) / np.linalg.norm(target - pos)
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    return " ".join(f"{v:.4f}" for v in (*right, *up))


def _jaw_pad() -> tuple[str, str]:
    """Pad pose in the jaw frame (identity at gripper = 0): rotated back by GRIPPER_GRASP from where it lies flat
    on the cube, so at the grasp angle its face is parallel to the fixed jaw and the squeeze is a flat pinch."""
    hinge = np.array([0.012, 0.032])
    pad = np.array([GRASP_X, FIXED_JAW_Y + CUBE_SIZE + 0.003])  # pad centre at the grasp angle
    c, s = np.cos(-GRIPPER_GRASP), np.sin(-GRIPPER_GRASP)
    rel = pad - hinge
    p = hinge + np.array([c * rel[0] - s * rel[1], s * rel[0] + c * rel[1]])
    return f"{p[0]:.4f} {p[1]:.4f} 0", f"0 0 1 {-GRIPPER_GRASP:.4f}"


def _koch_arm_xml() -> str:
    """The Koch's bodies (worldbody children)."""
    pad_pos, pad_axisangle = _jaw_pad()
    rng = {j: f"{lo} {hi}" for j, (lo, hi) in zip(JOINTS, JOINT_RANGES, strict=True)}
    tilt = np.radians(25.0)  # wrist camera pitched towards the jaws
    wrist_axes = f"0 -1 0 {np.sin(tilt):.4f} 0 {np.cos(tilt):.4f}"
    return f"""    <geom name="base" class="servo" pos="0 0 0.016" size="0.024 0.018 0.016" mass="0.3"/>
    <geom name="base_plate" type="box" pos="0 0 0.002" size="0.045 0.04 0.002" mass="0.1"/>
    <body name="shoulder" pos="0 0 0.032">
      <joint name="shoulder_pan" axis="0 0 1" range="{rng['shoulder_pan']}"/>
      <geom class="servo" pos="0 0 {BASE_HEIGHT - 0.032 - 0.002}" size="0.017 0.024 0.016" mass="0.06"/>
      <body name="upper_arm" pos="0 0 {BASE_HEIGHT - 0.032}">
        <joint name="shoulder_lift" axis="0 1 0" range="{rng['shoulder_lift']}"/>
        <geom type="capsule" fromto="0 0 0.012 0 0 {UPPER_ARM - 0.012}" size="0.011" mass="0.03"/>
        <geom class="servo" pos="0 0 {UPPER_ARM}" size="0.013 0.017 0.011"/>
        <body name="forearm" pos="0 0 {UPPER_ARM}">
          <joint name="elbow_flex" axis="0 1 0" range="{rng['elbow_flex']}"/>
          <geom type="capsule" fromto="0.012 0 0 {FOREARM - 0.012} 0 0" size="0.009" mass="0.02"/>
          <geom class="servo" pos="{FOREARM} 0 0" size="0.011 0.017 0.013"/>
          <body name="wrist" pos="{FOREARM} 0 0">
            <joint name="wrist_flex" axis="0 1 0" range="{rng['wrist_flex']}"/>
            <geom type="capsule" fromto="0.01 0 0 {WRIST_TO_ROLL - 0.008} 0 0" size="0.008" mass="0.01"/>
            <body name="gripper" pos="{WRIST_TO_ROLL} 0 0">
              <joint name="wrist_roll" axis="1 0 0" range="{rng['wrist_roll']}"/>
              <geom name="palm" class="servo" pos="0.017 0 0" size="0.016 0.017 0.012"/>
              <geom name="fixed_jaw" class="pad" pos="{GRASP_X - 0.002} {FIXED_JAW_Y - 0.003} 0"
                size="0.016 0.003 0.011"/>
              <geom class="visual" type="box" pos="0.035 {FIXED_JAW_Y - 0.003} 0" size="0.004 0.006 0.011"
                rgba="0.15 0.15 0.16 1"/>
              <site name="grasp" pos="{GRASP_X} {FIXED_JAW_Y + CUBE_SIZE / 2} 0" size="0.004"/>
              <camera name="wrist" pos="-0.005 -0.004 0.045" xyaxes="{wrist_axes}" fovy="75"/>
              <body name="jaw" pos="0 0 0">
                <joint name="gripper" axis="0 0 1" pos="0.012 0.032 0" range="{rng['gripper']}"/>
                <geom class="visual" type="cylinder" pos="0.012 0.032 0" size="0.006 0.012"
                  rgba="0.12 0.12 0.13 1"/>
                <geom name="moving_jaw" class="pad" pos="{pad_pos}" axisangle="{pad_axisangle}"
                  size="0.014 0.003 0.010"/>
                <geom class="visual" type="capsule" fromto="0.012 0.032 0 {pad_pos}" size="0.003"
                  rgba="0.15 0.15 0.16 1"/>
              </body>
            </body>
          </body>
        </body>
      </body>
    </body>
"""


def build_mjcf(arm: str = "koch") -> str:
    """The world as an MJCF string (built here so no data file has to ship with the package); `arm` names one
    of ARMS. The Koch's string is the one this world always had."""
    spec = ARMS[arm]
    front = np.array([0.34, -0.02, 0.34]), np.array([0.05, 0.0, 0.06])
    top = np.array([0.06, 0.0, 0.55]), np.array([0.10, 0.0, 0.0])  # tilted: a straight-down view has no "up"
    acts = "\n".join(
        f'<position name="{j}" joint="{j}" kp="{kp}" dampratio="1" forcerange="{-f} {f}" '
        f'ctrlrange="{lo} {hi}"/>' for j, (kp, f), (lo, hi) in zip(JOINTS, spec.servos, spec.joint_ranges,
                                                                   strict=True))
    if arm == "koch":
        arm_body = _koch_arm_xml()
    else:
        arm_body = so101.arm_xml(CUBE_SIZE, {j: f"{lo} {hi}" for j, (lo, hi) in zip(JOINTS, spec.joint_ranges,
                                                                                      strict=True)})
    return f"""
<mujoco model="{arm}_world">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{TIMESTEP}" integrator="implicitfast" cone="elliptic" impratio="10"/>
  <visual>
    <quality shadowsize="0" offsamples="0"/>
    <headlight ambient="0.25 0.25 0.25" diffuse="0.25 0.25 0.25" specular="0 0 0"/>
    <global offwidth="640" offheight="480"/>
  </visual>
  <default>
    <joint armature="0.002" damping="0.02"/>
    <geom contype="2" conaffinity="1" density="300" rgba="0.92 0.92 0.90 1"/>
    <default class="servo"><geom type="box" rgba="0.12 0.12 0.13 1" mass="0.02"/></default>
    <default class="pad"><geom type="box" friction="1.5 0.02 0.001" condim="4" priority="1"
      rgba="0.15 0.15 0.16 1" mass="0.004"/></default>
    <default class="visual"><geom contype="0" conaffinity="0" mass="0"/></default>
    <site group="4"/>
  </default>
  <worldbody>
    <light name="sun" pos="0.1 -0.2 1.2" dir="0 0.15 -1" directional="true" castshadow="false"
      diffuse="0.45 0.45 0.45" specular="0 0 0"/>
    <geom name="table" type="box" pos="0.15 0 -0.02" size="0.45 0.45 0.02" rgba="0.78 0.66 0.50 1"
      contype="1" conaffinity="1" friction="0.8 0.01 0.0005"/>
    <geom name="wall" class="visual" type="box" pos="-0.33 0 0.3" size="0.02 0.6 0.4" rgba="0.62 0.66 0.70 1"/>
    <geom name="target" class="visual" type="box" pos="{TARGET_XY[0]} {TARGET_XY[1]} 0.0004"
      size="{TARGET_HALF} {TARGET_HALF} 0.0004" rgba="0.15 0.75 0.3 1"/>
    <camera name="front" pos="{' '.join(map(str, front[0]))}" xyaxes="{_xyaxes(*front)}" fovy="50"/>
    <camera name="top" pos="{' '.join(map(str, top[0]))}" xyaxes="{_xyaxes(*top)}" fovy="50"/>
{arm_body}    <body name="cube" pos="0.14 0 {CUBE_SIZE / 2}">
      <freejoint name="cube"/>
      <geom name="cube" type="box" size="{CUBE_SIZE / 2} {CUBE_SIZE / 2} {CUBE_SIZE / 2}" mass="{CUBE_MASS}"
        rgba="0.85 0.12 0.10 1" contype="1" conaffinity="1" friction="1.0 0.02 0.001" condim="4"/>
    </body>
  </worldbody>
  <actuator>
{acts}
  </actuator>
</mujoco>
"""


def sample_cube_pose(rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A cube start (x, y) in the annular sector in front of the arm, away from the target zone, and a yaw."""
    while True:
        r = np.sqrt(rng.uniform(CUBE_R[0] ** 2, CUBE_R[1] ** 2))  # uniform over the area, not the radius
        az = rng.uniform(-CUBE_AZIMUTH, CUBE_AZIMUTH)
        xy = np.array([r * np.cos(az), r * np.sin(az)])
        if np.max(np.abs(xy - TARGET_XY)) > TARGET_CLEARANCE:
            return xy, float(rng.uniform(0.0, np.pi / 2))


class World:
    """One MuJoCo world: physics stepped on demand, cameras rendered on demand (no threads here)."""

    def __init__(self, cameras: tuple[str, ...] = ("front", "wrist"), width: int = 320, height: int = 240,
                 seed: int = 0, antialias: bool = False, arm: str = "koch"):
        unknown = set(cameras) - set(CAMERAS)
        if unknown:
            raise ValueError(f"unknown cameras {sorted(unknown)}; the world has {CAMERAS}")
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r}; the world has {sorted(ARMS)}")
        self.arm = ARMS[arm]  # the arm's ranges and home pose: use these, not the Koch's module constants
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(arm))
        self.data = mujoco.MjData(self.model)
        self.cameras = tuple(cameras)
        m = self.model
        self._qadr = np.array([m.jnt_qposadr[m.joint(j).id] for j in JOINTS])
        self._vadr = np.array([m.jnt_dofadr[m.joint(j).id] for j in JOINTS])
        self._cube_q = m.jnt_qposadr[m.joint("cube").id]
        self._cube_v = m.jnt_dofadr[m.joint("cube").id]
        self._cube_geom = m.geom("cube").id
        self._table_geom = m.geom("table").id
        gripper_bodies = {m.body(n).id for n in ("gripper", "jaw")}
        self._gripper_geoms = {g for g in range(m.ngeom) if m.geom_bodyid[g] in gripper_bodies}
        self._renderer: mujoco.Renderer | None = None
        if self.cameras:
            m.vis.quality.offsamples = 4 if antialias else 0  # 4x MSAA halves the frame rate on llvmpipe
            self._renderer = mujoco.Renderer(m, height, width)
            flags = self._renderer.scene.flags  # speed: no shadows, reflections or skybox on llvmpipe
            flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
            flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
            flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = 0
            _release_gl_context()
        self._gain = m.actuator_gainprm[:, 0].copy()  # kept to turn actuators back on after set_torque(False)
        self._bias = m.actuator_biasprm[:, :3].copy()
        self._rng = np.random.default_rng(seed)
        self.reset(seed)

    # -- episode ---------------------------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        """Arm at its home pose (targets too), cube at a random start on the table; seed=None continues the RNG."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        d.qpos[self._qadr] = self.arm.home_q
        d.ctrl[:] = self.arm.home_q
        xy, yaw = sample_cube_pose(self._rng)
        d.qpos[self._cube_q:self._cube_q + 3] = [xy[0], xy[1], CUBE_SIZE / 2]
        d.qpos[self._cube_q + 3:self._cube_q + 7] = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        mujoco.mj_forward(m, d)
        self.cube_start = self.cube_pose()

    def set_joint_targets(self, q: np.ndarray) -> None:
        """Servo goals for the six joints, radians (gripper: jaw angle, 0 closed); clipped to the joint ranges."""
        q = np.asarray(q, dtype=float)
        if q.shape != (6,):
            raise ValueError(f"expected 6 joint targets, got shape {q.shape}")
        self.data.ctrl[:] = np.clip(q, self.arm.joint_ranges[:, 0], self.arm.joint_ranges[:, 1])

    def set_torque(self, enabled: np.ndarray) -> None:
        """Per joint: True = the servo holds its target, False = limp (torque off: only gravity and friction)."""
        on = np.asarray(enabled, dtype=bool)
        m = self.model
        m.actuator_gainprm[:, 0] = np.where(on, self._gain, 0.0)
        m.actuator_biasprm[:, :3] = np.where(on[:, None], self._bias, 0.0)

    def joint_targets(self) -> np.ndarray:
        return self.data.ctrl.copy()

    def joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position rad, velocity rad/s, actuator torque N*m) of the six joints."""
        d = self.data
        return d.qpos[self._qadr].copy(), d.qvel[self._vadr].copy(), d.actuator_force.copy()

    def step(self, dt: float) -> None:
        """Advance physics by dt seconds (rounded to whole TIMESTEP substeps, at least one)."""
        mujoco.mj_step(self.model, self.data, nstep=max(1, round(dt / TIMESTEP)))

    @property
    def time(self) -> float:
        return float(self.data.time)

    # -- observations ----------------------------------------------------------------------------------------
    def render(self, camera: str) -> np.ndarray:
        """HxWx3 uint8 RGB image from one of the cameras given at construction."""
        if self._renderer is None or camera not in self.cameras:
            raise ValueError(f"camera {camera!r} not enabled; enabled: {self.cameras}")
        self._renderer.update_scene(self.data, camera=camera)
        try:
            return self._renderer.render()
        finally:
            _release_gl_context()

    def cube_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """(position xyz m, quaternion wxyz) of the cube."""
        q = self.data.qpos[self._cube_q:self._cube_q + 7]
        return q[:3].copy(), q[3:].copy()

    def target_pose(self) -> tuple[np.ndarray, float]:
        """(centre xyz m on the table, half side m) of the target zone."""
        return np.array([TARGET_XY[0], TARGET_XY[1], 0.0]), TARGET_HALF

    def cube_touching_gripper(self) -> bool:
        d = self.data
        for c in d.contact[:d.ncon]:
            pair = {int(c.geom1), int(c.geom2)}
            if self._cube_geom in pair and pair & self._gripper_geoms:
                return True
        return False

    def success(self) -> bool:
        """Cube centre inside the target zone, resting on the table, and let go of (no gripper contact)."""
        pos, _ = self.cube_pose()
        vel = self.data.qvel[self._cube_v:self._cube_v + 3]
        inside = bool(np.all(np.abs(pos[:2] - TARGET_XY) <= TARGET_HALF))
        resting = pos[2] < CUBE_SIZE / 2 + 0.004 and float(np.linalg.norm(vel)) < 0.02
        return inside and resting and not self.cube_touching_gripper()

    def failure_reason(self) -> str:
        """Why the task is not solved, in plain words for an evaluation's note; "" when it is."""
        if self.success():
            return ""
        pos, _ = self.cube_pose()
        outside = float(np.max(np.abs(pos[:2] - TARGET_XY))) - TARGET_HALF
        if self.cube_touching_gripper() and pos[2] > CUBE_SIZE / 2 + 0.005:
            return "cube still held"
        if float(np.linalg.norm(pos[:2] - self.cube_start[0][:2])) < 0.01:
            return "cube not picked up"
        if outside <= 0:
            return "cube in the zone but not let go or still moving"
        return f"cube left {100 * outside:.1f} cm outside the zone"

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
