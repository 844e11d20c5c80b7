"""Dataset recording benchmark: a control loop paced at --fps feeds DatasetWriter.add_frame with --cams cameras
of --height x --width for --seconds, like the runtime does (the writer copies each image into the encoder process's shared buffer). Then a few short episodes measure "episode end -> durable", and the
reader's random access and sequential decoding are timed on what was written. Prints a markdown table.

    .venv/bin/python bench/dataset.py [--seconds 60] [--cams 3] [--codec av1] [--short 5]

add_frame latency: time inside add_frame per call. Encoder fps: frames each camera's encoder turned out per
second of encode calls (its capacity on this machine while all of them run), and frames per wall-clock second
(they must keep up with --fps). Dropped: frames refused by a full queue (the loop never waits). Durable: from
save_episode to the episode being published (and, before that, fsynced in staging)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from robotapp.dataset import DatasetReader, DatasetWriter, build_features  # noqa: E402

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]


def camera_frames(n: int, h: int, w: int, cam: int) -> list[np.ndarray]:
    """Camera-like frames: shading, a moving object, sensor noise; read-only like hardware/cameras hands out."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / h, xx / w
    rng = np.random.default_rng(cam)
    base = np.stack([60 + 120 * xx + 10 * cam, 50 + 100 * yy, 90 + 40 * np.sin(3 * xx + cam)], axis=-1)
    out = []
    for i in range(n):
        cx, cy = 0.5 + 0.3 * np.sin(2 * np.pi * i / n), 0.5 + 0.25 * np.cos(2 * np.pi * i / n)
        blob = np.exp(-(((xx - cx) / 0.1) ** 2 + ((yy - cy) / 0.12) ** 2))[..., None]
        img = base + blob * np.array([110.0, -30.0, -40.0]) + rng.normal(0, 2.0, (h, w, 1))
        a = np.clip(img, 0, 255).astype(np.uint8)
        a.flags.writeable = False
        out.append(a)
    return out


def noop(observation: dict, action: np.ndarray, task: str) -> int:
    """About as much Python as add_frame minus its work: the machine's noise floor for the same loop."""
    n = 0
    for key, value in observation.items():
        n += len(key) + value.ndim
    return n + len(task) + action.ndim


def record(writer: DatasetWriter, frames: dict[str, list[np.ndarray]], fps: int, seconds: float,
           lat: list[float] | None, t_ep: int, base: list[float] | None = None,
           lateness: list[float] | None = None) -> tuple[object, int, float]:
    """A loop paced at fps feeding add_frame; `lateness` gets each tick's start minus its deadline (s)."""
    n = int(round(seconds * fps))
    period = 1.0 / fps
    start = time.monotonic()
    late = 0
    nf = len(next(iter(frames.values())))
    for k in range(n):
        deadline = start + k * period
        now = time.monotonic()
        if now < deadline:
            time.sleep(deadline - now)
        elif now - deadline > period:
            late += 1
        if lateness is not None:
            lateness.append(time.monotonic() - deadline)
        q = np.full(len(JOINTS), np.sin(k / fps) * 30, np.float32)
        obs = {"observation.state": q, **{key: f[k % nf] for key, f in frames.items()}}
        act = q + 0.5
        t0 = time.perf_counter()
        noop(obs, act, "pick the cube")
        t1 = time.perf_counter()
        writer.add_frame(obs, act, "pick the cube")
        if lat is not None:
            lat.append(time.perf_counter() - t1)
            base.append(t1 - t0)
    wall = time.monotonic() - start
    res = writer.save_episode({"bench_episode": t_ep})
    return res, late, wall


