"""The SO-101 in the virtual world: kinematics and limits as the public model has them, a world built around it
that the cameras see, a demonstrator that solves the task on it, and the Koch's world left as it was."""

import hashlib

import mujoco
import numpy as np
import pytest

from hardware.virtual import so101
from hardware.virtual.demonstrator import Demonstrator, run_episode
from hardware.virtual.task import PickPlaceTask
from hardware.virtual.world import ARMS, CUBE_SIZE, JOINTS, TARGET_XY, World, build_mjcf

from .test_world import centroid, red_mask

# The kinematic chain of TheRobotStudio/SO-ARM100 Simulation/SO101/so101_new_calib.xml (commit
# 1c3daeb0fb0293279946f13728e1d5ce12b190ac): its bodies' pos/quat, joints and the gripperframe site, verbatim;
# meshes, inertias and actuators left out.
PUBLIC_CHAIN = """
<mujoco><compiler angle="radian" autolimits="true"/><worldbody>
 <body name="base" pos="0 0 0" quat="1 0 0 0">
  <body name="shoulder" pos="0.0388353 -8.97657e-09 0.0624" quat="3.56167e-16 1.22818e-15 -1 -4.14635e-16">
   <joint axis="0 0 1" name="shoulder_pan" range="-1.9198621771937616 1.9198621771937634"/>
   <geom type="sphere" size="0.005" mass="0.1"/>
   <body name="upper_arm" pos="-0.0303992 -0.0182778 -0.0542" quat="0.5 -0.5 -0.5 -0.5">
    <joint axis="0 0 1" name="shoulder_lift" range="-1.7453292519943224 1.7453292519943366"/>
    <geom type="sphere" size="0.005" mass="0.1"/>
    <body name="lower_arm" pos="-0.11257 -0.028 1.73763e-16" quat="0.707107 -5.98613e-17 -2.58051e-17 0.707107">
     <joint axis="0 0 1" name="elbow_flex" range="-1.69 1.69"/>
     <geom type="sphere" size="0.005" mass="0.1"/>
     <body name="wrist" pos="-0.1349 0.0052 3.62355e-17" quat="0.707107 9.58722e-16 -7.51313e-16 -0.707107">
      <joint axis="0 0 1" name="wrist_flex" range="-1.6580628494556928 1.6580627293335335"/>
      <geom type="sphere" size="0.005" mass="0.1"/>
      <body name="gripper" pos="5.55112e-17 -0.0611 0.0181" quat="0.0172091 -0.0172091 0.706897 0.706897">
       <joint axis="0 0 1" name="wrist_roll" range="-2.7438472969992493 2.841206309382605"/>
       <geom type="sphere" size="0.005" mass="0.1"/>
       <site name="gripperframe" pos="-0.0079 -0.000218121 -0.0981274"/>
       <body name="moving_jaw_so101_v1" pos="0.0202 0.0188 -0.0234" quat="0.707107 0.707107 -1.85362e-08 1.85362e-08">
        <joint axis="0 0 1" name="gripper" range="-0.17453297762778586 1.7453291995659765"/>
        <geom type="sphere" size="0.005" mass="0.1"/>
       </body>
      </body>
     </body>
    </body>
   </body>
  </body>
 </body>
</worldbody></mujoco>
"""
PAN_X = 0.0388353  # the public base's origin lies this far behind shoulder_pan's axis, which is ours


@pytest.fixture(scope="module")
def public():
    return mujoco.MjModel.from_xml_string(PUBLIC_CHAIN)


@pytest.fixture(scope="module")
def blind():
    w = World(cameras=(), arm="so101")
    yield w
    w.close()


def _qadr(m: mujoco.MjModel) -> list[int]:
    return [m.jnt_qposadr[m.joint(j).id] for j in JOINTS]


def test_world_builds_with_the_so101_joints_in_order(blind):
    m = blind.model
    assert blind.arm is ARMS["so101"]
    assert [m.actuator(i).name for i in range(m.nu)] == list(JOINTS)
    assert [m.joint(j).type for j in JOINTS] == [mujoco.mjtJoint.mjJNT_HINGE] * 6
    with pytest.raises(ValueError, match="unknown arm"):
        World(cameras=(), arm="so100")


