"""ACT: a CVAE whose decoder is a DETR-style transformer predicting a chunk of actions (Zhao et al. 2023).

Shaped like lerobot's ACT (same module names, token layout and loss), so a lerobot ACT config trains the same
network here: tokens [latent, state, camera feature-map pixels...] -> transformer encoder; `chunk_size` learned
queries -> decoder (cross-attention) -> linear action head. During training a BERT-like VAE encoder reads
[cls, state, action chunk] and gives the latent; at inference the latent is zero. Loss: L1 on non-padded
actions + kl_weight * KL. Cameras share one backbone and go through it as one batch.
"""

from __future__ import annotations

import math
from itertools import chain

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from .backbone import make_backbone
from .base import Policy
from .config import ACTConfig
from .ensemble import ActionQueue, TemporalEnsembler
from .frame_keys import ACTION_KEY, IMAGES_KEY, STATE_KEY, pad_key


class ACTPolicy(Policy):
    name = "act"
    config_class = ACTConfig

    INFERENCE_FIELDS = ("n_action_steps", "temporal_ensemble_coeff")

    def __init__(self, config: ACTConfig, stats=None):
        super().__init__(config, stats)
        self.model = ACT(config)
        self._apply_inference_config()
        self.reset()

    def _apply_inference_config(self) -> None:
        c = self.config
        self.ensembler = (TemporalEnsembler(c.temporal_ensemble_coeff, c.chunk_size)
                          if c.temporal_ensemble_coeff is not None else None)
        self.queue = ActionQueue(c.n_action_steps)

    def reset(self) -> None:
        self.queue.reset()
        if self.ensembler is not None:
            self.ensembler.reset()

    def trainable_param_groups(self) -> list[dict]:
        named = [(n, p) for n, p in self.named_parameters() if p.requires_grad]
        return [{"params": [p for n, p in named if not n.startswith("model.backbone")]},
                {"params": [p for n, p in named if n.startswith("model.backbone")],
                 "lr": self.config.optimizer_lr_backbone}]

    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        nb = self.normalize_inputs(batch)
        nb[ACTION_KEY] = self.normalizer.normalize(ACTION_KEY, batch[ACTION_KEY].float())
        actions_hat, (mu, log_sigma_x2) = self.model(nb)
        not_pad = ~batch[pad_key(ACTION_KEY)].unsqueeze(-1)
        l1 = (F.l1_loss(nb[ACTION_KEY], actions_hat, reduction="none") * not_pad).mean()
        info = {"l1_loss": l1.item()}
        loss = l1
        if self.config.use_vae and mu is not None:
            kld = (-0.5 * (1 + log_sigma_x2 - mu.pow(2) - log_sigma_x2.exp())).sum(-1).mean()
            info["kld_loss"] = kld.item()
            loss = l1 + self.config.kl_weight * kld
        return loss, info

    @torch.inference_mode()
    def predict_action_chunk(self, batch: dict[str, Tensor]) -> Tensor:
        """Batch of prepared observations -> unnormalised chunk [B, chunk_size, A]."""
        actions, _ = self.model(self.normalize_inputs(batch))
        return self.normalizer.unnormalize(ACTION_KEY, actions)

    def needs_observation(self) -> bool:
        return self.ensembler is not None or len(self.queue) == 0

    def _select_action(self, batch: dict[str, Tensor]) -> Tensor:
        if self.ensembler is not None:
            return self.ensembler.update(self.predict_action_chunk(batch))
        if len(self.queue) == 0:
            self.queue.extend(self.predict_action_chunk(batch))
        return self.queue.pop()


