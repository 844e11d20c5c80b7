"""The scripted demonstrator: a joint-space plan from the cube's start pose that really picks and places."""

import numpy as np
import pytest

from hardware.virtual.demonstrator import Demonstrator, evaluate_demonstrator, run_episode
from hardware.virtual.task import PickPlaceTask
from hardware.virtual.world import HOME_Q, JOINT_RANGES, World

from .test_world import centroid, red_mask


@pytest.fixture(scope="module")
def task():
    return PickPlaceTask(World(cameras=()))


def test_solves_at_least_9_of_10_seeds():
    successes, n = evaluate_demonstrator(10, seed=1000)
    assert n == 10 and successes >= 9


def test_plan_is_smooth_in_range_and_starts_and_ends_at_home(task):
    task.reset(5)
    demo = Demonstrator(task, seed=0)
    demo.reset(task.world.cube_pose(), task.world.target_pose())
    assert 6.0 < demo.duration < task.timeout
    assert demo.max_ik_error < 1e-3
    ts = np.arange(0.0, demo.duration, 0.01)
    qs = np.array([demo.action(t) for t in ts])
    assert qs.shape == (len(ts), 6)
    np.testing.assert_allclose(qs[0], HOME_Q, atol=1e-6)
    np.testing.assert_allclose(demo.action(demo.duration + 5.0), HOME_Q, atol=1e-6)
    assert np.all(qs >= JOINT_RANGES[:, 0] - 1e-9) and np.all(qs <= JOINT_RANGES[:, 1] + 1e-9)
    speed = np.abs(np.diff(qs, axis=0)) / 0.01
    assert speed[:, :5].max() < 2.5  # rad/s: a hand, not a robot at full tilt
    assert qs[:, 5].min() < 0.05 and qs[:, 5].max() > 1.0  # the gripper closes and opens


def test_noise_is_seeded(task):
    task.reset(2)
    poses = task.world.cube_pose(), task.world.target_pose()
    plans = []
    for seed in (1, 1, 2):
        demo = Demonstrator(task, seed=seed)
        demo.reset(*poses)
        plans.append(np.array([demo.action(t) for t in np.arange(0, 6, 0.1)]))
    np.testing.assert_array_equal(plans[0], plans[1])
    assert np.abs(plans[0] - plans[2]).max() > 1e-3


def test_episode_grasps_lifts_and_places_as_the_front_camera_sees():
    task = PickPlaceTask(World(cameras=("front",)))
    demo = Demonstrator(task, seed=3)
    task.reset(11)
    w = task.world
    assert not task.success()
    start_px = centroid(red_mask(w.render("front")))
    demo.reset(w.cube_pose(), w.target_pose())
    lifted = False
    while task.elapsed < demo.duration + 0.5:
        task.step(0.02, demo.action(task.elapsed))
        if not lifted and w.cube_pose()[0][2] > 0.05:
            lifted = True
            assert w.cube_touching_gripper() and not task.success()
            assert w.joint_state()[0][5] > 0.3  # jaw stopped by the cube, not closed on air
            lifted_px = centroid(red_mask(w.render("front")))
            assert start_px[0] - lifted_px[0] > 10  # the cube rose in the image
    assert lifted
    assert task.success() and task.done()
    end_px = centroid(red_mask(w.render("front")))
    assert np.linalg.norm(end_px - start_px) > 20


def test_run_episode_and_task_timeout(task):
    assert run_episode(task, Demonstrator(task, seed=4), seed=21)
    task.reset(21)
    short = PickPlaceTask(task.world, timeout=1.0)
    short.reset(21)
    while not short.done():
        short.step(0.05)
    assert short.timed_out() and not short.success()
    assert short.elapsed == pytest.approx(1.0, abs=0.06)
