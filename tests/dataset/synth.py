"""Synthetic recordings for the dataset tests: deterministic joint values and camera-like images (smooth
shading, a moving blob, a little sensor noise), so every test knows exactly what was written."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from robotapp.dataset import DatasetWriter, build_features
from robotapp.dataset.features import INTERVENTION_FEATURE, INTERVENTION_KEY

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
TASKS = ["pick the cube", "place the cube"]


def features(cams=("front", "wrist"), h=64, w=80, joints=JOINTS, flag: bool = False):
    feats = build_features(joints, [(c, h, w) for c in cams])
    if flag:
        feats[INTERVENTION_KEY] = dict(INTERVENTION_FEATURE)
    return feats


def intervention_spans(ep: int, n: int) -> list[tuple[int, int]]:
    """[start, end) frame spans a person drove: two in the middle, none, or one at each end of the episode."""
    return [[(2, 5), (8, 10)], [], [(0, 3), (n - 2, n)]][ep % 3]


def intervention(ep: int, i: int, n: int) -> np.ndarray:
    return np.array([any(a <= i < b for a, b in intervention_spans(ep, n))])


def state(ep: int, i: int, n: int = len(JOINTS)) -> np.ndarray:
    return (ep * 1000 + i + np.arange(n) / 10).astype(np.float32)


def action(ep: int, i: int, n: int = len(JOINTS)) -> np.ndarray:
    return (-(ep * 1000 + i) - np.arange(n) / 10).astype(np.float32)


def task(ep: int) -> str:
    return TASKS[ep % 2]


def length(ep: int, base: int = 12) -> int:
    return base + (ep * 5) % 7


@cache
def _grid(h: int, w: int):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy / h, xx / w


def image(ep: int, i: int, cam: str, h: int = 64, w: int = 80) -> np.ndarray:
    yy, xx = _grid(h, w)
    phase = (hash(cam) % 7) / 7.0
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 60 + 120 * xx + 20 * phase
    img[..., 1] = 50 + 100 * yy + 8 * (ep % 5)
    img[..., 2] = 90 + 40 * np.sin(3 * xx + phase)
    cx, cy = 0.5 + 0.3 * np.sin(i / 6 + ep), 0.5 + 0.25 * np.cos(i / 8)
    blob = np.exp(-(((xx - cx) / 0.12) ** 2 + ((yy - cy) / 0.15) ** 2))
    img += blob[..., None] * np.array([110.0, -30.0, -40.0], np.float32)
    noise = np.random.default_rng(ep * 7919 + i * 31 + len(cam)).normal(0, 1.5, (h, w, 1)).astype(np.float32)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def observation(ep: int, i: int, cams=("front", "wrist"), h: int = 64, w: int = 80) -> dict:
    obs = {"observation.state": state(ep, i)}
    for c in cams:
        obs[f"observation.images.{c}"] = image(ep, i, c, h, w)
    return obs


def record(writer: DatasetWriter, ep: int, n: int, cams=("front", "wrist"), h: int = 64, w: int = 80,
           extra: dict | None = None):
    """Record episode `ep` (content keyed by ep) and save it; returns the EpisodeResult (not waited).
    A dataset with the intervention feature gets intervention(ep, i, n)."""
    flag = INTERVENTION_KEY in writer.features
    for i in range(n):
        obs = observation(ep, i, cams, h, w)
        if flag:
            obs[INTERVENTION_KEY] = intervention(ep, i, n)
        writer.add_frame(obs, action(ep, i), task(ep))
    return writer.save_episode(extra=extra)


def make_dataset(root: Path, episodes: int = 3, *, cams=("front", "wrist"), h: int = 64, w: int = 80,
                 fps: int = 10, codec: str = "av1", robot_type: str = "koch", base_len: int = 12,
                 flag: bool = False) -> Path:
    """flag: with the per-frame "intervention" feature (intervention_spans)."""
    w_ = DatasetWriter.create(root, fps=fps, features=features(cams, h, w, flag=flag), robot_type=robot_type,
                              codec=codec)
    try:
        for ep in range(episodes):
            record(w_, ep, length(ep, base_len), cams, h, w).wait(30)
    finally:
        w_.close()
    return root


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
