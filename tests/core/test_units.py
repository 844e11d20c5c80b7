"""Pieces of the runtime that need no rig: config checks, telemetry and flags, replay timing, recording plans."""

from types import SimpleNamespace

import numpy as np
import pytest

from hardware.motors.bus import BusStats
from robotapp.core.modes import SessionConfig
from robotapp.core.recording import RecordingPlan
from robotapp.core.replay import ReplaySource
from robotapp.core.telemetry import TickRecorder


@pytest.mark.parametrize("kw,message", [
    ({"control_hz": 100, "fps": 30}, "must be a whole multiple of the dataset fps 30"),
    ({"fps": 0}, "must be positive"),
    ({"estop_action": "explode"}, "estop_action must be 'torque_off' or 'hold'"),
])
def test_bad_session_config_is_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        SessionConfig(**kw)
    assert SessionConfig(control_hz=90, fps=30).ticks_per_frame == 3


@pytest.mark.parametrize("kw,message", [
    ({"task": " "}, "task: empty: say what the episodes show"),
    ({"episodes": 0}, "episodes: must be at least 1, got 0"),
    ({"episode_time": 0}, "episode_time: must be more than 0 s, got 0"),
    ({"reset_time": -1}, "reset_time: cannot be negative, got -1"),
])
def test_bad_recording_plan_is_refused(tmp_path, kw, message):
    args = {"dataset": tmp_path, "task": "pick", **kw}
    with pytest.raises(ValueError, match=message):
        RecordingPlan(**args)


def test_telemetry_measures_rates_percentiles_drops_and_bus_deltas():
    bus = BusStats()
    rec = TickRecorder(target_hz=90, fps=30, cameras=["front"], bus_stats=[bus])
    t = 100.0
    for k in range(900):  # 10 s at 90 Hz; every 3rd tick a frame; the camera repeats one image twice
        rec.tick(t, lateness=0.004 if k % 50 == 0 else 0.0005, work=0.002 if k < 880 else 0.02, skipped=0)
        if k % 3 == 0:
            seq = k // 3 - (1 if k in (30, 60) else 0)
            rec.frame({"front": seq}, {"front": 0})
        t += 1 / 90
    bus.retries, bus.timeouts = 4, 2
    tel = rec.finish(7, encoder_drops={"front": 1})
    assert tel.episode_index == 7 and tel.frames == 300
    assert tel.loop_hz == pytest.approx(90, rel=0.01)
    assert tel.tick_ms_p50 == pytest.approx(2.0) and tel.tick_ms_p99 > 10
    assert tel.jitter_ms_p99 == pytest.approx(4.0, abs=0.1)
    assert tel.camera_dropped == {"front": 3}  # two repeats + one the encoder refused
    assert tel.bus_retries == 4 and tel.bus_faults == 2
    assert any("dropped 3 frames" in f for f in tel.flags) and any("2 bus faults" in f for f in tel.flags)
    assert "FLAGGED" in tel.summary()


def test_slow_loop_is_flagged():
    rec = TickRecorder(target_hz=90, fps=30, cameras=[], bus_stats=[])
    for k in range(100):
        rec.tick(k / 60, 0.0, 0.001, skipped=0)
    tel = rec.finish(0)
    assert tel.loop_hz == pytest.approx(60, rel=0.02)
    assert tel.flags == ["control loop ran at 60.0 Hz, below 90 Hz"]


def test_replay_approaches_the_first_action_then_plays_at_fps():
    actions = np.array([[10.0, 0.0], [11.0, 1.0], [12.0, 2.0]])
    src = ReplaySource(actions, fps=10, approach_speed=10.0)
    state = np.array([0.0, 0.0])
    first = src(0.0, state)
    np.testing.assert_allclose(first, [0.0, 0.0])  # approach takes 1 s (10 units at 10 units/s)
    np.testing.assert_allclose(src(0.5, state), [5.0, 0.0])
    np.testing.assert_allclose(src(1.0, state), actions[0])
    np.testing.assert_allclose(src(1.15, state), actions[1])
    np.testing.assert_allclose(src(1.25, state), actions[2])
    assert src(1.31, state) is None and src.progress == 1.0
    assert len(src.states) == 3
    with pytest.raises(ValueError, match="non-empty"):
        ReplaySource(np.zeros((0, 6)), fps=30)