def writer_episodes(frames: np.ndarray, root: Path, episodes: int, seconds: float, fps: int = 30,
                    codec: str = "av1") -> list[dict]:
    """The suite's P2 (next to lerobot's writer on the same frames): `episodes` episodes of `seconds` in the
    paced loop; frames is uint8 (cameras, n, h, w, 3), cycled. Per episode: loop Hz, tick lateness, add_frame
    latency, dropped frames, episode end -> durable."""
    ncam, _, h, w, _ = frames.shape
    cams = [f"cam{i}" for i in range(ncam)]
    feed = {f"observation.images.{c}": [_readonly(f) for f in frames[i]] for i, c in enumerate(cams)}
    if root.exists():
        shutil.rmtree(root)
    writer = DatasetWriter.create(root, fps=fps, features=build_features(JOINTS, [(c, h, w) for c in cams]),
                                  robot_type="koch", codec=codec)
    out = []
    try:
        for e in range(episodes):
            lat, base, late = [], [], []
            dropped0 = sum(writer.stats.dropped.values())
            t0 = time.monotonic()
            res, _, _ = record(writer, feed, fps, seconds, lat, e, base, late)
            res.wait(300)
            n = len(lat)
            span = (n - 1) / fps + late[-1] - late[0]  # first tick start -> last tick start
            out.append({"frames": n, "loop_hz": (n - 1) / span, "late_p99_ms": float(np.percentile(late, 99) * 1e3),
                        "late_max_ms": float(max(late) * 1e3),
                        "add_frame_p50_ms": float(np.percentile(lat, 50) * 1e3),
                        "add_frame_p99_ms": float(np.percentile(lat, 99) * 1e3),
                        "dropped": int(sum(writer.stats.dropped.values()) - dropped0), "durable_s": res.durable_s,
                        "episode_wall_s": time.monotonic() - t0})
    finally:
        writer.close()
    return out


