"""The SO-101 (TheRobotStudio's SO-ARM100 successor) for the virtual world: its kinematics and joint limits from
the public model, drawn with primitive geoms in the style of world.py's Koch arm.

Source of every number marked [SO101]: TheRobotStudio/SO-ARM100, Simulation/SO101/so101_new_calib.xml
(commit 1c3daeb0fb0293279946f13728e1d5ce12b190ac). Its body frames are rotated every which way; loaded with
MuJoCo at q = 0 they give these joint anchors and axes in the base frame (x forward, z up), which is what is
kept here, with every body frame aligned to the world at q = 0 (as the Koch's are):
  shoulder_pan   (0.0388, 0, 0.0624)  axis -z        shoulder_lift (0.0692, 0, 0.1166)  axis +y
  elbow_flex     (0.0972, 0, 0.2292)  axis +y        wrist_flex    (0.2321, 0, 0.2344)  axis +y
  wrist_roll     (0.2932, 0, 0.2344)  axis -x        gripper (jaw) (0.3166, 0.018, 0.2555) axis -y
  gripperframe (the fingertip site)   (0.3914, 0, 0.2265)
The anchors' y along a +-y axis does not matter, so the arm is planar here. Joint zeros and signs are the public
model's (lerobot's new calibration: 0 = the middle of each range): all zeros = upper arm up (14 deg forward),
forearm and gripper forward, as on the Koch. Unlike the Koch, shoulder_pan + turns towards -y, wrist_roll's axis
points backwards and the jaws open in the vertical plane at wrist_roll = 0.

This module knows nothing of the scene: world.py puts this arm on its table (shoulder_pan's axis at the origin,
where the Koch's is), so the cube, zone and cameras stay the same for both arms.
"""

from __future__ import annotations

import numpy as np

# [SO101] joint ranges (rad), the actuators' ctrlrange, in JOINTS order
JOINT_RANGES = np.array([[-1.91986, 1.91986], [-1.74533, 1.74533], [-1.69, 1.69], [-1.65806, 1.65806],
                         [-2.74385, 2.84121], [-0.17453, 1.74533]])
# [SO101] offsets (forward x, up z) in metres between consecutive joint anchors at q = 0
BASE_TO_PAN = (0.0388, 0.0624)  # base origin -> shoulder_pan frame
PAN_TO_LIFT = (0.0304, 0.0542)  # shoulder_pan frame -> shoulder_lift axis (0.1166 above the table)
UPPER_ARM = (0.0280, 0.1126)  # shoulder_lift -> elbow_flex: 0.116 m, leaning 14 deg forward at q = 0
FOREARM = (0.1349, 0.0052)  # elbow_flex -> wrist_flex: 0.135 m
WRIST_TO_ROLL = 0.0611  # wrist_flex -> wrist_roll frame, along the roll axis
FINGERTIP = (0.0982, -0.0079)  # wrist_roll frame -> gripperframe site
JAW_HINGE = (0.0234, 0.0211)  # wrist_roll frame -> the moving jaw's hinge

# Ours, not the public model's: the jaws as flat pads sized for the task's cube (see _jaw_pad)
GRASP_X = 0.075  # grasp site along the roll axis: a held cube's centre, 2.3 cm short of the fingertip
FIXED_JAW_Z = -0.020  # inner face of the fixed (lower) jaw, gripper frame
GRIPPER_GRASP = 0.55  # jaw angle at which the moving pad lies flat on a 3 cm cube
GRIPPER_OPEN, GRIPPER_CLOSED = GRIPPER_GRASP + 0.6, 0.0
# folded up and back, gripper down, fingertips 5 cm above the table: the front camera sees every cube start; the
# top camera loses ~1% of them behind the gripper (the SO-101 is bigger than the Koch)
HOME_Q = np.array([0.0, -1.7, 0.8, 1.55, 0.0, GRIPPER_OPEN])
# (kp N*m/rad, force limit N*m): STS3215 stalls near 3 N*m at 12 V (the public model's forcerange is 3.35);
# the gripper is weak on purpose, as lerobot limits its current.
SERVOS = ((30.0, 2.9), (40.0, 2.9), (30.0, 2.9), (15.0, 2.9), (8.0, 2.9), (1.5, 0.35))
ARMATURE = 0.028  # [SO101] sts3215 class: the gearbox's reflected inertia
# For the emulated STS3215s behind this arm (hardware/virtual/arms.py's Mechanics, KOCH_MECHANICS' shape):
# each joint's mechanical span is its range (so one joint radian is one servo radian, as sim.JointMap assumes)
# and its middle sits at encoder 2048, where lerobot's SO-101 calibration puts it (Homing_Offset).
MECHANICS = {name: (float(np.degrees(hi - lo)), 2048) for name, (lo, hi) in zip(
    ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"), JOINT_RANGES,
    strict=True)}


def link_lengths() -> dict[str, float]:
    """Joint-axis-to-joint-axis distances (m), for tests and the README's numbers."""
    return {"upper_arm": float(np.hypot(*UPPER_ARM)), "forearm": float(np.hypot(*FOREARM)),
            "wrist_to_roll": WRIST_TO_ROLL, "shoulder_height": BASE_TO_PAN[1] + PAN_TO_LIFT[1]}


