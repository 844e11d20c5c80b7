"""The virtual SO-101 through real-rig code paths: emulated STS3215s behind its leader and follower, FeetechBus,
the session, the recorder and the demonstrator, as the Koch has its Dynamixels."""

import time

import numpy as np
import pytest

from calibration import calibration_path, load_calibration
from hardware.arms.profile import ARM_PROFILES
from hardware.motors import FeetechBus
from hardware.virtual.feetech_chain import FeetechChain
from robotapp.core.events import Kind
from robotapp.core.modes import SessionConfig
from robotapp.core.rig_opener import is_virtual_rig, open_rig
from robotapp.core.session import Session
from robotapp.dataset import DatasetReader
from robotapp.terminal.sim_demo import run_sim_demo
from tests.core.helpers import EventWaiter


def test_virtual_rig_names():
    assert is_virtual_rig("virtual") and is_virtual_rig("virtual-so101")
    assert not is_virtual_rig("my-koch") and not is_virtual_rig(None)
    assert ARM_PROFILES["so101"] == ("so101-leader", "so101-follower")


@pytest.fixture(scope="module")
def rig():
    rig = open_rig("virtual-so101", cameras=("front",), width=160, height=120)
    yield rig
    rig.close()


def test_the_rig_is_feetech_and_calibrated_as_lerobot_shapes_it(rig):
    assert rig.name == "virtual-so101" and rig.is_virtual
    for arm, hw in ((rig.leader, rig.sim.leader), (rig.follower, rig.sim.follower)):
        assert isinstance(arm.bus, FeetechBus) and isinstance(hw.chain, FeetechChain)
        assert arm.arm_id == f"virtual-so101-{arm.profile.role}"
        saved = load_calibration(calibration_path(arm.arm_id), arm.profile)
        assert saved == arm.calibration and all(c.drive_mode == 0 for c in saved.values())
    # at the leader's home pose, both arms read the same calibrated joints (their mechanics are the same)
    assert np.allclose(rig.leader.read_positions(), rig.follower.read_positions(), atol=1.0)


def test_teleop_moves_the_follower_after_the_leader(rig):
    session = Session(rig, SessionConfig(control_hz=60, fps=30)).start()
    try:
        waiter = EventWaiter(session)
        home = rig.sim.home
        session.teleop(align=True)
        waiter.wait(Kind.MODE, timeout=10)
        moved = home + np.array([0.4, 0.2, -0.2, -0.2, 0.4, 0.0])  # inside every range
        rig.sim.set_leader_source(lambda t: moved)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            snap = session.snapshot()
            if snap.follower is not None and snap.leader is not None and \
                    np.allclose(snap.follower[:5], snap.leader[:5], atol=3.0) and \
                    abs(snap.leader[0]) > 15:  # the leader's pan moved ~23 degrees
                break
            time.sleep(0.05)
        else:
            raise AssertionError((session.snapshot().follower, session.snapshot().leader))
        q = rig.sim.follower_angles()
        assert np.allclose(q[:5], moved[:5], atol=0.08)  # the world's follower is where the leader is
        session.hold()
    finally:
        rig.sim.set_leader_source(None)
        session.close()


def test_demonstrator_records_so101_follower_episodes_fast_and_they_replay_on_the_so101_only(tmp_path, capsys):
    from robotapp.cli.main import main

    ds = tmp_path / "so101"
    assert main(["record", "--rig", "virtual-so101", "--demonstrator", "--fast", "--dataset", str(ds), "--task",
                 "pick", "--episodes", "2", "--episode-time", "12", "--warmup-time", "0", "--reset-time", "0"]) == 0
    assert "demonstrator success: 2/2" in capsys.readouterr().out
    with DatasetReader(ds) as r:
        assert r.num_episodes == 2 and r.robot_type == "so101_follower"
        assert r.features["action"]["names"] == [f"{n}.pos" for n in ("shoulder_pan", "shoulder_lift", "elbow_flex",
                                                                      "wrist_flex", "wrist_roll", "gripper")]
    # on the Koch its joint values would be other angles: refused before the rig moves, the fitting rig named
    assert main(["replay", "--rig", "virtual", "--dataset", str(ds), "--episode", "1"]) == 2
    assert capsys.readouterr().err == (f"robotapp replay: {ds}: recorded on so101_follower, but rig 'virtual' is "
                                       "koch_follower; use --rig virtual-so101\n")
    assert main(["replay", "--rig", "virtual-so101", "--dataset", str(ds), "--episode", "1"]) == 0
    assert "task success after replay: True" in capsys.readouterr().out


def test_the_demonstrator_solves_seeds_through_the_rig():
    lines = []
    results = run_sim_demo(3, 10, out=lines.append, rig_name="virtual-so101")
    assert [r.success for r in results] == [True, True, True] and lines[-1] == "success: 3/3"
