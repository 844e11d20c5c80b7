"""The session on the virtual rig, in real time: teleop with the align check, recording with re-record and
telemetry, e-stop, watchdog, heartbeat, motor faults and replay."""

import threading

import numpy as np
import pytest

from hardware.arms.safety import AlignmentError
from hardware.virtual import FaultConfig
from hardware.virtual.world import HOME_Q
from robotapp.core.events import Kind, Reason
from robotapp.core.modes import Mode, SessionConfig
from robotapp.core.recording import RecordingPlan
from robotapp.core.replay import ReplaySource
from robotapp.core.rig_opener import open_rig
from robotapp.core.scenes import DemonstratorScene, VirtualResetScene
from robotapp.core.session import Session
from robotapp.dataset import DatasetReader
from robotapp.dataset.trash import list_trash

from .helpers import EventWaiter


@pytest.fixture
def rig():
    rig = open_rig(cameras=("front",), width=160, height=120)
    yield rig
    rig.close()


@pytest.fixture
def session(rig):
    s = Session(rig, SessionConfig(control_hz=60, fps=30)).start()
    yield s
    s.close()


def pose_leader(rig, q):
    rig.sim.set_leader_source(lambda t: q)


def test_teleop_refuses_a_misaligned_leader_then_aligns_slowly_and_follows(rig, session):
    waiter = EventWaiter(session)
    far = HOME_Q + np.array([0.6, 0.0, 0.0, 0.0, 0.0, 0.0])  # shoulder_pan ~34 degrees away
    pose_leader(rig, far)
    with pytest.raises(AlignmentError, match="shoulder_pan") as e:
        session.teleop()
    assert list(e.value.errors) == ["shoulder_pan"]
    assert session.mode == Mode.IDLE
    session.teleop(align=True)
    waiter.wait(Kind.MODE, reason=Reason.ALIGNED, mode=Mode.TELEOP, timeout=10)
    moved = HOME_Q + np.array([0.6, 0.3, -0.2, 0.2, 0.4, 0.0])
    pose_leader(rig, moved)
    done = threading.Event()
    # poll snapshots as the GUI does (the session owns the buses), until the follower is on the moved leader
    for _ in range(200):
        snap = session.snapshot()
        if snap.leader[4] > 15 and np.abs(snap.follower[:5] - snap.leader[:5]).max() < 1.5:
            done.set()
            break
        done.wait(0.05)
    assert done.is_set(), (session.snapshot().follower, session.snapshot().leader)
    assert session.snapshot().loop_hz > 20  # 60 Hz target; a loaded machine slows it, it must not stop


def test_record_with_rerecord_in_episode_and_in_reset(rig, session, tmp_path):
    waiter = EventWaiter(session)
    plan = RecordingPlan(tmp_path / "ds", "pick the cube", episodes=2, episode_time=1.0, reset_time=0.3,
                         warmup_time=0.2)
    session.record(plan, scene=VirtualResetScene(rig.sim, seed=5), align=True)
    waiter.wait(Kind.PHASE, phase="episode", episode=0)
    session.rerecord()  # during the episode: its frames are dropped
    waiter.wait(Kind.EPISODE_DISCARDED, reason=Reason.RERECORD, episode=0)
    waiter.wait(Kind.EPISODE_SAVED, timeout=20)
    waiter.wait(Kind.PHASE, phase="reset", count=2)
    session.rerecord()  # during the reset: the episode just saved goes to the trash
    trashed = waiter.wait(Kind.EPISODE_DISCARDED, reason=Reason.TRASHED)
    assert trashed.episode == 0
    assert session.wait_idle(timeout=30)
    saved = [e for e in waiter.events if e.kind == Kind.EPISODE_SAVED]
    assert len(saved) == 3
    assert all(e.frames >= 10 and e.telemetry["frames"] == e.frames for e in saved)  # ~30 when idle
    assert trashed.frames == saved[0].frames
    done = waiter.wait(Kind.RECORDING_DONE)
    assert done.saved == 2 and done.reason == Reason.COMPLETED
    with DatasetReader(plan.dataset) as r:
        assert r.num_episodes == 2
        assert [e.length for e in r.episodes] == [saved[1].frames, saved[2].frames]
        tel = r.extra(1)["telemetry"]
        assert tel["loop_hz"] > 50 and "front" in tel["camera_fps"]
        assert r.extra(0)["scene"] == {"virtual_seed": 5} and r.extra(1)["scene"] == {"virtual_seed": 6}
    assert len(list_trash(plan.dataset)) == 1
    assert session.mode == Mode.HOLD


def test_estop_from_another_thread_cuts_torque_and_stops_recording(rig, session, tmp_path):
    waiter = EventWaiter(session)
    plan = RecordingPlan(tmp_path / "ds", "pick", episodes=3, episode_time=1.0, reset_time=0.2, warmup_time=0.1)
    session.record(plan, scene=VirtualResetScene(rig.sim), align=True)
    waiter.wait(Kind.EPISODE_SAVED, timeout=20)
    waiter.wait(Kind.PHASE, phase="episode", episode=1)
    threading.Thread(target=session.estop).start()
    waiter.wait(Kind.ESTOP, reason=Reason.ESTOP, action="torque_off")
    assert waiter.wait(Kind.RECORDING_DONE, timeout=20).reason == Reason.ESTOP
    assert session.mode == Mode.ESTOP
    torque = session.call(lambda: rig.follower.bus.sync_read("Torque_Enable"))  # on the control thread
    assert not torque.any()
    with pytest.raises(RuntimeError, match="E-STOP is active"):
        session.teleop()
    session.clear_estop()
    assert session.mode == Mode.IDLE
    with DatasetReader(plan.dataset) as r:
        assert r.num_episodes == 1  # the one saved before the e-stop; the interrupted one is dropped


