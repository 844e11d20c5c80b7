"""Training and inference speed of our ACT and Diffusion Policy at a preset (default cpu-small).

For each policy: the trainer itself (policies.train.train, in-process, frame cache + optimiser + EMA, CSV log)
runs --steps steps on a dataset shaped like the virtual pick-and-place task (6-DoF, cameras "front" and "wrist"
at 240x320, synthetic images; or --dataset DIR); step time and samples/s are medians after --warmup steps. Then
the trained policy runs --calls select_action calls on camera-sized observations (resize included): p50/p99
of every call, and of the calls that ran the network (the chunk inference). Prints a markdown table.

    .venv/bin/python bench/train.py [--policies act,diffusion] [--preset cpu-small] [--steps 40] [--calls 400]
                                    [--threads 2] [--amp] [--dataset DIR] [--set KEY=VALUE ...]

With --vs-lerobot (run it with a Python that has lerobot installed, e.g. /work/lerobot-venv/bin/python) it builds
lerobot's ACT/Diffusion at the same config (the preset, with lerobot's backbone: ResNet-18 width 64, frozen BN for
ACT), copies lerobot's weights into ours, checks the outputs agree, and times both networks' training step and
chunk inference on identical batches.
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
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as robotapp and policies do on import

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
    cpu: list[float] = []
    t0 = time.perf_counter()

    first: list[float] = []

    def on_log(rec: dict) -> None:
        if not records:
            first.append(time.perf_counter() - t0)  # frame cache built, policy made, one step done
        records.append(rec)
        cpu.append(time.process_time())

    result = train(TrainOptions(policy=kind, preset=args.preset, steps=args.warmup + args.steps, out=out,
                                log_every=1, save_every=0, progress=False, num_threads=args.threads,
                                batch_size=args.batch_size, overrides=overrides, device="cpu", amp=args.amp),
                   reader=reader, callback=on_log)
    total = time.perf_counter() - t0
    timed = records[args.warmup:]
    step_ms = float(np.median([r["step_ms"] for r in timed]))
    cpu_ms = float(np.median(np.diff(cpu[args.warmup - 1:]))) * 1000  # process CPU time per step (all threads)
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
        "cpu_ms": cpu_ms, "samples_per_cpu_s": cfg.batch_size / cpu_ms * 1000,
        "call_p50": np.percentile(call, 50), "call_p99": np.percentile(call, 99),
        "infer_p50": np.percentile(infer, 50) if infer else float("nan"),
        "infer_p99": np.percentile(infer, 99) if infer else float("nan"),
        "n_infer": len(infer), "cache_mb": cache.nbytes / 1e6, "train_wall_s": total, "first_step_s": first[0],
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


ACT_SHARED = ("chunk_size", "n_action_steps", "dim_model", "n_heads", "dim_feedforward", "feedforward_activation",
              "n_encoder_layers", "n_decoder_layers", "use_vae", "latent_dim", "n_vae_encoder_layers", "dropout",
              "kl_weight", "pre_norm", "replace_final_stride_with_dilation", "temporal_ensemble_coeff")
DIFFUSION_SHARED = ("n_obs_steps", "horizon", "n_action_steps", "crop_shape", "crop_is_random",
                    "spatial_softmax_num_keypoints", "use_separate_rgb_encoder_per_camera", "down_dims", "kernel_size",
                    "n_groups", "diffusion_step_embed_dim", "use_film_scale_modulation", "noise_scheduler_type",
                    "num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "prediction_type", "clip_sample",
                    "clip_sample_range", "num_inference_steps", "drop_n_last_frames")


def vs_lerobot(args) -> None:
    torch.set_num_threads(args.threads or torch.get_num_threads())
    hw = (240, 320)
    feats = {"observation.state": {"dtype": "float32", "shape": [6]}, "action": {"dtype": "float32", "shape": [6]},
             **{f"observation.images.{c}": {"dtype": "video", "shape": [*hw, 3]} for c in ("front", "wrist")}}
    print("| policy | params ours / lerobot | max output diff | train step ms ours / lerobot "
          "| chunk inference ms ours / lerobot |\n|---|---|---|---|---|")
    rows = []
    for kind in args.policies.split(","):
        r = _compare_one(kind, args, feats)
        rows.append(r)
        print(f"| {kind} ({args.preset}, lerobot backbone) | {r['params_m'][0]:.2f} M / {r['params_m'][1]:.2f} M "
              f"| {r['max_diff']:.1e} | {r['train_step_ms'][0]:.0f} / {r['train_step_ms'][1]:.0f} "
              f"| {r['infer_ms'][0]:.1f} / {r['infer_ms'][1]:.1f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


def _compare_one(kind: str, args, feats: dict) -> dict:
    """Both networks (ours with lerobot's weights), identical batches: (ours, lerobot) step and inference ms."""
    from lerobot.configs.types import FeatureType, PolicyFeature

    from policies import make_config
    from policies.act import ACT
    from policies.diffusion import DiffusionModel
    from policies.policy_folder import convert_lerobot_state_dict

    extra = dict(backbone_width=64, backbone_norm="frozen_bn") if kind == "act" else dict(backbone_width=64)
    ours_cfg = make_config(kind, args.preset, feats, **extra, **dict(args.settings))
    size = ours_cfg.model_image_size
    lf = {k: PolicyFeature(FeatureType[f["type"]], (3, *size) if f["type"] == "VISUAL" else tuple(f["shape"]))
          for k, f in ours_cfg.input_features.items()}
    out = {"action": PolicyFeature(FeatureType.ACTION, (6,))}
    if kind == "act":
        from lerobot.policies.act.configuration_act import ACTConfig
        from lerobot.policies.act.modeling_act import ACTPolicy

        shared = {k: getattr(ours_cfg, k) for k in ACT_SHARED}
        theirs = ACTPolicy(ACTConfig(input_features=lf, output_features=out, pretrained_backbone_weights=None,
                                     device="cpu", **shared))
        their_net = theirs.model
    else:
        from lerobot.policies.diffusion.configuration_diffusion import DiffusionConfig
        from lerobot.policies.diffusion.modeling_diffusion import DiffusionPolicy

        shared = {k: getattr(ours_cfg, k) for k in DIFFUSION_SHARED}
        theirs = DiffusionPolicy(DiffusionConfig(input_features=lf, output_features=out, device="cpu", **shared))
        their_net = theirs.diffusion
    our_net = ACT(ours_cfg) if kind == "act" else DiffusionModel(ours_cfg)
    our_net.load_state_dict(convert_lerobot_state_dict(their_net.state_dict()))
    n_ours, n_theirs = (sum(p.numel() for p in m.parameters()) for m in (our_net, their_net))
    b = ours_cfg.batch_size
    t = ours_cfg.n_obs_steps if kind == "diffusion" else None
    lead = (b, t) if t else (b,)
    state, imgs = torch.randn(*lead, 6), torch.randn(*lead, 2, 3, *size)
    horizon = ours_cfg.chunk_size if kind == "act" else ours_cfg.horizon
    action, pad = torch.randn(b, horizon, 6), torch.zeros(b, horizon, dtype=torch.bool)
    if kind == "act":
        ours_in = {"observation.state": state, "observation.images": imgs, "action": action, "action_is_pad": pad}
        theirs_in = {**ours_in, "observation.images": list(imgs.unbind(1))}
        our_net.eval(), their_net.eval()
        with torch.no_grad():
            diff = (our_net(ours_in)[0] - their_net(theirs_in)[0]).abs().max().item()
        def our_step():
            return our_net(ours_in)[0].abs().mean().backward()
        def their_step():
            return their_net(theirs_in)[0].abs().mean().backward()
        one_o = {k: v[:1] for k, v in ours_in.items() if k.startswith("observation")}
        one_t = {"observation.state": state[:1], "observation.images": [i[:1] for i in imgs.unbind(1)]}
        def our_infer():
            return our_net(one_o)
        def their_infer():
            return their_net(one_t)
    else:
        batch = {"observation.state": state, "observation.images": imgs, "action": action, "action_is_pad": pad}
        our_net.eval(), their_net.eval()
        with torch.no_grad():
            diff = (our_net.global_condition(batch) - their_net._prepare_global_conditioning(batch)).abs().max().item()
        def our_step():
            return our_net.compute_loss(batch).backward()
        def their_step():
            return their_net.compute_loss(batch).backward()
        one = {k: v[:1] for k, v in batch.items() if k.startswith("observation")}
        def our_infer():
            return our_net.generate_actions(one)
        def their_infer():
            return their_net.generate_actions(one)
    our_net.train(), their_net.train()
    tr = _median_ms_pair(our_step, their_step, 2, args.net_steps)
    our_net.eval(), their_net.eval()
    with torch.no_grad():
        inf = _median_ms_pair(our_infer, their_infer, 3, args.net_calls)
    return {"policy": kind, "params_m": [n_ours / 1e6, n_theirs / 1e6], "max_diff": diff, "train_step_ms": tr,
            "infer_ms": inf, "batch": b}


def _median_ms_pair(ours, theirs, warmup: int, n: int) -> list[float]:
    """Medians of n timed calls each, alternating ours / theirs so a busy machine's load drifts hit both alike."""
    for _ in range(warmup):
        ours(), theirs()
    ts: list[list[float]] = [[], []]
    pairs = [(0, ours), (1, theirs)]
    for k in range(n):
        for side, fn in pairs if k % 2 == 0 else pairs[::-1]:
            t = time.perf_counter()
            fn()
            ts[side].append(time.perf_counter() - t)
    return [float(np.median(t) * 1000) for t in ts]


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
    ap.add_argument("--vs-lerobot", action="store_true", help="compare with lerobot's networks (needs lerobot)")
    ap.add_argument("--net-steps", type=int, default=8, help="--vs-lerobot: timed training steps per network")
    ap.add_argument("--net-calls", type=int, default=20, help="--vs-lerobot: timed chunk inferences per network")
    args = ap.parse_args()
    if args.vs_lerobot:
        vs_lerobot(args)
        return
    reader = _reader(args)
    rows = [bench_policy(kind, args, reader, dict(args.settings)) for kind in args.policies.split(",")]
    threads = args.threads or torch.get_num_threads()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores (load average {load:.1f}), torch {torch.__version__}, "
          f"{threads} threads, preset {args.preset}{' +amp' if args.amp else ''}, {args.steps} timed steps after "
          f"{args.warmup} warm-up, overrides {dict(args.settings) or 'none'}\n")
    print("| policy | params | batch | step ms | samples/s | samples per CPU-s | batch build ms "
          "| select_action p50 / p99 ms | inference p50 / p99 ms | 30 min = samples (epochs of 50x300) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        budget = r["samples_per_s"] * BUDGET_S
        print(f"| {r['policy']} | {r['params_m']:.2f} M | {r['batch']} | {r['step_ms']:.0f} | {r['samples_per_s']:.1f} "
              f"| {r['samples_per_cpu_s']:.1f} | {r['data_ms']:.1f} | {r['call_p50']:.2f} / {r['call_p99']:.2f} "
              f"| {r['infer_p50']:.1f} / {r['infer_p99']:.1f} (n={r['n_infer']}) "
              f"| {budget / 1e3:.0f}k ({budget / (TASK_EPISODES * TASK_EPISODE_FRAMES):.1f}) |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2, default=float)


if __name__ == "__main__":
    main()
