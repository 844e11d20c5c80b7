"""Thread priority for the threads that must keep time: the control loop and its watchdog, and on the virtual
rig the emulated servos, which stand in for hardware that never waits for a CPU (the world's thread is not
raised: it renders the cameras, and a real-time renderer would starve the rest of the machine). On a busy
computer (a training run on every core, a browser) the OS otherwise shares the cores evenly and the control loop
waits its turn for tens of ms.

Linux real-time scheduling (SCHED_FIFO, low priorities) lets these threads run as soon as they wake; they sleep
most of each tick, so the rest of the machine loses little. It needs CAP_SYS_NICE or an rtprio limit; without
either the threads keep the normal priority and one line says how to allow it.

On by default; ROBOTAPP_REALTIME=0 turns it off. (It was opt-in for a while after a test process was found
whole at SCHED_FIFO 99, starving the machine: that was libsvtav1, which as root starts its encoder threads at 99;
dataset/video.py now puts them back. Nothing here asks for 99, and the threads raised here reset their children.)"""

from __future__ import annotations

import os
import sys
import threading

# FIFO priorities: the control loop above the devices it talks to, both far below the kernel's own threads.
CONTROL = 20
DEVICE = 10
# Threads of the control loop's process that take the interpreter lock for a moment each tick or frame (the
# encoder feeder, the dataset committer, camera threads, the session's worker). At normal priority another
# program can preempt one of them while it holds that lock, and the control loop then waits for it as if it
# were that program (measured: tick p99 22 ms under a training run). Above other programs, below the devices.
BACKGROUND = 5

HINT = ("the control loop runs at normal priority and may wait behind other programs; to let it run first, allow "
        "real-time priority: sudo setcap cap_sys_nice+ep $(readlink -f {python}) (or an rtprio limit for your user)")
_hint_lock = threading.Lock()
_hint_given = False


def raise_priority(level: int) -> bool:
    """Make the calling thread real-time (SCHED_FIFO at `level`) when the system allows it; True if it did.
    The first refusal in a process prints HINT once on stderr."""
    global _hint_given
    if not hasattr(os, "sched_setscheduler") or os.environ.get("ROBOTAPP_REALTIME") == "0":
        return False
    try:
        # reset-on-fork: threads and processes this one starts (writers, encoders) keep the normal priority
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_FIFO | getattr(os, "SCHED_RESET_ON_FORK", 0),
                              os.sched_param(level))
        return True
    except (PermissionError, OSError):
        with _hint_lock:
            if not _hint_given:
                _hint_given = True
                print(HINT.format(python=sys.executable), file=sys.stderr)
        return False