class ACT(nn.Module):
    """The network. Inputs (normalised): state [B, S], images [B, n_cam, 3, h, w], action [B, chunk, A] and
    action_is_pad [B, chunk] (training with the VAE only). Returns (actions [B, chunk, A], (mu, log_sigma_x2))."""

    def __init__(self, config: ACTConfig):
        super().__init__()
        self.config = c = config
        has_state = c.state_dim > 0
        if c.use_vae:
            self.vae_encoder = ACTEncoder(c, c.n_vae_encoder_layers)
            self.vae_encoder_cls_embed = nn.Embedding(1, c.dim_model)
            if has_state:
                self.vae_encoder_robot_state_input_proj = nn.Linear(c.state_dim, c.dim_model)
            self.vae_encoder_action_input_proj = nn.Linear(c.action_dim, c.dim_model)
            self.vae_encoder_latent_output_proj = nn.Linear(c.dim_model, c.latent_dim * 2)
            n_tokens = 1 + c.chunk_size + int(has_state)
            self.register_buffer("vae_encoder_pos_enc", sinusoidal_1d(n_tokens, c.dim_model).unsqueeze(0))
        if c.image_keys:
            self.backbone = make_backbone(c.vision_backbone, c.backbone_width, c.backbone_norm,
                                          c.replace_final_stride_with_dilation, c.pretrained_backbone_weights)
            self.encoder_img_feat_input_proj = nn.Conv2d(self.backbone.out_channels, c.dim_model, 1)
            self.encoder_cam_feat_pos_embed = SinusoidalPosition2d(c.dim_model // 2)
        self.encoder = ACTEncoder(c, c.n_encoder_layers)
        self.decoder = ACTDecoder(c)
        if has_state:
            self.encoder_robot_state_input_proj = nn.Linear(c.state_dim, c.dim_model)
        self.encoder_latent_input_proj = nn.Linear(c.latent_dim, c.dim_model)
        self.encoder_1d_feature_pos_embed = nn.Embedding(1 + int(has_state), c.dim_model)
        self.decoder_pos_embed = nn.Embedding(c.chunk_size, c.dim_model)
        self.action_head = nn.Linear(c.dim_model, c.action_dim)
        for p in chain(self.encoder.parameters(), self.decoder.parameters()):
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def _latent(self, batch: dict[str, Tensor], bsz: int, device) -> tuple[Tensor, Tensor | None, Tensor | None]:
        c = self.config
        if not (c.use_vae and self.training and ACTION_KEY in batch):
            return torch.zeros(bsz, c.latent_dim, device=device), None, None
        tokens = [self.vae_encoder_cls_embed.weight.unsqueeze(0).expand(bsz, -1, -1)]
        if STATE_KEY in batch:
            tokens.append(self.vae_encoder_robot_state_input_proj(batch[STATE_KEY]).unsqueeze(1))
        tokens.append(self.vae_encoder_action_input_proj(batch[ACTION_KEY]))
        x = torch.cat(tokens, dim=1).transpose(0, 1)  # (S, B, D)
        n_lead = len(tokens) - 1
        pad = batch.get(pad_key(ACTION_KEY))
        if pad is None:
            pad = torch.zeros(bsz, c.chunk_size, dtype=torch.bool, device=device)
        key_padding_mask = torch.cat([torch.zeros(bsz, n_lead, dtype=torch.bool, device=device), pad], dim=1)
        cls_out = self.vae_encoder(x, pos_embed=self.vae_encoder_pos_enc.transpose(0, 1),
                                   key_padding_mask=key_padding_mask)[0]
        params = self.vae_encoder_latent_output_proj(cls_out)
        mu, log_sigma_x2 = params[:, : c.latent_dim], params[:, c.latent_dim:]
        return mu + (0.5 * log_sigma_x2).exp() * torch.randn_like(mu), mu, log_sigma_x2

    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, tuple[Tensor | None, Tensor | None]]:
        c = self.config
        ref = batch[IMAGES_KEY] if c.image_keys else batch[STATE_KEY]
        bsz, device = ref.shape[0], ref.device
        latent, mu, log_sigma_x2 = self._latent(batch, bsz, device)

        tokens = [self.encoder_latent_input_proj(latent).unsqueeze(0)]  # (1, B, D)
        if STATE_KEY in batch and c.state_dim:
            tokens.append(self.encoder_robot_state_input_proj(batch[STATE_KEY]).unsqueeze(0))
        pos = [self.encoder_1d_feature_pos_embed.weight.unsqueeze(1)]  # (n_1d, 1, D)
        if c.image_keys:
            imgs = batch[IMAGES_KEY]  # [B, N, 3, h, w]
            n_cam = imgs.shape[1]
            feat = self.backbone(imgs.flatten(0, 1))
            cam_pos = self.encoder_cam_feat_pos_embed(feat)  # (1, D, h', w')
            feat = self.encoder_img_feat_input_proj(feat)  # (B*N, D, h', w')
            d, hw = feat.shape[1], feat.shape[2] * feat.shape[3]
            # camera-major token order, as lerobot appends camera after camera
            feat = feat.reshape(bsz, n_cam, d, hw).permute(1, 3, 0, 2).reshape(n_cam * hw, bsz, d)
            tokens.append(feat)
            pos.append(cam_pos.flatten(2).permute(2, 0, 1).repeat(n_cam, 1, 1))
        x = torch.cat(tokens, dim=0)
        pos_embed = torch.cat(pos, dim=0)

        memory = self.encoder(x, pos_embed=pos_embed)
        query = torch.zeros(c.chunk_size, bsz, c.dim_model, dtype=memory.dtype, device=device)
        out = self.decoder(query, memory, encoder_pos_embed=pos_embed,
                           decoder_pos_embed=self.decoder_pos_embed.weight.unsqueeze(1))
        return self.action_head(out.transpose(0, 1)), (mu, log_sigma_x2)


