"""Training and inference speed of our ACT and Diffusion Policy at a preset (default cpu-small).

For each policy: the trainer itself (policies.train.train, in-process, frame cache + optimiser + EMA, CSV log)
runs --steps steps on a dataset shaped like the virtual pick-and-place task (6-DoF, cameras "front" and "wrist"
at 240x320, synthetic images; or --dataset DIR); step time and samples/s are medians after --warmup steps. Then
the trained policy runs --calls select_action calls on camera-sized observations (resize included): p50/p99
of every call, and of the calls that ran the network (the chunk inference). Prints a markdown table.

    .venv/bin/python bench/train.py [--policies act,diffusion] [--preset cpu-small] [--steps 40] [--calls 400]
                                    [--threads 2] [--amp] [--dataset DIR] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

import torch  # noqa: E402

from policies import load_policy  # noqa: E402
from policies.data import FrameCache, InMemoryDataset  # noqa: E402
from policies.train import TrainOptions, train  # noqa: E402

TASK_EPISODE_FRAMES = 300
TASK_EPISODES = 50
BUDGET_S = 30 * 60


def synthetic_task(n_episodes: int, length: int, hw=(240, 320), seed: int = 0) -> InMemoryDataset:
    """Episodes shaped like the virtual task: a red cube on a grey table seen by two cameras, a 6-D arm."""
    rng = np.random.default_rng(seed)
    h, w = hw
    eps = []
    for _ in range(n_episodes):
        t = np.linspace(0, 1, length)[:, None]
        goal = rng.uniform(-40, 40, (1, 6))
        state = (goal * np.sin(np.pi * t) + rng.normal(0, 0.3, (length, 6))).astype(np.float32)
        action = np.roll(state, -1, 0)
        ep = {"observation.state": state, "action": action}
        cy, cx = rng.integers(40, h - 40), rng.integers(40, w - 40)
        for cam in ("front", "wrist"):
            base = np.full((h, w, 3), 110, np.uint8)
            base[cy:cy + 16, cx:cx + 16] = (200, 30, 30)
            frames = np.repeat(base[None], length, 0)
            frames += rng.integers(0, 8, frames.shape, dtype=np.uint8)
            ep[f"observation.images.{cam}"] = frames
        eps.append(ep)
    return InMemoryDataset(eps, fps=30)


def _reader(args):
    if args.dataset:
        from robotapp.dataset import DatasetReader

        return DatasetReader(args.dataset)
    return synthetic_task(args.episodes, args.episode_frames)


def bench_policy(kind: str, args, reader, overrides: dict) -> dict:
    out = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    records: list[dict] = []
    t0 = time.perf_counter()
    result = train(TrainOptions(policy=kind, preset=args.preset, steps=args.warmup + args.steps, out=out,
                                log_every=1, save_every=0, progress=False, num_threads=args.threads,
                                batch_size=args.batch_size, overrides=overrides, device="cpu", amp=args.amp),
                   reader=reader, callback=records.append)
    total = time.perf_counter() - t0
    timed = records[args.warmup:]
    step_ms = float(np.median([r["step_ms"] for r in timed]))
    policy = load_policy(result.checkpoint)
    cfg = policy.config
    # data pipeline alone: batches from the same cache
    cache = FrameCache.build(reader, image_size=cfg.model_image_size,
                             cameras=[k.removeprefix("observation.images.") for k in cfg.image_keys])
    from policies.data import BatchSampler

    sampler = BatchSampler(cache, policy.delta_indices, cfg.batch_size, augment_shift=cfg.augment_shift,
                           drop_n_last_frames=getattr(cfg, "drop_n_last_frames", 0))
    td = time.perf_counter()
    for _ in range(20):
        sampler.next_batch()
    data_ms = (time.perf_counter() - td) / 20 * 1000
    call, infer = _select_action_latency(policy, reader, args.calls)
    return {
        "policy": kind, "params_m": sum(p.numel() for p in policy.parameters()) / 1e6, "batch": cfg.batch_size,
        "step_ms": step_ms, "samples_per_s": cfg.batch_size / step_ms * 1000, "data_ms": data_ms,
        "call_p50": np.percentile(call, 50), "call_p99": np.percentile(call, 99),
        "infer_p50": np.percentile(infer, 50) if infer else float("nan"),
        "infer_p99": np.percentile(infer, 99) if infer else float("nan"),
        "n_infer": len(infer), "cache_mb": cache.nbytes / 1e6, "train_wall_s": total,
        "config": {k: v for k, v in cfg.to_dict().items() if k not in ("input_features", "output_features")},
    }


def _select_action_latency(policy, reader, calls: int) -> tuple[list[float], list[float]]:
    ep = reader.episode_data(0)
    cams = {k: reader.decode_episode_video(0, k) for k in policy.config.image_keys}
    n = len(ep["action"])
    all_ms, infer_ms = [], []
    policy.reset()
    for i in range(calls):
        j = i % n
        obs = {"observation.state": ep["observation.state"][j], **{k: v[j] for k, v in cams.items()}}
        ran = getattr(policy, "ensembler", None) is not None or len(policy.queue) == 0
        t = time.perf_counter()
        policy.select_action(obs)
        dt = (time.perf_counter() - t) * 1000
        if i >= 20:  # warm-up calls excluded
            all_ms.append(dt)
            if ran:
                infer_ms.append(dt)
    return all_ms, infer_ms


def _setting(text: str):
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", default="act,diffusion")
    ap.add_argument("--preset", default="cpu-small")
    ap.add_argument("--steps", type=int, default=40, help="timed training steps per policy")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--calls", type=int, default=400, help="select_action calls per policy")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--amp", action="store_true", help="train with bfloat16 autocast")
    ap.add_argument("--dataset", default=None, help="a LeRobot v3.0 dataset instead of synthetic episodes")
    ap.add_argument("--episodes", type=int, default=8, help="synthetic episodes")
    ap.add_argument("--episode-frames", type=int, default=150, help="frames per synthetic episode")
    ap.add_argument("--set", type=_setting, action="append", default=[], dest="settings", metavar="KEY=VALUE")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    reader = _reader(args)
    rows = [bench_policy(kind, args, reader, dict(args.settings)) for kind in args.policies.split(",")]
    threads = args.threads or torch.get_num_threads()
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{threads} threads, preset {args.preset}{' +amp' if args.amp else ''}, {args.steps} timed steps after "
          f"{args.warmup} warm-up, overrides {dict(args.settings) or 'none'}\n")
    print("| policy | params | batch | step ms | samples/s | batch build ms | select_action p50 / p99 ms "
          "| inference p50 / p99 ms | 30 min = samples (epochs of 50x300) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        budget = r["samples_per_s"] * BUDGET_S
        print(f"| {r['policy']} | {r['params_m']:.2f} M | {r['batch']} | {r['step_ms']:.0f} | {r['samples_per_s']:.1f} "
              f"| {r['data_ms']:.1f} | {r['call_p50']:.2f} / {r['call_p99']:.2f} "
              f"| {r['infer_p50']:.1f} / {r['infer_p99']:.1f} (n={r['n_infer']}) "
              f"| {budget / 1e3:.0f}k ({budget / (TASK_EPISODES * TASK_EPISODE_FRAMES):.1f}) |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2, default=float)


if __name__ == "__main__":
    main()
