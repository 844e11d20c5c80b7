"""Diffusion Policy (Chi et al. 2023): a 1-D conv U-Net denoises an action sequence conditioned on the last
`n_obs_steps` observations; DDPM noising for training, DDPM or DDIM sampling with a configurable step count.

Shaped like lerobot's DiffusionPolicy (module names `diffusion.rgb_encoder`, `diffusion.unet`): images go
through a ResNet-18-shaped backbone (GroupNorm), spatial softmax keypoints and a linear layer; their features
and the state, for every observation step, form the global condition. Random crops (per sample) while
training, centre crops at inference.
"""

from __future__ import annotations

from collections import deque

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from .backbone import feature_map_shape, make_backbone
from .base import Policy
from .config import DiffusionConfig
from .ensemble import ActionQueue
from .frame_keys import ACTION_KEY, IMAGES_KEY, STATE_KEY, pad_key
from .schedulers import NoiseScheduler
from .unet import ConditionalUnet1d


class DiffusionPolicy(Policy):
    name = "diffusion"
    config_class = DiffusionConfig

    INFERENCE_FIELDS = ("n_action_steps", "noise_scheduler_type", "num_inference_steps")

    def __init__(self, config: DiffusionConfig, stats=None):
        super().__init__(config, stats)
        self.diffusion = DiffusionModel(config)
        self._history: dict[str, deque] = {}
        self._apply_inference_config()
        self.reset()

    def _apply_inference_config(self) -> None:
        self.queue = ActionQueue(self.config.n_action_steps)
        self.diffusion.set_sampler(self.config)

    def reset(self) -> None:
        self.queue.reset()
        self._history = {k: deque(maxlen=self.config.n_obs_steps) for k in self.config.input_features}

    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        nb = self.normalize_inputs(_with_time_axis(batch, self.config))
        nb[ACTION_KEY] = self.normalizer.normalize(ACTION_KEY, batch[ACTION_KEY].float())
        loss = self.diffusion.compute_loss(nb)
        return loss, {"mse_loss": loss.item()}

    @torch.inference_mode()
    def predict_action_chunk(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """Observation history [B, n_obs_steps, ...] per feature (no time axis needed when n_obs_steps is 1) ->
        unnormalised actions [B, n_action_steps, A]."""
        actions = self.diffusion.generate_actions(self.normalize_inputs(_with_time_axis(batch, self.config)),
                                                  generator=generator)
        return self.normalizer.unnormalize(ACTION_KEY, actions)

    def _select_action(self, batch: dict[str, Tensor]) -> Tensor:
        for key, hist in self._history.items():
            while len(hist) < hist.maxlen - 1:  # first step of an episode: repeat it as the history
                hist.append(batch[key])
            hist.append(batch[key])
        if len(self.queue) == 0:
            stacked = {k: torch.stack(list(h), dim=1) for k, h in self._history.items()}
            self.queue.extend(self.predict_action_chunk(stacked))
        return self.queue.pop()


def _with_time_axis(batch: dict[str, Tensor], c: DiffusionConfig) -> dict[str, Tensor]:
    """Accept observations without the n_obs_steps axis when n_obs_steps == 1."""
    out = dict(batch)
    for key in c.input_features:
        want = 3 if key == STATE_KEY else 5
        if key in out and out[key].ndim == want - 1:
            out[key] = out[key].unsqueeze(1)
    return out


class SpatialSoftmax(nn.Module):
    """Keypoints as the softmax-weighted mean (x, y) of each channel of a feature map (Finn et al.), after a
    1x1 conv to `num_kp` channels. [B, C, h, w] -> [B, num_kp, 2], coordinates in [-1, 1]."""

    def __init__(self, input_shape: tuple[int, int, int], num_kp: int | None = None):
        super().__init__()
        c, h, w = input_shape
        self.nets = nn.Conv2d(c, num_kp, 1) if num_kp else None
        self._out_c = num_kp or c
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        self.register_buffer("pos_grid", torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1))

    def forward(self, x: Tensor) -> Tensor:
        if self.nets is not None:
            x = self.nets(x)
        att = F.softmax(x.flatten(2), dim=-1)  # (B, K, h*w)
        return att @ self.pos_grid


