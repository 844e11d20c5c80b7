"""Cameras without hardware: VirtualCamera for timing and threading, OpenCVCamera on generated video files.

Synchronisation is by wait_new / events; the only sleeps are work (a slow renderer) or spacing of calls."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.cameras import CameraError, OpenCVCamera, VirtualCamera
from hardware.deadline_timer import DeadlineTimer

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

RED_RGB = (255, 0, 0)


def write_video(path: Path, color_rgb: tuple[int, int, int] = RED_RGB, n: int = 20, size: tuple[int, int] = (64, 48),
                fps: float = 30.0) -> Path:
    """An MJPG .avi of `n` frames of one colour (OpenCV writes BGR, hence the flip)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    frame = np.zeros((size[1], size[0], 3), np.uint8)
    frame[:] = color_rgb[::-1]
    for _ in range(n):
        writer.write(frame)
    writer.release()
    return path


def frames_until_error(cam, seq: int, limit: int = 1000) -> CameraError:
    """Keep taking new frames until the camera reports its error; return that error."""
    for _ in range(limit):
        try:
            seq = cam.wait_new(seq, 3.0).seq
        except CameraError as e:
            return e
    raise AssertionError(f"{cam} never reported an error")


# -- VirtualCamera: timing -----------------------------------------------------------------------------------

def involuntary_switches() -> int:
    """Times the OS preempted this thread (Linux); 0 elsewhere. Waiting on a lock is a voluntary switch, so a
    read_latest that blocked still counts against it; only the scheduler taking the CPU away is excused."""
    who = getattr(resource, "RUSAGE_THREAD", None) if resource else None
    return resource.getrusage(who).ru_nivcsw if who is not None else 0


def test_read_latest_never_blocks_while_frames_arrive():
    with VirtualCamera("top", 320, 240, fps=30) as cam:
        first = cam.read_latest()
        worst, preempted, seqs, times = 0.0, 0, [], []
        for _ in range(300):
            switches = involuntary_switches()
            t0 = time.perf_counter()
            frame = cam.read_latest()
            dt = time.perf_counter() - t0
            if involuntary_switches() != switches:
                preempted += 1  # another process had the core: says nothing about the camera
            else:
                worst = max(worst, dt)
            seqs.append(frame.seq)
            times.append(frame.t_capture)
            time.sleep(1 / 300)  # spreads the calls over ~1 s; not synchronisation
        stats = cam.stats
    assert worst < 1e-3, f"read_latest took {worst * 1e3:.2f} ms"
    assert preempted <= 30, f"{preempted} of 300 calls preempted: machine too busy to judge"
    assert seqs == sorted(seqs) and times == sorted(times)
    assert seqs[-1] - first.seq >= 20  # frames kept arriving during the calls
    assert 24.0 <= stats.fps <= 36.0, stats
    assert stats.frames >= 21 and stats.error is None


def test_frames_are_ordered_shaped_and_read_only():
    with VirtualCamera("top", 160, 120, fps=60) as cam:
        frames = [cam.read_latest()]
        for _ in range(20):
            frames.append(cam.wait_new(frames[-1].seq, 1.0))
    assert all(b.seq > a.seq and b.t_capture > a.t_capture for a, b in zip(frames, frames[1:], strict=False))
    assert frames[-1].image.shape == (120, 160, 3) and frames[-1].image.dtype == np.uint8
    with pytest.raises(ValueError):
        frames[-1].image[0, 0] = 0  # shared between consumers: must not be drawn on


def test_test_pattern_moves_and_shows_bars_in_rgb_order():
    with VirtualCamera("top", 320, 240, fps=30) as cam:
        a = cam.read_latest()
        b = cam.wait_new(a.seq + 5, 1.0)
    assert not np.array_equal(a.image, b.image)
    # Bar 5 of 7 is pure red in RGB; sample it above the moving square and the frame number.
    assert tuple(a.image[10, int(320 * 5.5 / 7)]) == (255, 0, 0)


