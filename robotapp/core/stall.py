"""What a stall of the control loop was and what to do about it, in plain words: the measured stall, the
machine's load, the way out for what was running."""

from __future__ import annotations

import os

from robotapp.core.modes import Mode


def stall_words(stalled_s: float, mode: Mode, recording: bool) -> str:
    """What a stall was and what to do, in plain words: the measured stall, the machine's load, the way out."""
    try:
        load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count() or 1} cores"
    except OSError:
        load = f"{os.cpu_count() or 1} cores"
    text = f"the computer was busy for {stalled_s * 1e3:.0f} ms ({load}): follower held"
    if recording:
        return (text + "; the episode in progress is recorded again after the reset. If it happens again: close "
                       "other programs, or record lock-step with --fast on the virtual rig")
    if mode in (Mode.TELEOP, Mode.ALIGN):
        return text + "; engage again when ready (the follower aligns first)"
    return text
