"""Each paper's optimiser and LR schedule, and the EMA of weights Diffusion Policy uses.

ACT: AdamW (lr 1e-5 reference, backbone group with its own lr, weight decay 1e-4), constant LR (cosine as an option).
Diffusion Policy: AdamW (betas 0.95/0.999, eps 1e-8, weight decay 1e-6), cosine LR with linear warmup, EMA
with decay 1 - (1 + step)^-0.75 capped at 0.9999 (diffusers' EMAModel as the paper uses it).
Both clip the gradient norm (lerobot: 10).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .config import ACTConfig, DiffusionConfig, PolicyConfig


def make_optimizer(policy, config: PolicyConfig) -> torch.optim.Optimizer:
    groups = [g for g in policy.trainable_param_groups() if g["params"]]
    if isinstance(config, DiffusionConfig):
        return torch.optim.AdamW(groups, lr=config.optimizer_lr, betas=tuple(config.optimizer_betas),
                                 eps=config.optimizer_eps, weight_decay=config.optimizer_weight_decay)
    if isinstance(config, ACTConfig):
        return torch.optim.AdamW(groups, lr=config.optimizer_lr, weight_decay=config.optimizer_weight_decay)
    raise ValueError(f"no optimiser preset for {type(config).__name__}")


def lr_factor(config: PolicyConfig, step: int, total_steps: int) -> float:
    """Multiplier on each group's base LR at optimiser step `step` (0-based)."""
    if getattr(config, "scheduler_name", "constant") == "cosine":  # Diffusion's default; ACT's option
        warm = config.scheduler_warmup_steps
        if step < warm:
            return step / max(1, warm)
        progress = (step - warm) / max(1, total_steps - warm)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))
    return 1.0


class EMA:
    """Exponential moving average of a module's parameters and buffers (diffusers EMAModel schedule:
    decay = 1 - (1 + step / inv_gamma)^-power, clamped to [min_decay, max_decay])."""

    def __init__(self, module: nn.Module, power: float = 0.75, max_decay: float = 0.9999,
                 min_decay: float = 0.0, inv_gamma: float = 1.0):
        self.power, self.max_decay, self.min_decay, self.inv_gamma = power, max_decay, min_decay, inv_gamma
        self.shadow = {k: v.detach().clone() for k, v in module.state_dict().items()}
        self.step = 0

    def decay(self) -> float:
        """Decay for the next update (self.step updates done so far)."""
        step = max(0, self.step - 1)
        if step <= 0:
            return 0.0
        d = 1 - (1 + step / self.inv_gamma) ** -self.power
        return max(self.min_decay, min(d, self.max_decay))

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        d = self.decay()
        self.step += 1
        for k, v in module.state_dict().items():
            s = self.shadow[k]
            if v.dtype.is_floating_point:
                s.mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                s.copy_(v)

    def state_tensors(self) -> dict[str, Tensor]:
        return {k: v.detach().cpu().contiguous() for k, v in self.shadow.items()}

    def load_state_tensors(self, tensors: dict[str, Tensor], step: int) -> None:
        for k, v in self.shadow.items():
            v.copy_(tensors[k])
        self.step = step


def optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, Tensor], dict]:
    """Optimiser state flattened for safetensors ("state.<param>.<name>") + its JSON-able param groups."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for name, v in st.items():
            if isinstance(v, Tensor):
                tensors[f"state.{idx}.{name}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{name}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def load_optimizer_tensors(opt: torch.optim.Optimizer, tensors: dict[str, Tensor], meta: dict) -> None:
    state: dict[int, dict] = {}
    for key, v in tensors.items():
        _, idx, name = key.split(".", 2)
        state.setdefault(int(idx), {})[name] = v
    for key, v in meta.get("scalars", {}).items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = v
    groups = meta["param_groups"]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})
