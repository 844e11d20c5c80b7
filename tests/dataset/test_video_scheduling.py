"""libsvtav1 run as root starts its encoder threads at SCHED_FIFO 99; on a 2-core machine they starve the control
loop, the window and everything else. The writer puts every thread that became real-time back to the normal
policy once the codec is open. (As a normal user the encoder cannot raise them and this holds trivially.)"""

import threading

import numpy as np

from robotapp.dataset.video import VideoFileWriter, VideoSettings, _real_time_threads


def test_an_av1_encoder_leaves_no_thread_at_real_time_priority(tmp_path):
    before = _real_time_threads()
    writer = VideoFileWriter(tmp_path / "v.mp4", 30, 64, 64, VideoSettings(codec="av1"))
    frame = np.zeros((64, 64, 3), np.uint8)
    for i in range(5):
        frame[:] = i * 40
        writer.write(frame)
    during = _real_time_threads()  # the encoder's worker threads are alive here
    writer.close()
    assert during <= before, f"threads {sorted(during - before)} were left at a real-time policy"
    assert threading.get_native_id() not in during


def test_real_time_threads_reports_a_real_time_thread():
    """The check above can fail: a thread put at SCHED_FIFO (where allowed) is reported."""
    import os

    import pytest

    tid = threading.get_native_id()
    try:
        os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(1))
    except PermissionError:
        pytest.skip("this user may not use real-time priority")
    try:
        assert tid in _real_time_threads()
    finally:
        os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
