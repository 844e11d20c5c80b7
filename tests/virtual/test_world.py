"""The MuJoCo world: servo-like joints, cube placement, cameras that see the scene, the success check."""

import mujoco
import numpy as np
import pytest

from hardware.virtual.world import (
    CUBE_AZIMUTH,
    CUBE_R,
    CUBE_SIZE,
    GRIPPER_OPEN,
    HOME_Q,
    JOINT_RANGES,
    JOINTS,
    TARGET_CLEARANCE,
    TARGET_HALF,
    TARGET_XY,
    World,
)


def red_mask(img: np.ndarray) -> np.ndarray:
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (r > 60) & (r > 2.5 * g) & (r > 2.5 * b)


def centroid(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    return np.array([rows.mean(), cols.mean()])


def place_cube(world: World, x: float, y: float, z: float = CUBE_SIZE / 2) -> None:
    a = world._cube_q
    world.data.qpos[a:a + 7] = [x, y, z, 1, 0, 0, 0]
    world.data.qvel[world._cube_v:world._cube_v + 6] = 0
    mujoco.mj_forward(world.model, world.data)


@pytest.fixture(scope="module")
def world():
    w = World(cameras=("front", "wrist"))
    yield w
    w.close()


@pytest.fixture(scope="module")
def blind():
    return World(cameras=())


def test_model_has_koch_joints_in_order(blind):
    m = blind.model
    assert [m.actuator(i).name for i in range(m.nu)] == list(JOINTS)
    assert [m.joint(j).type for j in JOINTS] == [mujoco.mjtJoint.mjJNT_HINGE] * 6


@pytest.mark.parametrize("target", [
    [0.6, 0.3, 0.2, 1.2, 0.8, 0.3],
    [-0.8, -0.3, 0.6, 1.5, -1.2, GRIPPER_OPEN],
    [0.0, 0.2, -0.5, 0.4, 2.0, 0.0],
])
def test_arm_reaches_commanded_targets(blind, target):
    blind.reset(0)
    q0, _, _ = blind.joint_state()
    assert np.max(np.abs(q0 - np.array(target))) > 0.3  # the test moves the arm
    blind.set_joint_targets(np.array(target))
    blind.step(2.0)
    q, qd, tau = blind.joint_state()
    np.testing.assert_allclose(q, target, atol=0.03)
    assert np.all(np.abs(qd) < 0.05)
    assert np.all(np.abs(tau) <= blind.model.actuator_forcerange[:, 1] + 1e-9)


def test_targets_are_clipped_to_joint_ranges(blind):
    blind.reset(0)
    blind.set_joint_targets(np.full(6, 10.0))
    np.testing.assert_allclose(blind.joint_targets(), JOINT_RANGES[:, 1])
    with pytest.raises(ValueError):
        blind.set_joint_targets(np.zeros(5))


def test_step_advances_whole_substeps(blind):
    blind.reset(0)
    blind.step(0.1)
    assert blind.time == pytest.approx(0.1)
    blind.step(0.0)  # at least one substep
    assert blind.time == pytest.approx(0.1 + blind.model.opt.timestep)


def test_reset_puts_arm_home_and_cube_on_table(blind):
    blind.set_joint_targets(np.zeros(6))
    blind.step(0.5)
    blind.reset(3)
    q, qd, _ = blind.joint_state()
    np.testing.assert_allclose(q, HOME_Q)
    assert blind.time == 0.0
    pos, quat = blind.cube_pose()
    assert pos[2] == pytest.approx(CUBE_SIZE / 2)
    blind.step(0.5)  # the cube rests where it was put
    np.testing.assert_allclose(blind.cube_pose()[0], pos, atol=1e-3)


def test_cube_start_varies_with_seed_over_the_stated_area(blind):
    starts = []
    for seed in range(200):
        blind.reset(seed)
        starts.append(blind.cube_pose()[0])
    xy = np.array(starts)[:, :2]
    r, az = np.hypot(xy[:, 0], xy[:, 1]), np.arctan2(xy[:, 1], xy[:, 0])
    assert np.all((r >= CUBE_R[0] - 1e-9) & (r <= CUBE_R[1] + 1e-9))
    assert np.all(np.abs(az) <= CUBE_AZIMUTH + 1e-9)
    assert np.all(np.max(np.abs(xy - TARGET_XY), axis=1) > TARGET_CLEARANCE)
    assert np.ptp(xy[:, 0]) > 0.12 and np.ptp(xy[:, 1]) > 0.25  # spread out: a camera is needed
    assert len({tuple(p.round(6)) for p in xy}) == 200
    blind.reset(7)
    again = blind.cube_pose()
    np.testing.assert_array_equal(again[0], starts[7])


def test_render_shapes_and_unknown_camera(world):
    world.reset(0)
    for cam in ("front", "wrist"):
        img = world.render(cam)
        assert img.shape == (240, 320, 3) and img.dtype == np.uint8
        assert img.std() > 10  # not a blank frame
    with pytest.raises(ValueError):
        world.render("top")  # not enabled in this world
    with pytest.raises(ValueError):
        World(cameras=("side",))


def test_front_camera_sees_cube_and_target(world):
    world.reset(0)
    img = world.render("front")
    r, g, b = (img[..., i].astype(int) for i in range(3))
    assert ((g > 100) & (g > 1.5 * r) & (g > 1.5 * b)).sum() > 200  # the green target zone
    seen = red_mask(img)
    assert seen.sum() > 30
    place_cube(world, 0.5, 0.0, -0.5)  # under the table: gone from view
    assert red_mask(world.render("front")).sum() == 0
    place_cube(world, 0.16, -0.10)
    left = centroid(red_mask(world.render("front")))
    place_cube(world, 0.16, 0.10)
    right = centroid(red_mask(world.render("front")))
    assert right[1] - left[1] > 60  # the camera faces the arm: robot's +y is the image's right


def test_wrist_camera_moves_with_gripper(world):
    world.reset(0)
    before = world.render("wrist").astype(int)
    front_before = world.render("front").astype(int)
    world.set_joint_targets(HOME_Q + np.array([0.6, 0, 0, 0, 0, 0]))
    world.step(1.0)
    after = world.render("wrist").astype(int)
    assert np.abs(after - before).mean() > 10
    assert np.abs(world.render("front").astype(int) - front_before).mean() < np.abs(after - before).mean()


def test_success_only_with_cube_resting_in_zone_and_released(blind):
    blind.reset(0)
    assert not blind.success()
    place_cube(blind, *TARGET_XY)
    blind.step(0.3)
    assert blind.success()
    place_cube(blind, TARGET_XY[0] + TARGET_HALF + 0.01, TARGET_XY[1])  # just outside
    blind.step(0.3)
    assert not blind.success()
    place_cube(blind, *TARGET_XY, z=0.08)  # falling through the zone is not resting in it
    blind.step(0.02)
    assert not blind.success()


def test_failure_reason_says_what_went_wrong(blind):
    blind.reset(3)
    assert blind.failure_reason() == "cube not picked up"
    place_cube(blind, TARGET_XY[0] + TARGET_HALF + 0.02, TARGET_XY[1])
    blind.step(0.3)
    assert blind.failure_reason() == "cube left 2.0 cm outside the zone"
    place_cube(blind, *TARGET_XY, z=0.08)  # still falling into the zone
    blind.step(0.02)
    assert blind.failure_reason() == "cube in the zone but not let go or still moving"
    blind.step(0.5)
    assert blind.success() and blind.failure_reason() == ""
