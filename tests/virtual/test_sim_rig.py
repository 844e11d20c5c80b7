"""The coupled virtual rig: dynamixel-sdk commands move the MuJoCo arm, the world's state comes back as servo
readings, the leader follows its input source, cameras render on the sim clock, and the demonstrator solves
the task through leader -> bus -> follower."""

import numpy as np
import pytest

from hardware.motors.tables import HW_OVERLOAD
from hardware.virtual.world import HOME_Q, JOINT_RANGES
from robotapp.cli.main import main
from robotapp.core.observation import rig_features
from robotapp.core.rig_opener import open_rig
from robotapp.terminal.sim_demo import run_demo_episode

from .test_world import centroid, red_mask


@pytest.fixture(scope="module")
def rig():
    rig = open_rig(cameras=("front",), realtime=False, seed=3, transport="pty")  # real ptys: any process opens them
    yield rig
    rig.close()


@pytest.fixture(autouse=True)
def fresh(rig):
    rig.sim.reset(3)
    rig.follower.torque(True)


def settle(rig, seconds: float, goals=None, dt: float = 0.02):
    for _ in range(int(round(seconds / dt))):
        if goals is not None:
            rig.follower.write_goals(goals)
        rig.sim.advance(dt)


def test_ports_are_real_ptys_and_rig_describes_its_features(rig):
    assert all(p.startswith("/dev/pts/") for p in rig.sim.ports.values())
    assert rig.follower.bus.port == rig.sim.ports["follower"]
    f = rig_features(rig)
    assert f["action"]["names"][0] == "shoulder_pan.pos" and f["observation.state"]["shape"] == [6]
    assert f["observation.images.front"] == {"dtype": "video", "shape": [240, 320, 3],
                                             "names": ["height", "width", "channels"]}


def test_follower_commanded_over_the_bus_reaches_the_angles_in_the_world(rig):
    start_world = rig.sim.follower_angles()
    goal = np.array([25.0, -15.0, 20.0, 30.0, -45.0, 60.0])  # degrees, gripper %
    settle(rig, 2.0, goal)
    reached = rig.follower.read_positions()  # Present_Position over dynamixel-sdk, from MuJoCo's joints
    np.testing.assert_allclose(reached[:5], goal[:5], atol=1.5)
    assert abs(reached[5] - goal[5]) < 3.0
    world = rig.sim.follower_angles()
    moved = np.degrees(world - start_world)
    assert np.all(np.abs(moved[:5]) > 5)  # the MuJoCo joints really turned, in the commanded directions
    # world degrees = calibrated degrees + the middle of each joint's mechanical range: same per joint
    offsets = np.degrees(world[:5]) - reached[:5]
    np.testing.assert_allclose(offsets, np.degrees(JOINT_RANGES[:5].mean(axis=1)), atol=1.5)


def test_present_velocity_and_current_come_from_the_world(rig):
    rig.follower.write_goals(rig.follower.read_positions() + np.array([0, 10, 0, 0, 0, 0.0]))
    rig.sim.advance(0.04)
    vel = rig.follower.bus.sync_read("Present_Velocity", ["shoulder_lift"])[0]
    assert vel != 0
    settle(rig, 1.0)
    load = rig.follower.bus.sync_read("Present_Load", ["shoulder_lift"])[0]  # XL430: load, holding the arm up
    assert load != 0


def test_torque_off_makes_the_arm_limp_and_a_fault_does_too(rig):
    before = rig.sim.follower_angles()
    rig.follower.torque(False)
    settle(rig, 1.0)
    assert np.abs(rig.sim.follower_angles() - before)[:4].max() > 0.05  # gravity folds it
    rig.sim.reset(3)
    rig.follower.torque(True)
    settle(rig, 0.5)
    held = rig.sim.follower_angles()
    rig.sim.follower.servo("shoulder_lift").raise_hardware_error(HW_OVERLOAD)  # Shutdown cuts torque
    settle(rig, 1.0)
    assert abs(rig.sim.follower_angles()[1] - held[1]) > 0.05
    assert rig.follower.bus.hardware_errors(["shoulder_lift"])["shoulder_lift"] & HW_OVERLOAD
    rig.follower.bus.reboot("shoulder_lift")  # as a user would after a fault: clears the latched error
    assert rig.follower.bus.hardware_errors(["shoulder_lift"]) == {}


def test_leader_follows_its_source_in_the_followers_units(rig):
    q = HOME_Q + np.array([0.3, 0.2, -0.2, -0.3, 0.5, -0.5])
    rig.sim.set_leader_source(lambda t: q)
    rig.sim.advance(0.02)
    rig.sim.set_leader_source(None)
    leader = rig.leader.read_positions()
    settle(rig, 2.0, leader)
    np.testing.assert_allclose(rig.sim.follower_angles()[:5], q[:5], atol=0.03)


def test_cameras_render_on_the_sim_clock(rig):
    cam = rig.cameras["front"]
    seq0 = cam.read_latest().seq
    settle(rig, 1.0)
    assert 29 <= cam.read_latest().seq - seq0 <= 31


def test_demonstrator_through_the_leader_picks_and_places_as_the_camera_sees(rig):
    from hardware.virtual.demonstrator import Demonstrator

    cam = rig.cameras["front"]
    rig.sim.reset(11)
    start = centroid(red_mask(cam.read_latest().image))
    ep = run_demo_episode(rig, Demonstrator(rig.sim.world, seed=3), seed=11)
    assert ep.success
    end = centroid(red_mask(cam.read_latest().image))
    assert np.linalg.norm(end - start) > 20  # the cube visibly moved to the zone


def test_sim_demo_cli_ends_with_the_success_line(capsys):
    assert main(["sim", "demo", "--episodes", "2", "--seed", "7"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "success: 2/2"
    assert main(["sim", "demo", "--episodes", "0"]) == 2