# -- a recorded frame waits (bounded) for a camera image that is due, instead of repeating the last one --------
def _push_camera():
    from hardware.cameras.virtual import VirtualCamera
    cam = VirtualCamera("front", 8, 6, 30.0, source="push")
    cam.connect()
    return cam


def test_recorder_waits_for_a_due_frame():
    import threading
    import time

    from robotapp.core.observation import ObservationBuilder
    cam = _push_camera()
    period = 1 / 30
    builder = ObservationBuilder(SimpleNamespace(cameras={"front": cam}), fps=30, realtime=True)
    first = cam.push(np.zeros((6, 8, 3), np.uint8), t_capture=time.monotonic() - period)  # the next one is due
    started = threading.Event()
    pusher = threading.Thread(target=lambda: (started.wait(), cam.push(np.ones((6, 8, 3), np.uint8))))
    pusher.start()
    started.set()
    got = builder._due_frame(cam, first, time.monotonic() + 10.0)
    pusher.join()
    assert got.seq == first.seq + 1 and got.image[0, 0, 0] == 1


def test_recorder_does_not_wait_for_a_frame_not_yet_due():
    import time

    from robotapp.core.observation import ObservationBuilder
    cam = _push_camera()
    builder = ObservationBuilder(SimpleNamespace(cameras={"front": cam}), fps=30, realtime=True)
    first = cam.push(np.zeros((6, 8, 3), np.uint8), t_capture=time.monotonic() + 1.0)  # next one: far off
    cam.push(np.ones((6, 8, 3), np.uint8))  # a newer one exists, but the recorder only asks when one is due
    got = builder._due_frame(cam, first, time.monotonic() + 0.004)
    assert got is first


def test_a_failing_subscriber_never_stops_the_publisher(capsys):
    """A subscriber that raises (a status line writing into a closed pipe) must not break the control loop that
    publishes: the others still get the event, and one line says what failed."""
    from robotapp.core.events import Event, EventBus, Kind

    bus, got = EventBus(), []

    def broken(e):
        raise BrokenPipeError(32, "Broken pipe")
    bus.subscribe(broken)
    bus.subscribe(got.append)
    event = bus.publish(Event(Kind.INFO, "hello"))
    assert got == [event]
    assert "an event subscriber failed (BrokenPipeError" in capsys.readouterr().err


def test_the_terminal_sees_every_event_of_an_activity_that_ends_at_once(capsys):
    """A recording that faults and ends before the terminal could have subscribed (a lock-step run on a busy
    machine) is still seen: the terminal subscribes first, then starts it. Before, the command waited forever
    or exited 0 after a fault."""
    from types import SimpleNamespace

    from robotapp.core.events import Event, EventBus, Fault, Kind, Reason, RecordingDone
    from robotapp.core.modes import Mode, Snapshot
    from robotapp.terminal.session_commands import _run

    session = SimpleNamespace(events=EventBus(), snapshot=lambda: Snapshot(Mode.IDLE))

    def start():  # the whole activity happens inside the start call
        session.events.publish(Fault(Kind.FAULT, "boom", mode=Mode.FAULT, previous=Mode.RECORD,
                                     reason=Reason.FAULT, error="boom", motors=()))
        session.events.publish(RecordingDone(Kind.RECORDING_DONE, "recording stopped by fault", saved=0,
                                             reason=Reason.FAULT))
    problems = _run(session, "", lambda ch, done: None, lambda: False, start)
    assert [e.kind for e in problems] == [Kind.FAULT]
    assert isinstance(problems[0], Event) and "boom" in capsys.readouterr().out