def test_deadline_timer_does_not_drift_with_work_in_the_loop():
    timer, stop = DeadlineTimer(100.0), threading.Event()
    for _ in range(30):
        time.sleep(0.004)  # work inside the loop: sleep(dt) pacing would add it to every period
        assert timer.wait_next(stop) is not None
    # 30 x 4 ms of work would leave sleep(dt) pacing 120 ms behind; deadlines stay within a wake-up delay.
    late = time.monotonic() - timer.tick_time
    assert 0.0 <= late < 2 * timer.period and timer.k >= 30


def test_slow_renderer_counts_drops_and_every_tick_is_accounted_for():
    rendered: list[float] = []

    def slow(t: float) -> np.ndarray:
        rendered.append(t)
        time.sleep(0.03)  # simulated work, slower than the 20 ms frame period
        return np.zeros((48, 64, 3), np.uint8)

    cam = VirtualCamera("slow", 64, 48, fps=50, source=slow)
    with cam:
        cam.wait_new(10, 5.0)
    stats = cam.stats
    assert stats.drops >= 5
    # Every tick of the 50 Hz grid up to the last frame was either published or counted as a drop.
    assert round(rendered[-1] * 50) + 1 == stats.frames + stats.drops


# -- VirtualCamera: errors, push mode ------------------------------------------------------------------------

def test_source_failing_mid_stream_sets_error_then_recovers():
    broken = threading.Event()

    def source(t: float) -> np.ndarray:
        if broken.is_set():
            raise RuntimeError("lens cap on")
        return np.full((48, 64, 3), 7, np.uint8)

    with VirtualCamera("wrist", 64, 48, fps=100, source=source, reconnect_interval=0.05) as cam:
        seq = cam.wait_new(2, 2.0).seq
        broken.set()
        err = frames_until_error(cam, seq)
        assert str(err) == "camera 'wrist' (virtual) source failed: RuntimeError: lens cap on"
        with pytest.raises(CameraError, match="lens cap on"):
            cam.read_latest()
        assert not cam.is_connected and cam.stats.error == str(err)
        broken.clear()
        frame = cam.wait_new(seq, 3.0, through_errors=True)
        assert frame.seq > seq and cam.is_connected
        assert cam.stats.reconnects == 1 and cam.stats.error is None


