"""Recording on the virtual rig in real time: the session's control loop at 90 Hz with the scripted demonstrator
moving the leader, 3 rendered cameras at 30 fps encoded while recording (AV1 by default), 60 s episodes.

Prints per episode: achieved loop Hz, tick work p50/p99, jitter p99, missed deadlines, per-camera fps and dropped
frames, bus retries/faults, and the time from episode end to durable on disk.

    .venv/bin/python bench/record.py [--episodes 2] [--episode-time 60] [--width 320 --height 240] [--codec av1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("ROBOTAPP_HOME", tempfile.mkdtemp(prefix="robotapp-bench-"))

from robotapp.core.modes import SessionConfig  # noqa: E402
from robotapp.core.recording import RecordingPlan  # noqa: E402
from robotapp.core.rig_opener import open_rig  # noqa: E402
from robotapp.core.scenes import DemonstratorScene  # noqa: E402
from robotapp.core.session import Session  # noqa: E402

CAMS = ("front", "top", "wrist")


class LongDemo(DemonstratorScene):
    """The demonstrator does its pick and place, then the leader rests until the episode's time is up."""

    def finished(self) -> bool:
        return False


def record_session(episodes: int, episode_time: float, width: int = 320, height: int = 240, codec: str = "av1",
                   hz: float = 90.0) -> tuple[list[dict], list[str]]:
    """Record on the virtual rig through the session; per episode: telemetry and end -> durable (the suite's P2),
    and the session's events."""
    rig = open_rig(cameras=CAMS, width=width, height=height, camera_fps=30)
    session = Session(rig, SessionConfig(control_hz=hz, fps=30)).start()
    out = Path(tempfile.mkdtemp(prefix="robotapp-bench-record-")) / "ds"
    events: list[str] = []  # what the session said: why a recording ended early, when it does
    session.events.subscribe(lambda e: events.append(f"{e.kind}: {e.message}"))
    try:
        plan = RecordingPlan(out, "pick and place the cube", episodes, episode_time, reset_time=1.0,
                             warmup_time=1.0)
        session.record(plan, scene=LongDemo(rig.sim, seed=0), align=True, codec=codec)
        flow = session.recording
        session.wait_idle(timeout=episodes * (episode_time + 30) + 60)
    finally:
        session.close()
        rig.close()
        shutil.rmtree(out.parent, ignore_errors=True)
    rows = []
    for t, r in zip(flow.telemetry, flow.results, strict=True):
        rows.append({"episode": t.episode_index, "frames": t.frames, "loop_hz": t.loop_hz, "tick_ms_p50": t.tick_ms_p50,
                     "tick_ms_p99": t.tick_ms_p99, "jitter_ms_p99": t.jitter_ms_p99,
                     "missed_deadlines": t.missed_deadlines, "camera_fps": dict(t.camera_fps),
                     "camera_dropped": dict(t.camera_dropped), "dropped": int(sum(t.camera_dropped.values())),
                     "bus_retries": t.bus_retries, "bus_faults": t.bus_faults, "durable_s": r.durable_s})
    return rows, events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=2)
    ap.add_argument("--episode-time", type=float, default=60.0)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--codec", default="av1", choices=["av1", "h264"])
    ap.add_argument("--hz", type=float, default=90.0)
    ap.add_argument("--json", default=None, help="also write the per-episode results here")
    args = ap.parse_args()
    rows, events = record_session(args.episodes, args.episode_time, args.width, args.height, args.codec, args.hz)
    if len(rows) < args.episodes:
        print(f"{len(rows)} of {args.episodes} episodes recorded; the session said:\n  " + "\n  ".join(events),
              file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"episodes": rows, "events": events}, f)
    print(f"machine: {platform.node() or 'vm'} · {os.cpu_count()} cores · {platform.machine()} · "
          f"Python {platform.python_version()}")
    print(f"command: python bench/record.py --episodes {args.episodes} --episode-time {args.episode_time:g} "
          f"--width {args.width} --height {args.height} --codec {args.codec} --hz {args.hz:g}")
    print(f"3 cameras ({', '.join(CAMS)}) at {args.width}x{args.height}, 30 fps; control loop target "
          f"{args.hz:g} Hz\n")
    head = "| episode | frames | loop Hz | tick p50 ms | tick p99 ms | jitter p99 ms | missed deadlines | " + \
        " | ".join(f"{c} fps / dropped" for c in CAMS) + " | bus retries / faults | end → durable s |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        cam_cells = " | ".join(f"{r['camera_fps'][c]:.1f} / {r['camera_dropped'][c]}" for c in CAMS)
        durable = f"{r['durable_s']:.2f}" if r["durable_s"] is not None else "n/a"
        print(f"| {r['episode']} | {r['frames']} | {r['loop_hz']:.1f} | {r['tick_ms_p50']:.2f} | {r['tick_ms_p99']:.2f} "
              f"| {r['jitter_ms_p99']:.2f} | {r['missed_deadlines']} | {cam_cells} | {r['bus_retries']} / "
              f"{r['bus_faults']} | {durable} |")


if __name__ == "__main__":
    main()
