"""The window's rig in a control process of its own (services/process_rig_host.py, control_process.py; issue 19):
the loop runs outside the caller's interpreter, commands and refusals cross both ways, camera frames arrive whole
through shared memory, a recording saves, and either process dying leaves the other in a known state."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from hardware.arms.safety import AlignmentError
from robotapp.core.modes import Mode, SessionConfig
from robotapp.dataset.reader import DatasetReader
from robotapp.services.frame_slots import FrameReader, FrameWriter
from robotapp.services.process_rig_host import ProcessRigHost
from robotapp.services.record_request import RecordRequest

VIRTUAL = {"width": 96, "height": 72, "transport": "inprocess"}
OPEN_S = 120


def wait_until(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        threading.Event().wait(0.02)  # polling a mirror that another process updates


@pytest.fixture
def host():
    h = ProcessRigHost(SessionConfig(heartbeat_timeout_s=None, watchdog_s=1.0), VIRTUAL)
    h.open("virtual").result(OPEN_S)
    yield h
    h.shutdown()


def test_the_loop_runs_in_another_process_and_commands_cross(host):
    assert host.is_open and host.is_virtual
    assert host.pid not in (None, os.getpid())
    assert "control-loop" not in {t.name for t in threading.enumerate()}  # not in this interpreter
    assert host.joint_names()[-1] == "gripper" and host.joint_units()[-1] in ("%", "°")
    wait_until(lambda: host.snapshot() is not None and host.snapshot().loop_hz > 30, 30, "the loop's rate")

    # a refusal keeps its type and its details
    leader = host.virtual_leader
    far = leader.positions().copy()
    host.session.teleop(align=True, timeout=60)
    assert host.snapshot().mode == Mode.TELEOP  # the mirror is up to date once the command's answer is in
    host.session.hold(timeout=10)
    leader.set_position(1, float(far[1] + 60))
    wait_until(lambda: abs(leader.positions()[1] - far[1]) > 40, 30, "the hand's move")
    with pytest.raises(AlignmentError) as refused:
        host.session.teleop(align=False, timeout=10)
    assert "shoulder_lift" in refused.value.errors

    host.session.teleop(align=True, timeout=60)
    wait_until(lambda: abs(host.snapshot().follower[1] - leader.positions()[1]) < 5, 60, "the follower following")

    assert host.estop("stop pressed in a test")
    wait_until(lambda: host.snapshot().mode == Mode.ESTOP, 10, "the E-STOP")
    with pytest.raises(RuntimeError, match="E-STOP"):
        host.session.teleop(timeout=10)
    host.session.clear_estop(timeout=10)
    assert host.snapshot().mode == Mode.IDLE
    kinds = [e.kind for e in host.drain_events()]
    assert "estop" in kinds and "mode" in kinds


def test_camera_frames_arrive_whole(host):
    wait_until(lambda: all(img is not None for img, _ in host.frames().values()), 30, "camera frames")
    frames = host.frames()
    assert set(frames) == set(host.camera_names()) and host.camera_names()
    for image, seq in frames.values():
        assert image.shape == (VIRTUAL["height"], VIRTUAL["width"], 3) and image.dtype == np.uint8 and seq >= 0
        assert image.flags.writeable and image.base is None  # the window's own copy, not a view of the slot
    seqs = {n: s for n, (_, s) in frames.items()}
    wait_until(lambda: all(s > seqs[n] for n, (_, s) in host.frames().items()), 30, "newer frames")


def test_a_recording_through_the_control_process_saves(host, tmp_path):
    root = tmp_path / "ds"
    request = RecordRequest(str(root), "pick the cube", episodes=1, episode_time=1.5, reset_time=0.5,
                            warmup_time=0.0, demonstrator=True)
    host.start_recording(request).result(60)
    events = []
    wait_until(lambda: events.extend(host.drain_events()) or any(e.kind == "recording_done" for e in events),
               120, "the recording's end")
    assert any(e.kind == "episode_saved" for e in events)
    reader = DatasetReader(root)
    assert reader.info["total_episodes"] == 1
    # wall-clock time: the episode's frames match its duration at the dataset's fps (within one frame)
    assert abs(reader.info["total_frames"] - 1.5 * reader.info["fps"]) <= 1


def test_a_dead_control_process_is_said_and_the_rig_opens_again(host):
    first = host.pid
    waiting = host.call_in_control("time:sleep", 30)  # an answer that will never come
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: host.state == "failed", 30, "the failure to be noticed")
    assert "control process" in host.error and "ended unexpectedly" in host.error
    assert host.session is None and host.snapshot() is None and not host.estop()
    with pytest.raises(RuntimeError, match="control process"):
        waiting.result(10)
    host.open("virtual").result(OPEN_S)
    assert host.is_open and host.pid not in (None, first)


def test_frame_slots_never_hand_out_a_torn_frame():
    writer, reader = FrameWriter(), FrameReader()
    try:
        a = np.full((4, 5, 3), 7, np.uint8)
        meta = writer.publish({"cam": (a, 1)})
        image, seq = reader.frames(meta)["cam"]
        assert seq == 1 and np.array_equal(image, a)
        b = np.full((4, 5, 3), 9, np.uint8)
        meta2 = writer.publish({"cam": (b, 2)})
        assert meta2["cam"][2] != meta["cam"][2]  # the other slot: the one just read is not rewritten
        name, _, slot, _ = meta2["cam"]
        reader._blocks[name].seqs[slot] = -1  # as while the writer fills it
        assert reader.frames(meta2)["cam"][1] == 1  # the last whole frame, not a torn one
        bigger = np.zeros((8, 10, 3), np.uint8)
        meta3 = writer.publish({"cam": (bigger, 3)})  # a camera reopened at another size: a new block
        assert meta3["cam"][0] != name and reader.frames(meta3)["cam"][0].shape == (8, 10, 3)
        assert writer.publish({}) == {}  # a camera gone: its block is let go
    finally:
        reader.close()
        writer.close()


def test_the_control_process_ends_and_saves_when_the_window_process_is_killed(tmp_path):
    root = tmp_path / "ds"
    script = textwrap.dedent(f"""
        import sys, time
        from robotapp.core.modes import SessionConfig
        from robotapp.services.process_rig_host import ProcessRigHost
        from robotapp.services.record_request import RecordRequest
        if __name__ == "__main__":
            host = ProcessRigHost(SessionConfig(heartbeat_timeout_s=None, watchdog_s=1.0), {VIRTUAL!r})
            host.open("virtual").result({OPEN_S})
            host.start_recording(RecordRequest({str(root)!r}, "t", episodes=50, episode_time=1.0, reset_time=0.2,
                                               warmup_time=0.0, demonstrator=True)).result(60)
            saved = 0
            while saved < 1:
                saved += sum(e.kind == "episode_saved" for e in host.drain_events())
                time.sleep(0.05)
            print("pid", host.pid, "saved", saved, flush=True)
            time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")})
    try:
        line = proc.stdout.readline().split()
        assert line[:1] == ["pid"], f"the window's stand-in did not start (exit {proc.poll()})"
        child = int(line[1])
        proc.kill()  # kill -9 of the window's process, mid-recording
        proc.wait(10)
        wait_until(lambda: not _alive(child), 120, "the control process to end by itself")
    finally:
        if proc.poll() is None:
            proc.kill()
    reader = DatasetReader(root)
    assert reader.info["total_episodes"] >= 1  # what was reported saved is there, readable


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (its parent gone, not yet reaped by init) counts as ended
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
