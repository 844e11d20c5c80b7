"""One image resize for training and inference: the frame cache and `select_action` go through the same
function, so the policy sees at run time exactly the pixels it was trained on."""

from __future__ import annotations

import cv2
import numpy as np


def resize_uint8(frames: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """uint8 [..., H, W, 3] -> [..., h, w, 3] (area filter when shrinking, bilinear when growing)."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ValueError(f"images must be uint8 RGB, got {frames.dtype}")
    if size is None or tuple(frames.shape[-3:-1]) == tuple(size):
        return np.ascontiguousarray(frames)
    h, w = int(size[0]), int(size[1])
    shrink = frames.shape[-3] >= h and frames.shape[-2] >= w
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    flat = frames.reshape(-1, *frames.shape[-3:])
    out = np.empty((flat.shape[0], h, w, frames.shape[-1]), dtype=np.uint8)
    for i, f in enumerate(flat):
        out[i] = cv2.resize(f, (w, h), interpolation=interp)
    return out.reshape(*frames.shape[:-3], h, w, frames.shape[-1])


def to_chw(frames: np.ndarray) -> np.ndarray:
    """[..., H, W, 3] -> [..., 3, H, W] (contiguous copy)."""
    return np.ascontiguousarray(np.moveaxis(frames, -1, -3))