def test_joint_limits_are_the_public_models(blind, public):
    np.testing.assert_allclose(so101.JOINT_RANGES, [public.jnt_range[public.joint(j).id] for j in JOINTS],
                               atol=1e-5)
    m = blind.model
    np.testing.assert_allclose([m.jnt_range[m.joint(j).id] for j in JOINTS], so101.JOINT_RANGES)
    np.testing.assert_allclose(m.actuator_ctrlrange, so101.JOINT_RANGES)
    blind.set_joint_targets(np.full(6, 10.0))
    np.testing.assert_allclose(blind.joint_targets(), so101.JOINT_RANGES[:, 1])
    spans = [so101.MECHANICS[j][0] for j in JOINTS]  # the emulated servos' travel: the same ranges, in degrees
    np.testing.assert_allclose(spans, np.degrees(np.ptp(so101.JOINT_RANGES, axis=1)))
    assert all(2048 - s * 4096 / 720 > 0 and 2048 + s * 4096 / 720 < 4096 for s in spans)  # no encoder wrap


def test_link_lengths_and_axes_at_zero_are_the_public_models(blind, public):
    d, pd = mujoco.MjData(blind.model), mujoco.MjData(public)
    mujoco.mj_kinematics(blind.model, d)
    mujoco.mj_kinematics(public, pd)
    ours = {j: d.xanchor[blind.model.joint(j).id] + [PAN_X, 0, 0] for j in JOINTS}
    theirs = {j: pd.xanchor[public.joint(j).id] for j in JOINTS}
    for a, b in zip(JOINTS[1:4], JOINTS[2:5], strict=True):  # lift->elbow->wrist_flex->wrist_roll: in the plane
        np.testing.assert_allclose(np.linalg.norm((ours[b] - ours[a])[[0, 2]]),
                                   np.linalg.norm((theirs[b] - theirs[a])[[0, 2]]), atol=2e-4)
    lengths = so101.link_lengths()
    assert lengths["upper_arm"] == pytest.approx(0.116, abs=1e-3)
    assert lengths["forearm"] == pytest.approx(0.135, abs=1e-3)
    assert lengths["shoulder_height"] == pytest.approx(theirs["shoulder_lift"][2], abs=1e-4)
    for j in JOINTS[:5]:  # the jaw's axis is tilted 2.8 deg in the public model; ours is not
        np.testing.assert_allclose(d.xaxis[blind.model.joint(j).id], pd.xaxis[public.joint(j).id], atol=1e-4)


def test_fingertip_follows_the_public_model_at_any_pose(blind, public):
    d, pd = mujoco.MjData(blind.model), mujoco.MjData(public)
    tip, their_tip = blind.model.site("fingertip").id, public.site("gripperframe").id
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.uniform(so101.JOINT_RANGES[:, 0], so101.JOINT_RANGES[:, 1])
        d.qpos[_qadr(blind.model)] = q
        pd.qpos[_qadr(public)] = q
        mujoco.mj_kinematics(blind.model, d)
        mujoco.mj_kinematics(public, pd)
        np.testing.assert_allclose(d.site_xpos[tip] + [PAN_X, 0, 0], pd.site_xpos[their_tip], atol=5e-4)


def test_koch_world_is_unchanged():
    # the Koch's MJCF as it was before the SO-101 came (hashed at commit fb6bf8f)
    xml = build_mjcf()
    assert hashlib.sha256(xml.encode()).hexdigest() == (
        "808a376fa8b3dd6ce121b7251f47bfa6befdb0fbe788995faf32dbda4913121c")
    assert build_mjcf("koch") == xml
    assert World(cameras=()).arm is ARMS["koch"]


