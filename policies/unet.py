"""1-D convolutional U-Net over action sequences with FiLM conditioning (Diffusion Policy's denoiser).

Same structure and module names as lerobot's DiffusionConditionalUnet1d: per level two conditional residual
blocks then a strided conv (not after the last level), two mid blocks, mirrored up path with skip
concatenation and transposed convs, and a final conv block + 1x1 conv. The condition (diffusion-step
embedding ++ global observation features) modulates every block by FiLM (scale and bias, or bias only).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, t: Tensor) -> Tensor:
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, device=t.device) * -(math.log(10000) / (half - 1)))
        arg = t.float().unsqueeze(-1) * freqs.unsqueeze(0)
        return torch.cat((arg.sin(), arg.cos()), dim=-1)


class Conv1dBlock(nn.Module):
    """Conv1d -> GroupNorm -> Mish."""

    def __init__(self, cin: int, cout: int, kernel_size: int, n_groups: int = 8):
        super().__init__()
        self.block = nn.Sequential(nn.Conv1d(cin, cout, kernel_size, padding=kernel_size // 2),
                                   nn.GroupNorm(n_groups, cout), nn.Mish())

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class ConditionalResidualBlock1d(nn.Module):
    def __init__(self, cin: int, cout: int, cond_dim: int, kernel_size: int = 3, n_groups: int = 8,
                 use_film_scale_modulation: bool = False):
        super().__init__()
        self.use_film_scale_modulation = use_film_scale_modulation
        self.out_channels = cout
        self.conv1 = Conv1dBlock(cin, cout, kernel_size, n_groups)
        self.cond_encoder = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * cout if use_film_scale_modulation
                                                               else cout))
        self.conv2 = Conv1dBlock(cout, cout, kernel_size, n_groups)
        self.residual_conv = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        out = self.conv1(x)
        c = self.cond_encoder(cond).unsqueeze(-1)
        if self.use_film_scale_modulation:
            out = c[:, : self.out_channels] * out + c[:, self.out_channels:]
        else:
            out = out + c
        return self.conv2(out) + self.residual_conv(x)


class ConditionalUnet1d(nn.Module):
    """(noisy actions [B, T, A], timesteps [B], global_cond [B, G]) -> prediction [B, T, A]."""

    def __init__(self, action_dim: int, global_cond_dim: int, down_dims=(512, 1024, 2048), kernel_size: int = 5,
                 n_groups: int = 8, diffusion_step_embed_dim: int = 128, use_film_scale_modulation: bool = True):
        super().__init__()
        e = diffusion_step_embed_dim
        self.diffusion_step_encoder = nn.Sequential(SinusoidalPosEmb(e), nn.Linear(e, 4 * e), nn.Mish(),
                                                    nn.Linear(4 * e, e))
        kw = dict(cond_dim=e + global_cond_dim, kernel_size=kernel_size, n_groups=n_groups,
                  use_film_scale_modulation=use_film_scale_modulation)
        in_out = [(action_dim, down_dims[0]), *zip(down_dims[:-1], down_dims[1:], strict=True)]
        self.down_modules = nn.ModuleList()
        for i, (cin, cout) in enumerate(in_out):
            last = i == len(in_out) - 1
            self.down_modules.append(nn.ModuleList([
                ConditionalResidualBlock1d(cin, cout, **kw), ConditionalResidualBlock1d(cout, cout, **kw),
                nn.Identity() if last else nn.Conv1d(cout, cout, 3, 2, 1)]))
        self.mid_modules = nn.ModuleList([ConditionalResidualBlock1d(down_dims[-1], down_dims[-1], **kw),
                                          ConditionalResidualBlock1d(down_dims[-1], down_dims[-1], **kw)])
        self.up_modules = nn.ModuleList()
        for cout, cin in reversed(in_out[1:]):
            self.up_modules.append(nn.ModuleList([
                ConditionalResidualBlock1d(2 * cin, cout, **kw), ConditionalResidualBlock1d(cout, cout, **kw),
                nn.ConvTranspose1d(cout, cout, 4, 2, 1)]))
        self.final_conv = nn.Sequential(Conv1dBlock(down_dims[0], down_dims[0], kernel_size, n_groups),
                                        nn.Conv1d(down_dims[0], action_dim, 1))

    def forward(self, x: Tensor, timestep: Tensor, global_cond: Tensor | None = None) -> Tensor:
        x = x.transpose(1, 2)  # (B, A, T)
        cond = self.diffusion_step_encoder(timestep)
        if global_cond is not None:
            cond = torch.cat([cond, global_cond], dim=-1)
        skips = []
        for res1, res2, down in self.down_modules:
            x = res2(res1(x, cond), cond)
            skips.append(x)
            x = down(x)
        for mid in self.mid_modules:
            x = mid(x, cond)
        for res1, res2, up in self.up_modules:
            x = torch.cat((x, skips.pop()), dim=1)
            x = up(res2(res1(x, cond), cond))
        return self.final_conv(x).transpose(1, 2)