class ACTEncoder(nn.Module):
    def __init__(self, config: ACTConfig, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList([ACTEncoderLayer(config) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(config.dim_model) if config.pre_norm else nn.Identity()

    def forward(self, x: Tensor, pos_embed: Tensor | None = None, key_padding_mask: Tensor | None = None) -> Tensor:
        for layer in self.layers:
            x = layer(x, pos_embed, key_padding_mask)
        return self.norm(x)


def _activation(name: str):
    return {"relu": F.relu, "gelu": F.gelu, "glu": F.glu}[name]


class ACTEncoderLayer(nn.Module):
    def __init__(self, c: ACTConfig):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(c.dim_model, c.n_heads, dropout=c.dropout)
        self.linear1 = nn.Linear(c.dim_model, c.dim_feedforward)
        self.dropout = nn.Dropout(c.dropout)
        self.linear2 = nn.Linear(c.dim_feedforward, c.dim_model)
        self.norm1, self.norm2 = nn.LayerNorm(c.dim_model), nn.LayerNorm(c.dim_model)
        self.dropout1, self.dropout2 = nn.Dropout(c.dropout), nn.Dropout(c.dropout)
        self.activation = _activation(c.feedforward_activation)
        self.pre_norm = c.pre_norm

    def forward(self, x: Tensor, pos_embed: Tensor | None = None, key_padding_mask: Tensor | None = None) -> Tensor:
        skip = x
        if self.pre_norm:
            x = self.norm1(x)
        qk = x if pos_embed is None else x + pos_embed
        x = skip + self.dropout1(self.self_attn(qk, qk, value=x, key_padding_mask=key_padding_mask,
                                                need_weights=False)[0])
        if self.pre_norm:
            skip, x = x, self.norm2(x)
        else:
            x = skip = self.norm1(x)
        x = skip + self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))
        return x if self.pre_norm else self.norm2(x)


class ACTDecoder(nn.Module):
    def __init__(self, config: ACTConfig):
        super().__init__()
        self.layers = nn.ModuleList([ACTDecoderLayer(config) for _ in range(config.n_decoder_layers)])
        self.norm = nn.LayerNorm(config.dim_model)

    def forward(self, x: Tensor, memory: Tensor, decoder_pos_embed: Tensor | None = None,
                encoder_pos_embed: Tensor | None = None) -> Tensor:
        for layer in self.layers:
            x = layer(x, memory, decoder_pos_embed, encoder_pos_embed)
        return self.norm(x)


class ACTDecoderLayer(nn.Module):
    def __init__(self, c: ACTConfig):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(c.dim_model, c.n_heads, dropout=c.dropout)
        self.multihead_attn = nn.MultiheadAttention(c.dim_model, c.n_heads, dropout=c.dropout)
        self.linear1 = nn.Linear(c.dim_model, c.dim_feedforward)
        self.dropout = nn.Dropout(c.dropout)
        self.linear2 = nn.Linear(c.dim_feedforward, c.dim_model)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(c.dim_model) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(c.dropout) for _ in range(3))
        self.activation = _activation(c.feedforward_activation)
        self.pre_norm = c.pre_norm

    def forward(self, x: Tensor, memory: Tensor, decoder_pos_embed: Tensor | None = None,
                encoder_pos_embed: Tensor | None = None) -> Tensor:
        def add(t, p):
            return t if p is None else t + p

        skip = x
        if self.pre_norm:
            x = self.norm1(x)
        q = add(x, decoder_pos_embed)
        x = skip + self.dropout1(self.self_attn(q, q, value=x, need_weights=False)[0])
        if self.pre_norm:
            skip, x = x, self.norm2(x)
        else:
            x = skip = self.norm1(x)
        x = self.multihead_attn(add(x, decoder_pos_embed), add(memory, encoder_pos_embed), value=memory,
                                need_weights=False)[0]
        x = skip + self.dropout2(x)
        if self.pre_norm:
            skip, x = x, self.norm3(x)
        else:
            x = skip = self.norm2(x)
        x = skip + self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))
        return x if self.pre_norm else self.norm3(x)