def test_watchdog_holds_the_follower_when_the_loop_stalls(rig, session):
    waiter = EventWaiter(session)
    session.teleop(align=True)
    waiter.wait(Kind.MODE, mode=Mode.TELEOP, timeout=10)
    stalled = threading.Event()
    # The stall itself is the behaviour under test: one tick's command blocks the loop for 0.5 s.
    session.call(lambda: stalled.wait(0.5), wait=False)
    event = waiter.wait(Kind.WATCHDOG, timeout=5)
    assert event.reason == Reason.STALLED and event.action == "hold"
    stalled.set()
    waiter.wait(Kind.MODE, reason=Reason.STALLED, mode=Mode.HOLD)
    assert session.mode == Mode.HOLD


def test_missing_heartbeat_holds_the_follower(rig):
    s = Session(rig, SessionConfig(control_hz=60, fps=30, heartbeat_timeout_s=0.3)).start()
    try:
        waiter = EventWaiter(s)
        s.heartbeat()
        s.teleop(align=True)
        event = waiter.wait(Kind.WATCHDOG, reason=Reason.HEARTBEAT, timeout=5)
        assert s.mode == Mode.HOLD and event.mode == Mode.HOLD
    finally:
        s.close()


def test_unplugged_servo_mid_episode_holds_names_it_and_keeps_saved_episodes(rig, session, tmp_path):
    waiter = EventWaiter(session)
    rig.sim.follower.chain.set_faults(FaultConfig(corrupt_crc=0.01, lost_reply=0.005, seed=3))
    plan = RecordingPlan(tmp_path / "ds", "pick", episodes=3, episode_time=2.0, reset_time=0.2, warmup_time=0.1)
    scene = DemonstratorScene(rig.sim, seed=1)
    session.record(plan, scene=scene, align=True)
    waiter.wait(Kind.EPISODE_SAVED, timeout=30)
    waiter.wait(Kind.PHASE, phase="episode", episode=1)
    rig.sim.follower.chain.unplug(4)  # wrist_flex
    fault = waiter.wait(Kind.FAULT, timeout=10)
    assert fault.motors == ("wrist_flex",) and fault.mode == Mode.FAULT and fault.previous == Mode.RECORD
    assert "wrist_flex" in fault.message  # the line the user reads names the motor
    assert waiter.wait(Kind.RECORDING_DONE, timeout=20).reason == Reason.FAULT
    assert session.mode == Mode.FAULT
    assert waiter.wait(Kind.EPISODE_DISCARDED).reason == Reason.FAULT
    with DatasetReader(plan.dataset) as r:
        assert r.num_episodes == 1
        data = r.episode_data(0)
        assert len(data["action"]) == r.episodes[0].length > 30
        assert r.decode_episode_video(0, "observation.images.front").shape[0] == r.episodes[0].length
    assert rig.follower.bus.stats.retries > 0  # the noisy line was ridden out by retries before the unplug


def test_replay_sends_the_actions_through_the_clamp(rig, session):
    waiter = EventWaiter(session)
    start = session.call(rig.follower.read_positions)
    actions = np.repeat(start[None, :], 30, axis=0)
    actions[:, 0] += np.linspace(0, 20, 30)
    actions[10, 0] = 80  # a glitch in the recording: the clamp limits the jump
    src = ReplaySource(actions, fps=30)
    session.run_source(Mode.REPLAY, src)
    waiter.wait(Kind.MODE, reason=Reason.FINISHED, previous=Mode.REPLAY, timeout=10)
    assert len(src.states) == 30
    sent = np.array(src.states)[:, 0]
    assert sent.max() < start[0] + 35  # never near the glitch's 80 degrees
    waiter.wait(Kind.MODE, reason=Reason.FINISHED)
    final = session.call(rig.follower.read_positions)
    assert abs(final[0] - (start[0] + 20)) < 3


def test_lock_step_recording_with_the_demonstrator_has_no_drops(tmp_path, capsys):
    from robotapp.cli.main import main

    ds = tmp_path / "fast"
    assert main(["record", "--rig", "virtual", "--demonstrator", "--fast", "--dataset", str(ds), "--task", "pick",
                 "--episodes", "1", "--episode-time", "12", "--warmup-time", "0"]) == 0
    out = capsys.readouterr().out
    assert "demonstrator success: 1/1" in out and "FLAGGED" not in out
    with DatasetReader(ds) as r:
        tel = r.extra(0)["telemetry"]
        assert r.episodes[0].length > 250 and tel["camera_dropped"] == {"front": 0, "wrist": 0}
        assert r.decode_episode_video(0, "observation.images.wrist").shape[0] == r.episodes[0].length
    assert main(["record", "--rig", "virtual", "--fast", "--dataset", str(tmp_path / "x"), "--task", "t"]) == 2
    assert "only the --demonstrator can keep up" in capsys.readouterr().err


def test_a_resumed_recording_continues_with_scenes_not_yet_recorded(tmp_path, capsys):
    from robotapp.cli.main import main
    from robotapp.eval.seeds import recorded_seeds

    ds = tmp_path / "more"
    args = ["record", "--rig", "virtual", "--demonstrator", "--fast", "--dataset", str(ds), "--task", "pick",
            "--episodes", "2", "--episode-time", "12", "--warmup-time", "0", "--reset-time", "0"]
    assert main(args) == 0
    assert recorded_seeds(ds) == {0, 1}
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0  # the same --seed (the default): the dataset's scenes are not repeated
    assert "the new episodes start at seed 2" in capsys.readouterr().out
    assert recorded_seeds(ds) == {0, 1, 2, 3}