def test_source_failing_at_connect_raises():
    cam = VirtualCamera("top", 64, 48, source=lambda t: np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(CameraError, match=r"camera 'top' .*shape \(10, 10, 3\)"):
        cam.connect()
    assert not cam.is_connected


def test_push_mode():
    cam = VirtualCamera("sim", 64, 48, source="push")
    with pytest.raises(CameraError, match="camera 'sim'.*not connected"):
        cam.push(np.zeros((48, 64, 3), np.uint8))
    with cam:
        with pytest.raises(CameraError, match="camera 'sim'.*no frame yet"):
            cam.read_latest()
        with pytest.raises(CameraError, match="camera 'sim'.*after waiting 0.05 s"):
            cam.read_latest(timeout=0.05)
        with pytest.raises(CameraError, match="camera 'sim'.*within 0.05 s"):
            cam.wait_new(-1, 0.05)
        buf = np.full((48, 64, 3), 9, np.uint8)
        pusher = threading.Thread(target=cam.push, args=(buf,))
        pusher.start()
        frame = cam.read_latest(timeout=2.0)  # waits for the first frame from the other thread
        pusher.join()
        buf[:] = 0  # renderers reuse buffers: the published frame must be a copy
        assert frame.seq == 0 and int(frame.image.max()) == 9
        with pytest.raises(CameraError, match="expected \\(48, 64, 3\\) uint8"):
            cam.push(np.zeros((48, 64), np.uint8))
        assert cam.push(buf, t_capture=123.0).t_capture == 123.0


def test_disconnect_wakes_waiters_and_context_manager_closes():
    cam = VirtualCamera("sim", 64, 48, source="push")
    errors: list[CameraError] = []
    started = threading.Event()

    def waiter() -> None:
        started.set()
        try:
            cam.wait_new(-1, 30.0)
        except CameraError as e:
            errors.append(e)

    with cam:
        thread = threading.Thread(target=waiter)
        thread.start()
        started.wait(2.0)
    thread.join(5.0)
    assert not thread.is_alive() and "not connected" in str(errors[0])
    with pytest.raises(CameraError, match="camera 'sim' \\(push\\) is not connected"):
        cam.read_latest()


# -- OpenCVCamera on files -----------------------------------------------------------------------------------

def test_file_source_delivers_rgb_frames_and_reports_actual_settings(tmp_path):
    path = write_video(tmp_path / "red.avi")
    with OpenCVCamera("file", path) as cam:
        frame = cam.read_latest()
        assert (cam.width, cam.height, cam.fps, cam.fourcc) == (64, 48, 30.0, "MJPG")
    assert frame.image.shape == (48, 64, 3) and frame.image.dtype == np.uint8
    r, g, b = frame.image.reshape(-1, 3).mean(axis=0)
    assert r > 230 and g < 25 and b < 25, (r, g, b)  # red stays red: BGR was flipped to RGB


def test_file_source_paces_at_requested_fps_and_loops(tmp_path):
    path = write_video(tmp_path / "clip.avi", n=12)
    with OpenCVCamera("file", path, fps=60) as cam:
        frames = [cam.read_latest()]
        while len(frames) < 31:  # more than the file holds: it must loop
            frames.append(cam.wait_new(frames[-1].seq, 2.0))
        stats = cam.stats
    assert all(b.seq > a.seq for a, b in zip(frames, frames[1:], strict=False))
    period = (frames[-1].t_capture - frames[0].t_capture) / (frames[-1].seq - frames[0].seq)
    assert 1 / 72 <= period <= 1 / 48, period
    assert 48 <= stats.fps <= 72 and stats.error is None


def test_file_source_without_loop_ends_cleanly(tmp_path):
    path = write_video(tmp_path / "short.avi", n=10)
    cam = OpenCVCamera("file", path, fps=200, loop=False)
    with cam:
        err = frames_until_error(cam, -1)
        assert "reached the end of the video" in str(err) and str(err).startswith("camera 'file'")
        stats = cam.stats
        assert stats.frames <= 10 and stats.frames + stats.drops >= 10, stats
        assert cam._thread is not None
        cam._thread.join(2.0)
        assert not cam._thread.is_alive()


def test_requested_size_that_the_source_cannot_give_raises(tmp_path):
    path = write_video(tmp_path / "small.avi")
    with pytest.raises(CameraError, match=r"camera 'top' .*delivers 64x48, not the requested 320x240"):
        OpenCVCamera("top", path, width=320, height=240).connect()


@pytest.mark.parametrize("source", ["/dev/video99", 7, "missing.avi", "junk.avi"])
def test_missing_or_bad_source_raises_naming_the_camera(tmp_path, source):
    if isinstance(source, str) and source.endswith(".avi"):
        source = tmp_path / source
        if source.name == "junk.avi":
            source.write_text("not a video")
    cam = OpenCVCamera("wrist", source)
    with pytest.raises(CameraError) as err:
        cam.connect()
    assert str(err.value).startswith(f"camera 'wrist' ({source})") and "\n" not in str(err.value)
    assert err.value.camera == "wrist" and not cam.is_connected


class UnpluggableCamera(OpenCVCamera):
    """An OpenCVCamera whose device can be pulled out: grabs fail and reopening fails while unplugged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unplugged = threading.Event()

    def _grab(self, cap):
        return None if self.unplugged.is_set() else super()._grab(cap)

    def _open_capture(self):
        if self.unplugged.is_set():
            raise self.camera_error("could not be opened: no such file or device")
        return super()._open_capture()


def test_device_that_stops_delivering_sets_error_and_reconnects(tmp_path):
    path = write_video(tmp_path / "cam.avi")
    with UnpluggableCamera("wrist", path, fps=100, reconnect_interval=0.05) as cam:
        seq = cam.wait_new(3, 2.0).seq
        cam.unplugged.set()
        err = frames_until_error(cam, seq)
        assert str(err) == f"camera 'wrist' ({path}) stopped delivering frames: unplugged? (retrying every 0.05 s)"
        with pytest.raises(CameraError, match="unplugged"):
            cam.read_latest()
        assert cam.stats.drops >= OpenCVCamera.FAILS_BEFORE_ERROR and not cam.is_connected
        cam.unplugged.clear()
        frame = cam.wait_new(seq, 3.0, through_errors=True)
        assert frame.seq > seq and cam.is_connected and cam.stats.reconnects == 1
        assert frame.image.shape == (48, 64, 3)
