"""Recording on the virtual rig in real time: the session's control loop at 90 Hz with the scripted demonstrator
moving the leader, 3 rendered cameras at 30 fps encoded while recording (AV1 by default), 60 s episodes.

Prints per episode: achieved loop Hz, tick work p50/p99, jitter p99, missed deadlines, per-camera fps and dropped
frames, bus retries/faults, and the time from episode end to durable on disk.

    .venv/bin/python bench/record.py [--episodes 2] [--episode-time 60] [--width 320 --height 240] [--codec av1]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("ROBOTAPP_HOME", tempfile.mkdtemp(prefix="robotapp-bench-"))

from robotapp.runtime.modes import SessionConfig  # noqa: E402
from robotapp.runtime.recording import RecordingPlan  # noqa: E402
from robotapp.runtime.rigs import open_rig  # noqa: E402
from robotapp.runtime.scenes import DemonstratorScene  # noqa: E402
from robotapp.runtime.session import Session  # noqa: E402


class LongDemo(DemonstratorScene):
    """The demonstrator does its pick and place, then the leader rests until the episode's time is up."""

    def finished(self) -> bool:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=2)
    ap.add_argument("--episode-time", type=float, default=60.0)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--codec", default="av1", choices=["av1", "h264"])
    ap.add_argument("--hz", type=float, default=90.0)
    args = ap.parse_args()
    cams = ("front", "top", "wrist")
    rig = open_rig(cameras=cams, width=args.width, height=args.height, camera_fps=30)
    session = Session(rig, SessionConfig(control_hz=args.hz, fps=30)).start()
    out = Path(tempfile.mkdtemp(prefix="robotapp-bench-record-")) / "ds"
    try:
        plan = RecordingPlan(out, "pick and place the cube", args.episodes, args.episode_time, reset_time=1.0,
                             warmup_time=1.0)
        session.record(plan, scene=LongDemo(rig.sim, seed=0), align=True, codec=args.codec)
        flow = session.recording
        session.wait_idle(timeout=args.episodes * (args.episode_time + 30) + 60)
    finally:
        session.close()
        rig.close()
    print(f"machine: {platform.node() or 'vm'} · {os.cpu_count()} cores · {platform.machine()} · "
          f"Python {platform.python_version()}")
    print(f"command: python bench/record.py --episodes {args.episodes} --episode-time {args.episode_time:g} "
          f"--width {args.width} --height {args.height} --codec {args.codec} --hz {args.hz:g}")
    print(f"3 cameras ({', '.join(cams)}) at {args.width}x{args.height}, 30 fps; control loop target "
          f"{args.hz:g} Hz\n")
    head = "| episode | frames | loop Hz | tick p50 ms | tick p99 ms | jitter p99 ms | missed deadlines | " + \
        " | ".join(f"{c} fps / dropped" for c in cams) + " | bus retries / faults | end → durable s |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for t, r in zip(flow.telemetry, flow.results, strict=True):
        cam_cells = " | ".join(f"{t.camera_fps[c]:.1f} / {t.camera_dropped[c]}" for c in cams)
        durable = f"{r.durable_s:.2f}" if r.durable_s is not None else "n/a"
        print(f"| {t.episode_index} | {t.frames} | {t.loop_hz:.1f} | {t.tick_ms_p50:.2f} | {t.tick_ms_p99:.2f} | "
              f"{t.jitter_ms_p99:.2f} | {t.missed_deadlines} | {cam_cells} | {t.bus_retries} / {t.bus_faults} | "
              f"{durable} |")


if __name__ == "__main__":
    main()