def _jaw_pad(cube_size: float) -> tuple[str, str]:
    """Pad pose in the jaw frame (gripper = 0): turned back by GRIPPER_GRASP from where it lies flat on the cube
    (the hinge axis is -y, so a positive angle lifts the jaw open)."""
    hinge = np.array(JAW_HINGE)
    pad = np.array([GRASP_X, FIXED_JAW_Z + cube_size + 0.003])  # (x, z) of the pad centre at the grasp angle
    a = GRIPPER_GRASP  # closing = turning about +y by a: (x, z) -> (x cos a + z sin a, -x sin a + z cos a)
    rel = pad - hinge
    p = hinge + np.array([np.cos(a) * rel[0] + np.sin(a) * rel[1], -np.sin(a) * rel[0] + np.cos(a) * rel[1]])
    return f"{p[0]:.4f} 0 {p[1]:.4f}", f"0 1 0 {a:.4f}"


def arm_xml(cube_size: float, rng: dict[str, str]) -> str:
    """The arm's bodies (worldbody children, shoulder_pan's axis at the origin); `rng` maps joint -> "lo hi"."""
    pad_pos, pad_axisangle = _jaw_pad(cube_size)
    base_x = -BASE_TO_PAN[0]
    ux, uz = UPPER_ARM
    fx, fz = FOREARM
    tilt = np.radians(25.0)  # wrist camera beside the jaws, pitched towards them (the Koch's camera, rolled)
    cam_axes = f"0 0 -1 {np.sin(tilt):.4f} {-np.cos(tilt):.4f} 0"
    j = f'armature="{ARMATURE:g}" damping="0.1"'
    return f"""    <geom name="base" class="servo" pos="{base_x + 0.025:.4f} 0 0.03" size="0.022 0.02 0.03" mass="0.15"/>
    <geom name="base_plate" type="box" pos="{base_x + 0.015:.4f} 0 0.002" size="0.05 0.045 0.002" mass="0.1"/>
    <body name="shoulder" pos="0 0 {BASE_TO_PAN[1]}">
      <joint name="shoulder_pan" axis="0 0 -1" range="{rng['shoulder_pan']}" {j}/>
      <geom class="servo" pos="0.012 0 0.02" size="0.02 0.024 0.017" mass="0.1"/>
      <body name="upper_arm" pos="{PAN_TO_LIFT[0]} 0 {PAN_TO_LIFT[1]}">
        <joint name="shoulder_lift" axis="0 1 0" range="{rng['shoulder_lift']}" {j}/>
        <geom type="capsule" fromto="{0.1 * ux:.4f} 0 {0.1 * uz:.4f} {0.85 * ux:.4f} 0 {0.85 * uz:.4f}" size="0.014"
          mass="0.07"/>
        <geom class="servo" pos="{ux} 0 {uz}" size="0.017 0.022 0.012" mass="0.03"/>
        <body name="forearm" pos="{ux} 0 {uz}">
          <joint name="elbow_flex" axis="0 1 0" range="{rng['elbow_flex']}" {j}/>
          <geom type="capsule" fromto="0.015 0 0 {fx - 0.02:.4f} 0 {fz}" size="0.012" mass="0.07"/>
          <geom class="servo" pos="{fx} 0 {fz}" size="0.012 0.022 0.017" mass="0.03"/>
          <body name="wrist" pos="{fx} 0 {fz}">
            <joint name="wrist_flex" axis="0 1 0" range="{rng['wrist_flex']}" {j}/>
            <geom type="capsule" fromto="0.012 0 0 {WRIST_TO_ROLL - 0.03:.4f} 0 0" size="0.011" mass="0.05"/>
            <body name="gripper" pos="{WRIST_TO_ROLL} 0 0">
              <joint name="wrist_roll" axis="-1 0 0" range="{rng['wrist_roll']}" {j}/>
              <geom name="palm" class="servo" pos="0.004 0 0" size="0.017 0.018 0.024" mass="0.06"/>
              <geom name="fixed_jaw" class="pad" pos="{GRASP_X - 0.002} 0 {FIXED_JAW_Z - 0.003}"
                size="0.016 0.011 0.003"/>
              <geom class="visual" type="box" pos="0.038 0 {FIXED_JAW_Z - 0.004}" size="0.018 0.011 0.004"
                rgba="0.92 0.92 0.90 1"/>
              <site name="grasp" pos="{GRASP_X} 0 {FIXED_JAW_Z + cube_size / 2}" quat="0.7071068 0.7071068 0 0"
                size="0.004"/>
              <site name="fingertip" pos="{FINGERTIP[0]} 0 {FINGERTIP[1]}" size="0.003"/>
              <camera name="wrist" pos="0.0 -0.045 -0.006" xyaxes="{cam_axes}" fovy="75"/>
              <body name="jaw" pos="0 0 0">
                <joint name="gripper" axis="0 -1 0" pos="{JAW_HINGE[0]} 0 {JAW_HINGE[1]}" range="{rng['gripper']}"
                  {j}/>
                <geom class="visual" type="cylinder" pos="{JAW_HINGE[0]} 0 {JAW_HINGE[1]}" size="0.006 0.012"
                  quat="0.7071068 0.7071068 0 0" rgba="0.12 0.12 0.13 1"/>
                <geom name="moving_jaw" class="pad" pos="{pad_pos}" axisangle="{pad_axisangle}"
                  size="0.016 0.010 0.003"/>
                <geom class="visual" type="capsule" fromto="{JAW_HINGE[0]} 0 {JAW_HINGE[1]} {pad_pos}" size="0.003"
                  rgba="0.15 0.15 0.16 1"/>
              </body>
            </body>
          </body>
        </body>
      </body>
    </body>
"""