def sinusoidal_1d(n_positions: int, dim: int) -> Tensor:
    """[n, dim] fixed sin/cos position table of "Attention is all you need" (sin on even, cos on odd dims)."""
    pos = np.arange(n_positions)[:, None]
    j = np.arange(dim)[None, :]
    angle = pos / np.power(10000, 2 * (j // 2) / dim)
    table = np.where(j % 2 == 0, np.sin(angle), np.cos(angle))
    return torch.from_numpy(table).float()


class SinusoidalPosition2d(nn.Module):
    """DETR's 2-D sine embedding for a [B, C, h, w] feature map -> [1, 2*dim, h, w] (y half, then x half),
    positions normalised to (0, 2*pi]. Cached per map size."""

    def __init__(self, dim: int, temperature: float = 10000.0):
        super().__init__()
        self.dim, self.temperature = dim, temperature
        self._cache: dict[tuple, Tensor] = {}

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        key = (h, w, x.device, x.dtype)
        if key not in self._cache:
            with torch.inference_mode(False):  # a normal tensor: usable by autograd after inference calls
                self._cache[key] = self._table(h, w, x)
        return self._cache[key]

    def _table(self, h: int, w: int, x: Tensor) -> Tensor:
        eps, two_pi = 1e-6, 2 * math.pi
        y = torch.arange(1, h + 1, dtype=torch.float32, device=x.device) / (h + eps) * two_pi
        xx = torch.arange(1, w + 1, dtype=torch.float32, device=x.device) / (w + eps) * two_pi
        freq = self.temperature ** (2 * (torch.arange(self.dim, device=x.device) // 2) / self.dim)
        ey = y[:, None] / freq  # (h, dim)
        ex = xx[:, None] / freq  # (w, dim)
        ey = torch.stack((ey[:, 0::2].sin(), ey[:, 1::2].cos()), dim=-1).flatten(1)
        ex = torch.stack((ex[:, 0::2].sin(), ex[:, 1::2].cos()), dim=-1).flatten(1)
        emb = torch.cat([ey[:, None, :].expand(h, w, self.dim), ex[None, :, :].expand(h, w, self.dim)], -1)
        return emb.permute(2, 0, 1).unsqueeze(0).to(x.dtype).contiguous()