@pytest.mark.parametrize("target", [[0.6, 0.3, 0.2, 1.2, 0.8, 0.3], [-0.8, -0.3, 0.6, -0.5, -1.2, 1.1]])
def test_arm_reaches_commanded_targets(blind, target):
    blind.reset(0)
    blind.set_joint_targets(np.array(target))
    blind.step(2.0)
    q, qd, tau = blind.joint_state()
    np.testing.assert_allclose(q, target, atol=0.03)
    assert np.all(np.abs(qd) < 0.05)
    assert np.all(np.abs(tau) <= blind.model.actuator_forcerange[:, 1] + 1e-9)


def test_home_clears_the_table_and_the_front_camera_sees_cube_and_zone():
    w = World(cameras=("front", "top", "wrist"), arm="so101")
    try:
        w.reset(0)
        np.testing.assert_allclose(w.joint_state()[0], so101.HOME_Q)
        tip = w.data.site_xpos[w.model.site("fingertip").id]
        assert tip[2] > 0.04
        for seed in range(12):  # the front camera sees every start; the top one nearly all (the gripper hides ~1%)
            w.reset(seed)
            assert red_mask(w.render("front")).sum() > 300
        img = w.render("front")
        r, g, b = (img[..., i].astype(int) for i in range(3))
        assert ((g > 100) & (g > 1.5 * r) & (g > 1.5 * b)).sum() > 200
        assert red_mask(w.render("top")).sum() > 30
    finally:
        w.close()


def test_solves_a_handful_of_seeds_and_lifts_the_cube_as_the_wrist_camera_sees():
    task = PickPlaceTask(World(cameras=("front", "wrist"), arm="so101"))
    demo = Demonstrator(task, seed=3)
    assert demo.ik.ranges is so101.JOINT_RANGES
    task.reset(11)
    w = task.world
    start_px = centroid(red_mask(w.render("front")))
    demo.reset(w.cube_pose(), w.target_pose())
    assert demo.max_ik_error < 1e-3
    lifted = False
    while task.elapsed < demo.duration + 0.5:
        task.step(0.02, demo.action(task.elapsed))
        if not lifted and w.cube_pose()[0][2] > CUBE_SIZE / 2 + 0.03:
            lifted = True
            assert w.cube_touching_gripper()
            assert w.joint_state()[0][5] > 0.3  # the jaw stopped on the cube, not closed on air
            assert red_mask(w.render("wrist")).sum() > 2000  # the held cube fills the wrist camera
    assert lifted and task.success()
    assert np.abs(w.cube_pose()[0][:2] - TARGET_XY).max() < 0.035
    assert np.linalg.norm(centroid(red_mask(w.render("front"))) - start_px) > 20
    blind_task = PickPlaceTask(World(cameras=(), arm="so101"))
    demo = Demonstrator(blind_task, seed=0)
    assert sum(run_episode(blind_task, demo, s) for s in (0, 1, 2, 1000000, 1000001)) == 5


def test_sim_demo_cli_on_the_so101_ends_with_the_success_line(capsys):
    from robotapp.cli.main import main

    assert main(["sim", "demo", "--rig", "virtual-so101", "--episodes", "2", "--seed", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "success: 2/2" and out[0].startswith("episode 1/2 (seed 5)")  # through its emulated servos


def test_a_rig_for_an_arm_without_emulated_servos_is_refused():
    from hardware.virtual.sim import SimRig

    with pytest.raises(ValueError, match="no emulated servos for the 'ur5' arm yet"):
        SimRig(cameras=(), arm="ur5", transport="inprocess")


def test_the_render_process_renders_the_so101():
    import time

    from hardware.virtual.render_process import RenderProcess

    got = {}
    rp = RenderProcess(("front",), 160, 120, deliver=lambda n, img, _t: got.setdefault(n, img.copy()),
                       on_drop=lambda _n: None, on_error=lambda _why: None, arm="so101")
    w = World(cameras=("front",), width=160, height=120, arm="so101")
    try:
        rp.wait_ready()
        w.reset(3)
        rp.request(w.data.qpos.copy(), ("front",), time.monotonic())
        rp.flush()
        deadline = time.monotonic() + 10
        while "front" not in got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert np.abs(got["front"].astype(int) - w.render("front").astype(int)).mean() < 1.0
    finally:
        rp.close()
        w.close()