def random_access(root: Path, indices: list[int]) -> dict:
    """The suite's P6 (next to lerobot's LeRobotDataset on the same dataset and indices): open, then read each
    index with every camera's image decoded."""
    t0 = time.perf_counter()
    reader = DatasetReader(root)
    reader.frame(0)
    open_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    for i in indices:
        reader.frame(int(i))
    read_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    reader.close()
    return {"open_s": open_s, "read_s": read_s, "cpu_s": cpu_s, "frames": len(indices)}


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--cams", type=int, default=3)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--codec", default="av1", choices=["av1", "h264"])
    ap.add_argument("--short", type=int, default=5, help="short episodes (3 s) for the durable-time figures")
    ap.add_argument("--random", type=int, default=300, help="random frame reads for the reader figure")
    ap.add_argument("--keep", default=None, metavar="DIR", help="write the dataset here and keep it")
    ap.add_argument("--frames", default=None, metavar="NPY",
                    help="suite mode: record --episodes episodes of these frames (cameras, n, h, w, 3), write --json")
    ap.add_argument("--episodes", type=int, default=3, help="with --frames")
    ap.add_argument("--json", default=None, help="with --frames: write the per-episode results here")
    ap.add_argument("--read", default=None, metavar="DIR",
                    help="suite mode: random access on DIR at the indices in --indices (JSON list), write --json")
    ap.add_argument("--indices", default=None)
    args = ap.parse_args()
    if args.read:
        with open(args.indices) as f:
            res = random_access(Path(args.read), json.load(f))
        with open(args.json, "w") as f:
            json.dump(res, f)
        return 0
    if args.frames:
        root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-writer-")) / "ds"
        eps = writer_episodes(np.load(args.frames), root, args.episodes, args.seconds, args.fps, args.codec)
        with open(args.json, "w") as f:
            json.dump({"episodes": eps}, f)
        if not args.keep:
            shutil.rmtree(root.parent, ignore_errors=True)
        return 0

    h, w = args.height, args.width
    cams = [f"cam{i}" for i in range(args.cams)]
    print(f"preparing {args.cams} x {w}x{h} synthetic camera streams...", file=sys.stderr)
    frames = {f"observation.images.{c}": camera_frames(2 * args.fps, h, w, i) for i, c in enumerate(cams)}
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-dataset-")) / "ds"
    if tmp.exists():
        shutil.rmtree(tmp)
    writer = DatasetWriter.create(tmp, fps=args.fps, features=build_features(JOINTS, [(c, h, w) for c in cams]),
                                  robot_type="koch", codec=args.codec)
    lat: list[float] = []
    base: list[float] = []
    print(f"recording {args.seconds:.0f} s...", file=sys.stderr)
    load0 = os.getloadavg()[0]
    t_rec = time.monotonic()
    enc0 = {k: (0, 0.0) for k in frames}
    res, late, wall = record(writer, frames, args.fps, args.seconds, lat, 0, base)
    st = writer.stats
    enc_backlog = dict(st.backlog)
    res.wait(120)
    st = writer.stats
    enc_capacity = {k: st.encoded[k] / st.encode_s[k] if st.encode_s[k] else float("nan") for k in frames}
    enc_wall = {k: (st.encoded[k] - enc0[k][0]) / (time.monotonic() - t_rec) for k in frames}
    dropped = dict(st.dropped)
    durable, staged = [res.durable_s], [res.staged_s]
    for i in range(args.short):
        r, _, _ = record(writer, frames, args.fps, 3.0, None, i + 1)
        r.wait(60)
        durable.append(r.durable_s)
        staged.append(r.staged_s)
    writer.close()
    load1 = os.getloadavg()[0]

    reader = DatasetReader(tmp)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, reader.num_frames, args.random)
    t0 = time.perf_counter()
    for i in idx:
        reader.frame(int(i))
    ra = args.random / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    seq = reader.decode_episode_video(1, f"observation.images.{cams[0]}")
    seq_fps = len(seq) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    seq_small = reader.decode_episode_video(1, f"observation.images.{cams[0]}", size=(96, 128))
    seq_small_fps = len(seq_small) / (time.perf_counter() - t0)
    size_mb = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file()) / 1e6
    reader.close()

    lat_us = np.array(lat) * 1e6
    base_us = np.array(base) * 1e6
    n = len(lat)
    print()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"load average {load0:.1f} -> {load1:.1f} (other work shares the cores)")
    print(f"setup: {args.cams} cameras {w}x{h} @ {args.fps} fps, {args.codec}, one {args.seconds:.0f} s episode "
          f"({n} frames) + {args.short} x 3 s episodes; encoders in a separate process")
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| add_frame latency p50 / p99 / max | {np.percentile(lat_us, 50):.0f} / {np.percentile(lat_us, 99):.0f}"
          f" / {lat_us.max():.0f} µs ({int((lat_us > 1000).sum())} calls over 1 ms) |")
    print(f"| same loop, a no-op call of similar size, p50 / p99 / max | {np.percentile(base_us, 50):.0f} / "
          f"{np.percentile(base_us, 99):.0f} / {base_us.max():.0f} µs (the machine's noise floor) |")
    print(f"| control loop ticks late by > 1 period | {late} of {n} |")
    for k in frames:
        cam = k.rsplit(".", 1)[1]
        print(f"| encoder {cam}: capacity / achieved | {enc_capacity[k]:.0f} / {enc_wall[k]:.1f} fps "
              f"(backlog at episode end {enc_backlog[k]} frames) |")
    print(f"| dropped frames (per camera) | {', '.join(f'{k.rsplit(chr(46), 1)[1]} {v}' for k, v in dropped.items())}"
          f" of {n} each |")
    print(f"| episode end -> durable, {args.seconds:.0f} s episode | {durable[0] * 1000:.0f} ms "
          f"(staged and fsynced after {staged[0] * 1000:.0f} ms) |")
    if args.short:
        print(f"| episode end -> durable, 3 s episodes (median / max) | {np.median(durable[1:]) * 1000:.0f} / "
              f"{max(durable[1:]) * 1000:.0f} ms |")
    print(f"| reader random access ({args.cams} images per frame) | {ra:.0f} frames/s "
          f"({ra * args.cams:.0f} images/s) |")
    print(f"| reader sequential decode, one camera | {seq_fps:.0f} frames/s ({w}x{h}), {seq_small_fps:.0f} "
          f"frames/s resized to 128x96 |")
    print(f"| dataset size | {size_mb:.1f} MB for {reader.num_frames} frames |")
    if not args.keep:
        shutil.rmtree(tmp.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
