"""lerobot's side of P3 and P5 (run by the lerobot venv's python): lerobot's ACT trained on a dataset our writer
recorded, the way lerobot-train runs it, then select_action the way lerobot-record runs a policy.

    $LEROBOT_PYTHON bench/lerobot_side/act.py --root DIR --config cfg.json --out result.json

cfg.json: {"act": {ACTConfig fields shared with ours}, "image_size": [h, w], "batch_size", "steps", "warmup",
"num_workers", "threads", "calls", "seed"}.
Training (lerobot_train.py's loop): LeRobotDataset with the policy's delta_timestamps (pyav decoding) in a
DataLoader (shuffle, num_workers), preprocessor (normalise), forward, backward, grad clip, AdamW with the backbone
group. Images are resized to image_size by the dataset's image_transforms (lerobot has no resize option; ours
resizes once into its frame cache), so both networks see the same input size. Step time = from asking the
DataLoader for a batch to the optimiser step, as lerobot_train.py logs it (data_s + updt_s).
select_action: lerobot.utils.control_utils.predict_action (to tensors, preprocessor, select_action,
postprocessor) on camera-sized frames of episode 0, resized with cv2 INTER_AREA first (as ours does inside).
Imports only lerobot, torch, numpy and cv2."""

from __future__ import annotations

import argparse
import itertools
import json
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from lerobot.datasets.factory import resolve_delta_timestamps
from lerobot.datasets.lerobot_dataset import LeRobotDataset, LeRobotDatasetMetadata
from lerobot.policies.act.configuration_act import ACTConfig
from lerobot.policies.factory import make_policy, make_pre_post_processors
from lerobot.utils.control_utils import predict_action

REPO = "bench/local"


class Resize:
    """image_transforms for LeRobotDataset: CHW float [0, 1] -> CHW at (h, w). Picklable for DataLoader workers."""

    def __init__(self, size):
        self.size = tuple(size)

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        lead = img.shape[:-3]
        x = img.reshape(-1, *img.shape[-3:])
        x = F.interpolate(x, size=self.size, mode="bilinear", antialias=True, align_corners=False)
        return x.reshape(*lead, *x.shape[-3:])


def train(args, cfg: dict, policy, pre, meta) -> dict:
    ds = LeRobotDataset(REPO, root=args.root, delta_timestamps=resolve_delta_timestamps(policy.config, meta),
                        image_transforms=Resize(cfg["image_size"]), video_backend="pyav")
    nw = cfg["num_workers"]
    loader = torch.utils.data.DataLoader(ds, batch_size=cfg["batch_size"], shuffle=True, num_workers=nw,
                                         drop_last=False, prefetch_factor=2 if nw > 0 else None)
    it = itertools.cycle(loader)
    optimizer = policy.config.get_optimizer_preset().build(policy.get_optim_params())
    clip = policy.config.get_optimizer_preset().grad_clip_norm
    policy.train()
    steps, data_s = [], []
    t_start = time.perf_counter()
    first_step_s = None
    for _ in range(cfg["warmup"] + cfg["steps"]):
        t0 = time.perf_counter()
        batch = pre(next(it))
        t1 = time.perf_counter()
        loss, _ = policy.forward(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), clip)
        optimizer.step()
        optimizer.zero_grad()
        steps.append(time.perf_counter() - t0)
        data_s.append(t1 - t0)
        if first_step_s is None:
            first_step_s = time.perf_counter() - t_start
    timed = steps[cfg["warmup"]:]
    step = float(np.median(timed))
    return {"step_ms": step * 1e3, "samples_per_s": cfg["batch_size"] / step,
            "data_ms": float(np.median(data_s[cfg["warmup"]:]) * 1e3), "first_step_s": first_step_s,
            "loss": float(loss.item())}


def select_action(args, cfg: dict, policy, pre, post, meta) -> dict:
    raw = LeRobotDataset(REPO, root=args.root, episodes=[0], video_backend="pyav")
    h, w = cfg["image_size"]
    frames = []
    for i in range(raw.meta.episodes["length"][0]):
        item = raw[i]
        obs = {"observation.state": item["observation.state"].numpy()}
        for k in meta.camera_keys:  # camera-sized HxWx3 uint8, as a robot's get_observation hands them out
            obs[k] = (item[k].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        frames.append(obs)
    policy.eval()
    policy.reset()
    device = torch.device("cpu")
    calls, infer = [], []
    for i in range(cfg["calls"]):
        obs = dict(frames[i % len(frames)])
        ran = len(policy._action_queue) == 0
        t0 = time.perf_counter()
        for k in meta.camera_keys:
            obs[k] = cv2.resize(obs[k], (w, h), interpolation=cv2.INTER_AREA)
        predict_action(obs, policy, device, pre, post, use_amp=False, task="pick", robot_type="koch")
        dt = (time.perf_counter() - t0) * 1e3
        if i >= 20:  # warm-up calls excluded, as ours
            calls.append(dt)
            if ran:
                infer.append(dt)
    return {"call_p50": float(np.percentile(calls, 50)), "call_p99": float(np.percentile(calls, 99)),
            "infer_p50": float(np.percentile(infer, 50)) if infer else None, "n_infer": len(infer)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip-train", action="store_true")
    args = ap.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg.get("seed", 0))
    meta = LeRobotDatasetMetadata(REPO, root=args.root)
    config = ACTConfig(**cfg["act"], pretrained_backbone_weights=None, device="cpu")
    policy = make_policy(config, ds_meta=meta)
    pre, post = make_pre_post_processors(config, dataset_stats=meta.stats)
    out = {"params_m": sum(p.numel() for p in policy.parameters()) / 1e6}
    if not args.skip_train:
        out.update(train(args, cfg, policy, pre, meta))
    if cfg["calls"]:
        out.update(select_action(args, cfg, policy, pre, post, meta))
    with open(args.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
