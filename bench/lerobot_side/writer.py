"""lerobot's side of P2 (run by the lerobot venv's python): LeRobotDataset.create + add_frame + save_episode on the
same frames our writer gets, in the same 30 fps paced loop.

    $LEROBOT_PYTHON bench/lerobot_side/writer.py --frames frames.npy --root DIR --episodes 3 --seconds 20 \
        --out result.json [--streaming]

frames.npy: uint8 (cameras, n, h, w, 3), cycled. Default mode is lerobot-record's default (PNG files written by
4 threads per camera, AV1 encoded in save_episode); --streaming is its streaming_encoding=true with
encoder_threads=2 (what lerobot's docs recommend on capable hardware). Per episode: loop Hz, tick lateness
(jitter), add_frame latency, dropped frames and episode end -> saved time. Imports only lerobot and numpy."""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--episodes", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--streaming", action="store_true")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    frames = np.load(args.frames)
    ncam, nf, h, w, _ = frames.shape
    cams = [f"observation.images.cam{i}" for i in range(ncam)]
    features = {
        "observation.state": {"dtype": "float32", "shape": (6,), "names": [f"{j}.pos" for j in JOINTS]},
        "action": {"dtype": "float32", "shape": (6,), "names": [f"{j}.pos" for j in JOINTS]},
        **{k: {"dtype": "video", "shape": (h, w, 3), "names": ["height", "width", "channels"]} for k in cams},
    }
    root = Path(args.root)
    if root.exists():
        shutil.rmtree(root)
    extra = dict(streaming_encoding=True, encoder_threads=2) if args.streaming else {}
    ds = LeRobotDataset.create("bench/lerobot_writer", fps=args.fps, root=root, robot_type="koch", features=features,
                               use_videos=True, image_writer_processes=0, image_writer_threads=4 * ncam, **extra)
    episodes = []
    period = 1.0 / args.fps
    n = int(round(args.seconds * args.fps))
    try:
        for _ in range(args.episodes):
            late, add = np.empty(n), np.empty(n)
            start = time.monotonic()
            for k in range(n):
                deadline = start + k * period
                now = time.monotonic()
                if now < deadline:
                    time.sleep(deadline - now)
                    now = time.monotonic()
                late[k] = now - deadline
                q = np.full(6, np.sin(k / args.fps) * 30, np.float32)
                frame = {"observation.state": q, "action": q + 0.5, "task": "pick the cube",
                         **{key: frames[i, k % nf] for i, key in enumerate(cams)}}
                t0 = time.perf_counter()
                ds.add_frame(frame)
                add[k] = time.perf_counter() - t0
            span = (n - 1) * period + late[-1] - late[0]  # first tick start -> last tick start
            enc = getattr(ds, "_streaming_encoder", None)
            dropped = sum(getattr(enc, "_dropped_frames", {}).values()) if enc is not None else 0
            t0 = time.perf_counter()
            ds.save_episode()
            durable = time.perf_counter() - t0
            episodes.append({"frames": n, "loop_hz": (n - 1) / span, "late_p99_ms": float(np.percentile(late, 99) * 1e3),
                             "late_max_ms": float(late.max() * 1e3),
                             "add_frame_p50_ms": float(np.percentile(add, 50) * 1e3),
                             "add_frame_p99_ms": float(np.percentile(add, 99) * 1e3), "dropped": int(dropped),
                             "durable_s": durable})
        ds.finalize()
    finally:
        if getattr(ds, "image_writer", None) is not None:
            ds.stop_image_writer()
    with open(args.out, "w") as f:
        json.dump({"episodes": episodes}, f)


if __name__ == "__main__":
    main()