class RgbEncoder(nn.Module):
    """[B, 3, h, w] normalised image -> [B, 2 * num_kp] feature."""

    def __init__(self, c: DiffusionConfig):
        super().__init__()
        self.crop_shape = tuple(c.crop_shape) if c.crop_shape is not None else None
        self.crop_is_random = c.crop_is_random
        self.backbone = make_backbone(c.vision_backbone, c.backbone_width, c.backbone_norm, False,
                                      c.pretrained_backbone_weights)
        if c.pretrained_backbone_weights and c.backbone_norm == "group":
            raise ValueError("pretrained backbone weights need backbone_norm frozen_bn or batch, not group")
        hw = self.crop_shape or c.model_image_size
        self.pool = SpatialSoftmax(feature_map_shape(self.backbone, hw), c.spatial_softmax_num_keypoints)
        self.feature_dim = 2 * c.spatial_softmax_num_keypoints
        self.out = nn.Linear(self.feature_dim, self.feature_dim)
        self.relu = nn.ReLU()

    def crop(self, x: Tensor) -> Tensor:
        if self.crop_shape is None:
            return x
        ch, cw = self.crop_shape
        h, w = x.shape[-2:]
        if self.training and self.crop_is_random:
            ys = torch.randint(0, h - ch + 1, (x.shape[0],)).tolist()
            xs = torch.randint(0, w - cw + 1, (x.shape[0],)).tolist()
            return torch.stack([x[i, :, y:y + ch, xx:xx + cw] for i, (y, xx) in enumerate(zip(ys, xs, strict=True))])
        y0, x0 = (h - ch) // 2, (w - cw) // 2
        return x[..., y0:y0 + ch, x0:x0 + cw]

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(self.backbone(self.crop(x))).flatten(1)
        return self.relu(self.out(x))


def _schedule(c: DiffusionConfig) -> dict:
    return dict(num_train_timesteps=c.num_train_timesteps, beta_schedule=c.beta_schedule, beta_start=c.beta_start,
                beta_end=c.beta_end, prediction_type=c.prediction_type, clip_sample=c.clip_sample,
                clip_sample_range=c.clip_sample_range)


class DiffusionModel(nn.Module):
    def __init__(self, c: DiffusionConfig):
        super().__init__()
        self.config = c
        n_cam = len(c.image_keys)
        cond_dim = c.state_dim
        if n_cam:
            if c.use_separate_rgb_encoder_per_camera:
                self.rgb_encoder = nn.ModuleList([RgbEncoder(c) for _ in range(n_cam)])
                cond_dim += self.rgb_encoder[0].feature_dim * n_cam
            else:
                self.rgb_encoder = RgbEncoder(c)
                cond_dim += self.rgb_encoder.feature_dim * n_cam
        self.unet = ConditionalUnet1d(c.action_dim, cond_dim * c.n_obs_steps, tuple(c.down_dims), c.kernel_size,
                                      c.n_groups, c.diffusion_step_embed_dim, c.use_film_scale_modulation)
        self.train_scheduler = NoiseScheduler("DDPM", **_schedule(c))
        self.set_sampler(c)

    def set_sampler(self, c: DiffusionConfig) -> None:
        """Inference sampler (DDPM or DDIM) and its step count from the config."""
        self.config = c
        self.sampler = NoiseScheduler(c.noise_scheduler_type, **_schedule(c))
        self.num_inference_steps = c.num_inference_steps or c.num_train_timesteps

    def global_condition(self, batch: dict[str, Tensor]) -> Tensor:
        c = self.config
        feats = []
        if STATE_KEY in batch:
            feats.append(batch[STATE_KEY])  # (B, T, S)
        if c.image_keys:
            imgs = batch[IMAGES_KEY]  # (B, T, N, 3, h, w)
            b, t, n = imgs.shape[:3]
            if c.use_separate_rgb_encoder_per_camera:
                per_cam = [enc(imgs[:, :, i].flatten(0, 1)).reshape(b, t, -1)
                           for i, enc in enumerate(self.rgb_encoder)]
                feats.append(torch.cat(per_cam, dim=-1))
            else:
                feats.append(self.rgb_encoder(imgs.flatten(0, 2)).reshape(b, t, -1))
        return torch.cat(feats, dim=-1).flatten(1)

    def compute_loss(self, batch: dict[str, Tensor]) -> Tensor:
        c = self.config
        cond = self.global_condition(batch)
        x0 = batch[ACTION_KEY]
        noise = torch.randn_like(x0)
        t = torch.randint(0, c.num_train_timesteps, (x0.shape[0],), device=x0.device)
        pred = self.unet(self.train_scheduler.add_noise(x0, noise, t), t, global_cond=cond)
        target = noise if c.prediction_type == "epsilon" else x0
        loss = F.mse_loss(pred, target, reduction="none")
        if c.do_mask_loss_for_padding:
            loss = loss * (~batch[pad_key(ACTION_KEY)]).unsqueeze(-1)
        return loss.mean()

    @torch.inference_mode()
    def generate_actions(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        c = self.config
        cond = self.global_condition(batch)
        b = cond.shape[0]
        x = torch.randn((b, c.horizon, c.action_dim), generator=generator, device=cond.device)
        self.sampler.set_timesteps(self.num_inference_steps)
        for t in self.sampler.timesteps.tolist():
            ts = torch.full((b,), t, dtype=torch.long, device=cond.device)
            x = self.sampler.step(self.unet(x, ts, global_cond=cond), t, x, generator=generator)
        start = c.n_obs_steps - 1
        return x[:, start:start + c.n_action_steps]

