"""Take over and hand back while a policy runs (robotapp.eval.takeover): the scripted corrector's triggers on the
world's states, and a lock-step evaluation on the virtual rig in which it takes over a (barely trained) policy,
solves the task with the demonstrator and hands back: the follower's goal never moves more than the per-step clamp
(at the switches above all), it copies the leader while taken over, and the recording's `intervention` flag is True
on exactly the taken-over frames."""

import threading
from types import SimpleNamespace

import mujoco
import numpy as np
import pytest

from hardware.virtual.world import CUBE_SIZE, TARGET_XY, World
from robotapp.dataset import DatasetReader
from robotapp.eval.evaluate import evaluate
from robotapp.eval.takeover import ScriptedCorrector, TakeoverSwitch
from tests.policies.helpers import train_tiny_run


@pytest.fixture(scope="module")
def world_sim():
    world = World(cameras=())
    yield SimpleNamespace(world=world, lock=threading.RLock())
    world.close()


def _put_cube(world: World, x: float, y: float, z: float = CUBE_SIZE / 2) -> None:
    world.data.qpos[world._cube_q:world._cube_q + 3] = [x, y, z]
    mujoco.mj_forward(world.model, world.data)


def test_the_corrector_says_when_an_episode_goes_wrong(world_sim):
    world = world_sim.world
    world.reset(3)
    corrector = ScriptedCorrector(world_sim, TakeoverSwitch())
    assert corrector.going_wrong(1.0) == ""  # early, the cube where it started
    assert corrector.going_wrong(8.0) == "cube not grasped by 8 s"
    start = world.cube_start[0]
    _put_cube(world, start[0] + 0.04, start[1])
    assert corrector.going_wrong(2.0) == "cube pushed 3 cm away"
    _put_cube(world, *TARGET_XY)
    assert corrector.going_wrong(12.0) == ""  # in the zone: nothing to correct
    corrector.new_episode()
    _put_cube(world, start[0], start[1], 0.08)  # lifted...
    assert corrector.going_wrong(3.0) == ""
    _put_cube(world, start[0] + 0.06, start[1])  # ...and dropped away from the zone
    assert corrector.going_wrong(4.0) == "cube dropped outside the zone"


def test_the_switch_toggles_and_starts_each_episode_with_the_policy():
    switch = TakeoverSwitch()
    assert switch.toggle() and switch.wanted() == (True, "taken over")
    assert not switch.toggle() and not switch.wanted()[0]
    switch.take_over("a person pressed T")
    switch.spans.append((3, 9))
    switch.new_episode()
    assert switch.wanted() == (False, "") and switch.spans == [] and not switch.taken_over


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory):
    return train_tiny_run(tmp_path_factory.mktemp("takeover")) / "last"


def test_corrections_take_over_without_a_jump_and_are_flagged_in_the_recording(policy_dir, tmp_path):
    sessions, goals = [], []

    def watch(session):  # every goal the follower is sent, as the clamp let it through, and the leader then
        sessions.append(session)
        arm = session.rig.follower
        send = arm.write_goals

        def logged(g, **kw):
            sent = send(g, **kw)
            goals.append((sent.copy(), None if session.leader_positions is None else session.leader_positions.copy()))
            return sent
        arm.write_goals = logged

    result = evaluate(policy_dir, episodes=1, seed=1_000_000, episode_time=20.0, record=tmp_path / "evals",
                      corrections=True, on_session=watch, out=lambda line: None)
    ep = result.episodes[0]
    assert ep.corrected == "cube not grasped by 8 s"
    assert len(ep.interventions) == 1
    first, last = ep.interventions[0]
    assert first == 240  # taken over at 8 s (30 fps), the follower held while the hand came onto it
    assert ep.outcome == "success"  # the demonstrator solved it from where the arm was

    sent = np.array([g for g, _ in goals])
    max_step = sessions[0].rig.follower.max_step
    assert np.all(np.abs(np.diff(sent, axis=0)) <= max_step + 1e-6)  # no jump, at the switches or anywhere
    copied = [np.max(np.abs(g - lead)) for g, lead in goals[len(goals) // 2:] if lead is not None]
    assert copied and min(copied) < 1.0  # while taken over, the follower's goal is the leader's reading

    with DatasetReader(tmp_path / "evals") as r:
        flags = np.asarray(r.episode_data(0)["intervention"]).reshape(-1)
        extra = r.extra(0)
    assert flags.dtype == bool and flags.sum() == last - first + 1
    assert not flags[:first].any() and flags[first:last + 1].all() and not flags[last + 1:].any()
    assert extra["eval"]["interventions"] == [[first, last]] and extra["eval"]["corrected"] == ep.corrected


def test_a_person_takes_over_and_hands_back_early_in_manual_mode(policy_dir):
    from robotapp.core.rig_opener import open_rig
    from robotapp.eval.evaluate import WorldJudge

    switch = TakeoverSwitch()

    class PersonAtTheKeys(WorldJudge):  # polled on the control thread every tick: T at 2 s, T again at 4 s
        def done(self) -> bool:
            t = self.sim.world.time
            taken = switch.wanted()[0]
            if (2.0 <= t < 3.0 and not taken) or (t >= 4.0 and taken):
                switch.toggle()
            return super().done()

    rig = open_rig("virtual", cameras=("front",), height=120, width=160, realtime=False)
    try:
        result = evaluate(policy_dir, rig=rig, episodes=1, seed=1_000_000, episode_time=6.0, switch=switch,
                          corrections="manual", judge=PersonAtTheKeys(rig.sim), out=lambda line: None)
    finally:
        rig.close()
    ep = result.episodes[0]
    assert ep.corrected == "taken over" and ep.seconds >= 5.9
    # taken over at 2 s of world time (frame ~60: the episode starts a few frames after the world's reset) and
    # handed back 2 s later; the policy drove again to the time limit
    (first, last), = ep.interventions
    assert 55 <= first <= 61 and 57 <= last - first <= 61
