"""The watchdog is a guard, not a crash: a stall holds the follower at once; a recording then drops only the
episode in progress and records it again after a reset (earlier episodes kept), and teleop waits until the person
engages again (with the align check)."""

import time

import pytest

from hardware.virtual.world import HOME_Q
from robotapp.core.events import Kind, Reason
from robotapp.core.modes import Mode, SessionConfig
from robotapp.core.recording import RecordingPlan
from robotapp.core.rig_opener import open_rig
from robotapp.core.session import Session
from robotapp.dataset import DatasetReader

from .helpers import EventWaiter
from .test_time_integrity import StallingScene


@pytest.fixture
def rig():
    rig = open_rig(cameras=("front",), width=160, height=120)
    yield rig
    rig.close()


def test_a_stall_while_recording_records_that_episode_again_and_keeps_the_earlier_ones(rig, tmp_path):
    session = Session(rig, SessionConfig(control_hz=60, fps=30, watchdog_s=0.2)).start()
    try:
        waiter = EventWaiter(session)
        plan = RecordingPlan(tmp_path / "ds", "pick", episodes=2, episode_time=1.0, reset_time=0.2,
                             warmup_time=0.1)
        session.record(plan, scene=StallingScene(rig.sim, stall_s=0.6, in_episode=1), align=True)
        trip = waiter.wait(Kind.WATCHDOG, timeout=30)
        assert trip.reason == Reason.STALLED and trip.action == "hold"
        assert "the computer was busy for" in trip.message and "recorded again" in trip.message
        dropped = waiter.wait(Kind.EPISODE_DISCARDED, reason=Reason.STALLED)
        assert dropped.episode == 1
        waiter.wait(Kind.MODE, mode=Mode.ALIGN, reason=Reason.STALLED)  # back onto the leader, slowly
        waiter.wait(Kind.MODE, mode=Mode.RECORD, reason=Reason.ALIGNED)
        done = waiter.wait(Kind.RECORDING_DONE, timeout=60)
        assert done.reason == Reason.COMPLETED and done.saved == 2
    finally:
        session.close()
    saved = [e for e in waiter.events if e.kind == Kind.EPISODE_SAVED]
    assert [e.episode for e in saved] == [0, 1]  # episode 1 recorded again, in its place
    with DatasetReader(plan.dataset) as r:
        assert r.num_episodes == 2 and [e.length for e in r.episodes] == [30, 30]


def test_teleop_after_a_stall_waits_for_the_person_to_engage_again(rig):
    session = Session(rig, SessionConfig(control_hz=60, fps=30, watchdog_s=0.2)).start()
    try:
        waiter = EventWaiter(session)
        session.teleop(align=True)
        waiter.wait(Kind.MODE, mode=Mode.TELEOP, timeout=10)
        session.call(lambda: time.sleep(0.5), wait=False)  # the stall under test: one tick blocks the loop
        waiter.wait(Kind.WATCHDOG, timeout=10)
        held = waiter.wait(Kind.MODE, mode=Mode.HOLD, reason=Reason.STALLED)
        assert "engage again" in held.message
        moved = HOME_Q.copy()
        moved[0] += 0.4  # the leader moves away; a held follower must not follow
        rig.sim.set_leader_source(lambda t: moved)
        for _ in range(60):  # one second of ticks: each call runs at the start of the next tick
            session.call(lambda: None)
        assert session.mode == Mode.HOLD
        follower, leader = session.call(lambda: (rig.follower.read_positions(), rig.leader.read_positions()))
        assert abs(follower[0] - leader[0]) > 10  # degrees: it stayed where it was held
        session.teleop(align=True)  # the person engages again: aligned first, then teleop
        waiter.wait(Kind.MODE, mode=Mode.TELEOP, reason=Reason.ALIGNED, timeout=30)
    finally:
        session.close()
