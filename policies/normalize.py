"""Normalisation from dataset stats (mean/std or min/max per feature), kept with the policy.

Modes per feature type (lerobot's `normalization_mapping`): MEAN_STD -> (x - mean) / std, MIN_MAX -> [-1, 1],
IDENTITY -> unchanged. A dimension that never varies in the data (std or range ~ 0) is only centred, so a
tiny deviation at run time cannot blow up into a huge input. Images arrive as uint8 and are scaled to [0, 1]
before their (per-channel) stats apply, as lerobot's image stats are in [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn

MODES = ("MEAN_STD", "MIN_MAX", "IDENTITY")
_FLAT = 1e-3  # a std or range below this counts as "constant"


def _needed(mode: str) -> tuple[str, ...]:
    return {"MEAN_STD": ("mean", "std"), "MIN_MAX": ("min", "max"), "IDENTITY": ()}[mode]


class Normalizer(nn.Module):
    """Holds, per feature, a scale and an offset: normalised = x * scale + offset (and the inverse)."""

    def __init__(self, features: Mapping[str, Mapping], mapping: Mapping[str, str],
                 stats: Mapping[str, Mapping[str, np.ndarray]] | None = None):
        super().__init__()
        self.features = {k: dict(v) for k, v in features.items()}
        self.mapping = dict(mapping)
        self.modes: dict[str, str] = {}
        for key, feat in self.features.items():
            mode = self.mapping.get(feat["type"], "IDENTITY")
            if mode not in MODES:
                raise ValueError(f"unknown normalisation mode {mode!r} for {key}")
            self.modes[key] = mode
            shape = [feat["shape"][0], 1, 1] if feat["type"] == "VISUAL" else list(feat["shape"])
            for stat in _needed(mode):
                self.register_buffer(_buf(key, stat), torch.full(shape, float("nan")), persistent=False)
        if stats is not None:
            self.set_stats(stats)

    # --- stats ----------------------------------------------------------------------------------------------
    def set_stats(self, stats: Mapping[str, Mapping[str, np.ndarray | Tensor]]) -> None:
        for key, mode in self.modes.items():
            for stat in _needed(mode):
                if key not in stats or stat not in stats[key]:
                    raise ValueError(f"normaliser stats lack {key}/{stat} (needed for {mode})")
                buf = getattr(self, _buf(key, stat))
                value = torch.as_tensor(np.asarray(stats[key][stat], dtype=np.float32))
                if value.numel() != buf.numel():
                    raise ValueError(f"normaliser stats {key}/{stat} have {value.numel()} values, "
                                     f"the feature needs {buf.numel()}")
                buf.copy_(value.reshape(buf.shape))
            for stat in _needed(mode):
                if not torch.isfinite(getattr(self, _buf(key, stat))).all():
                    raise ValueError(f"normaliser stats {key}/{stat} are not finite")

    def state_tensors(self) -> dict[str, Tensor]:
        """{'<feature>.<stat>': tensor} for saving (safetensors keys may contain dots)."""
        return {f"{key}.{stat}": getattr(self, _buf(key, stat)).detach().cpu().contiguous()
                for key, mode in self.modes.items() for stat in _needed(mode)}

    def load_state_tensors(self, tensors: Mapping[str, Tensor]) -> None:
        stats: dict[str, dict[str, Tensor]] = {}
        for name, t in tensors.items():
            key, _, stat = name.rpartition(".")
            stats.setdefault(key, {})[stat] = t
        self.set_stats(stats)

    # --- maths ----------------------------------------------------------------------------------------------
    def _scale_offset(self, key: str) -> tuple[Tensor, Tensor] | None:
        mode = self.modes.get(key, "IDENTITY")
        if mode == "MEAN_STD":
            mean, std = getattr(self, _buf(key, "mean")), getattr(self, _buf(key, "std"))
            std = torch.where(std < _FLAT, torch.ones_like(std), std)
            return 1.0 / std, -mean / std
        if mode == "MIN_MAX":
            lo, hi = getattr(self, _buf(key, "min")), getattr(self, _buf(key, "max"))
            rng = hi - lo
            rng = torch.where(rng < _FLAT, torch.full_like(rng, 2.0), rng)
            return 2.0 / rng, -1.0 - 2.0 * lo / rng
        return None

    def normalize(self, key: str, x: Tensor) -> Tensor:
        if self.features.get(key, {}).get("type") == "VISUAL":
            return self.normalize_image(key, x)
        so = self._scale_offset(key)
        return x if so is None else x * so[0] + so[1]

    def unnormalize(self, key: str, x: Tensor) -> Tensor:
        so = self._scale_offset(key)
        return x if so is None else (x - so[1]) / so[0]

    def normalize_image(self, key: str, x: Tensor) -> Tensor:
        """uint8 (or [0, 1] float) images [..., 3, H, W] -> normalised float."""
        if x.dtype == torch.uint8:
            x = x.float().mul_(1.0 / 255.0)
        so = self._scale_offset(key)
        return x if so is None else x * so[0] + so[1]

    def check_ready(self) -> None:
        for key, mode in self.modes.items():
            for stat in _needed(mode):
                if not torch.isfinite(getattr(self, _buf(key, stat))).all():
                    raise RuntimeError(f"normaliser has no stats for {key}: train the policy or load one")


def _buf(key: str, stat: str) -> str:
    return key.replace(".", "__") + "__" + stat


def stats_from_arrays(arrays: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """mean/std/min/max over the first axis of each [N, D] array (for features a dataset has no stats for)."""
    out = {}
    for key, a in arrays.items():
        a = np.asarray(a, dtype=np.float64)
        out[key] = {"mean": a.mean(0), "std": a.std(0), "min": a.min(0), "max": a.max(0)}
    return out
