"""The virtual cameras rendered in a process of their own (real time): the frames show the world's pose, arrive
at the camera rate, a lost renderer becomes the cameras' error in words, and closing leaves nothing behind."""

import os

import mujoco
import numpy as np
import pytest

from hardware.cameras.camera import CameraError
from hardware.virtual.sim import SimRig
from hardware.virtual.world import World


@pytest.fixture
def sim():
    rig = SimRig(cameras=("front", "wrist"), width=160, height=120, transport="inprocess", render_process=True)
    rig.couple()
    yield rig
    rig.close()


def test_frames_show_the_worlds_pose_as_the_world_renders_it(sim):
    sim.reset(5)  # a forced render: its frames are out when reset returns
    reference = World(cameras=("front", "wrist"), width=160, height=120)
    try:
        reference.data.qpos[:] = sim.world.data.qpos
        mujoco.mj_forward(reference.model, reference.data)
        for name in ("front", "wrist"):
            got = sim.cameras[name].read_latest(timeout=10).image.astype(int)
            want = reference.render(name).astype(int)
            assert np.abs(got - want).mean() < 1.0, name  # the same scene, pixel for pixel (within rounding)
    finally:
        reference.close()


def test_frames_follow_the_wall_clock_at_the_camera_rate(sim):
    cam = sim.cameras["front"]
    seq0 = cam.read_latest(timeout=10).seq
    sim.start()
    frame = cam.wait_new(seq0 + 15, timeout=30)  # 15 more frames: half a second of sim time, however busy
    assert frame.seq >= seq0 + 15
    later = cam.wait_new(frame.seq, timeout=10)
    assert later.t_capture > frame.t_capture  # stamped when the pose was taken, in order


def test_a_lost_renderer_is_the_cameras_error_in_words(sim):
    sim.start()
    os.kill(sim._renderer._proc.pid, 9)
    with pytest.raises(CameraError, match="camera 'front'.* virtual camera renderer: the render process ended"):
        sim.cameras["front"].wait_new(2**62, timeout=30)  # returns only by the error (or times out, saying so)


def test_close_ends_the_process_and_frees_the_shared_memory():
    rig = SimRig(cameras=("front",), width=160, height=120, transport="inprocess", render_process=True)
    rig.couple()
    renderer = rig._renderer
    names = [b.name for b in renderer._shm.values()]
    rig.close()
    assert not renderer._proc.is_alive()
    for name in names:
        assert not os.path.exists(f"/dev/shm/{name.lstrip('/')}")
