"""Noise schedules for Diffusion Policy: DDPM forward noising for training, DDPM or DDIM (eta = 0) sampling.

The maths follows diffusers' DDPMScheduler (variance "fixed_small") and DDIMScheduler (timestep spacing
"leading", set_alpha_to_one) with the settings lerobot uses, so a policy trained with lerobot's schedule
samples the same way here - without the diffusers dependency.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def make_betas(schedule: str, n: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    if schedule == "linear":
        return torch.linspace(beta_start, beta_end, n, dtype=torch.float64)
    if schedule == "scaled_linear":
        return torch.linspace(beta_start ** 0.5, beta_end ** 0.5, n, dtype=torch.float64) ** 2
    if schedule == "squaredcos_cap_v2":  # Nichol & Dhariwal's cosine schedule

        def alpha_bar(t: float) -> float:
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

        return torch.tensor([min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)],
                            dtype=torch.float64)
    raise ValueError(f"unknown beta schedule {schedule!r}")


class NoiseScheduler:
    """kind "DDPM" (ancestral sampling) or "DDIM" (deterministic, any number of steps)."""

    def __init__(self, kind: str = "DDPM", num_train_timesteps: int = 100, beta_schedule: str = "squaredcos_cap_v2",
                 beta_start: float = 1e-4, beta_end: float = 0.02, prediction_type: str = "epsilon",
                 clip_sample: bool = True, clip_sample_range: float = 1.0):
        if kind not in ("DDPM", "DDIM"):
            raise ValueError(f"unknown noise scheduler {kind!r}")
        self.kind = kind
        self.num_train_timesteps = num_train_timesteps
        self.prediction_type = prediction_type
        self.clip_sample, self.clip_sample_range = clip_sample, clip_sample_range
        self.betas = make_betas(beta_schedule, num_train_timesteps, beta_start, beta_end)
        self.alphas_cumprod = torch.cumprod(1.0 - self.betas, 0)
        self._sqrt_ab = self.alphas_cumprod.sqrt().float()
        self._sqrt_1mab = (1 - self.alphas_cumprod).sqrt().float()
        self.timesteps = torch.arange(num_train_timesteps - 1, -1, -1)
        self.step_ratio = 1

    # --- training -------------------------------------------------------------------------------------------
    def add_noise(self, x0: Tensor, noise: Tensor, t: Tensor) -> Tensor:
        a = self._sqrt_ab.to(x0.device)[t].view(-1, *([1] * (x0.ndim - 1)))
        s = self._sqrt_1mab.to(x0.device)[t].view(-1, *([1] * (x0.ndim - 1)))
        return a * x0 + s * noise

    # --- sampling -------------------------------------------------------------------------------------------
    def set_timesteps(self, num_inference_steps: int) -> None:
        n = int(num_inference_steps)
        if not 1 <= n <= self.num_train_timesteps:
            raise ValueError(f"num_inference_steps must be in 1..{self.num_train_timesteps}, got {n}")
        self.step_ratio = self.num_train_timesteps // n
        self.timesteps = (torch.arange(n) * self.step_ratio).flip(0)

    def step(self, model_output: Tensor, t: int, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One reverse step from timestep t to t - step_ratio."""
        t = int(t)
        prev = t - self.step_ratio
        ab_t = float(self.alphas_cumprod[t])
        ab_prev = float(self.alphas_cumprod[prev]) if prev >= 0 else 1.0
        if self.prediction_type == "epsilon":
            x0 = (x - math.sqrt(1 - ab_t) * model_output) / math.sqrt(ab_t)
            eps = model_output
        else:
            x0 = model_output
            eps = (x - math.sqrt(ab_t) * x0) / math.sqrt(1 - ab_t)
        if self.clip_sample:
            x0 = x0.clamp(-self.clip_sample_range, self.clip_sample_range)
        if self.kind == "DDIM":
            return math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * eps
        alpha_t = ab_t / ab_prev
        beta_t = 1 - alpha_t
        mean = (math.sqrt(ab_prev) * beta_t / (1 - ab_t)) * x0 + (math.sqrt(alpha_t) * (1 - ab_prev) / (1 - ab_t)) * x
        if t > 0:
            var = max((1 - ab_prev) / (1 - ab_t) * beta_t, 1e-20)
            noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            mean = mean + math.sqrt(var) * noise
        return mean
