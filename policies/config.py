"""Policy configs as plain dataclasses, with presets.

Field names and defaults follow lerobot's ACTConfig / DiffusionConfig, so a lerobot config.json can be read
into ours (`from_dict`, unknown lerobot-only fields are dropped) and the dataclass defaults are the reference
("lerobot-default") sizes. The "cpu-small" preset is the default here: low-resolution images, a narrow
ResNet-18-shaped backbone and a small transformer / U-Net, sized to train on a 2-core laptop CPU.

Features are keyed as frames are (policies.frame_keys) and use lerobot's shape convention:
{STATE_KEY: {"type": "STATE", "shape": [6]}, image_key("front"): {"type": "VISUAL", "shape": [3, 240, 320]},
ACTION_KEY: {"type": "ACTION", ...}}. Image shapes are the cameras' (the dataset's); `image_size` is what the
policy resizes them to.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .frame_keys import ACTION_KEY, STATE_KEY, camera_name, image_key, is_image_key

STATE, VISUAL, ACTION = "STATE", "VISUAL", "ACTION"


def _default_norm(visual: str, state: str, action: str):
    return field(default_factory=lambda: {VISUAL: visual, STATE: state, ACTION: action})


@dataclass
class PolicyConfig:
    """What every policy has: its features, normalisation, image size and training defaults."""

    type: ClassVar[str] = ""
    input_features: dict[str, dict[str, Any]] = field(default_factory=dict)
    output_features: dict[str, dict[str, Any]] = field(default_factory=dict)
    normalization_mapping: dict[str, str] = _default_norm("MEAN_STD", "MEAN_STD", "MEAN_STD")
    n_obs_steps: int = 1
    # Images are resized to (h, w) before the backbone (the frame cache stores them at this size). None: as is.
    image_size: tuple[int, int] | None = None
    # Backbone: "resnet18" (ResNet-18 shape; `backbone_width` 64 is torchvision's) or "small_cnn".
    vision_backbone: str = "resnet18"
    backbone_width: int = 64
    backbone_norm: str = "frozen_bn"  # frozen_bn | batch | group
    # A .safetensors file or a Hub repo id holding ResNet-18 weights (torchvision/timm key names). Loaded only
    # when set; never downloaded implicitly.
    pretrained_backbone_weights: str | None = None
    # Training defaults (the trainer's flags override them).
    batch_size: int = 8
    grad_clip_norm: float = 10.0
    use_ema: bool = False
    ema_power: float = 0.75
    ema_max_decay: float = 0.9999
    augment_shift: int = 0  # random-shift augmentation (pixels at training resolution), 0 = off

    # --- features -------------------------------------------------------------------------------------------
    @property
    def image_keys(self) -> list[str]:
        return [k for k, f in self.input_features.items() if f["type"] == VISUAL]

    @property
    def state_dim(self) -> int:
        return int(self.input_features[STATE_KEY]["shape"][0]) if STATE_KEY in self.input_features else 0

    @property
    def action_dim(self) -> int:
        return int(self.output_features[ACTION_KEY]["shape"][0])

    @property
    def model_image_size(self) -> tuple[int, int]:
        """(h, w) the backbone sees (before any crop)."""
        if self.image_size is not None:
            return tuple(self.image_size)
        shape = self.input_features[self.image_keys[0]]["shape"]
        return int(shape[1]), int(shape[2])

    def validate(self) -> None:
        if ACTION_KEY not in self.output_features:
            raise ValueError(f"config has no {ACTION_KEY!r} output feature")
        if not self.image_keys and STATE_KEY not in self.input_features:
            raise ValueError(f"config needs at least one image or an {STATE_KEY} input")
        if self.vision_backbone not in ("resnet18", "small_cnn"):
            raise ValueError(f"vision_backbone must be 'resnet18' or 'small_cnn', not {self.vision_backbone!r}")
        if self.backbone_norm not in ("frozen_bn", "batch", "group"):
            raise ValueError(f"backbone_norm must be frozen_bn, batch or group, not {self.backbone_norm!r}")
        for key, feat in {**self.input_features, **self.output_features}.items():
            if feat.get("type") not in (STATE, VISUAL, ACTION, "ENV"):
                raise ValueError(f"feature {key} has an unknown type {feat.get('type')!r}")

    # --- (de)serialisation ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = {"type": self.type}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            d[f.name] = list(v) if isinstance(v, tuple) else v
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], strict: bool = True) -> PolicyConfig:
        """Build from a dict (ours, or a lerobot config.json). `strict` refuses keys we do not know, except
        the lerobot-only ones listed in LEROBOT_ONLY."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        d = _from_lerobot_fields(d)
        unknown = [k for k in d if k not in names and k != "type" and k not in LEROBOT_ONLY]
        if strict and unknown:
            raise ValueError(f"unknown {cls.type} config field(s): {', '.join(sorted(unknown))}")
        kwargs = {}
        for k, v in d.items():
            if k not in names:
                continue
            if isinstance(v, list) and k in _TUPLE_FIELDS:
                v = tuple(v)
            if k in ("input_features", "output_features"):
                v = {name: _feature(f["type"], f["shape"], f.get("names")) for name, f in v.items()}
            kwargs[k] = v
        cfg = cls(**kwargs)
        cfg.validate()
        return cfg

    def replace(self, **changes) -> PolicyConfig:
        cfg = dataclasses.replace(self, **changes)
        cfg.validate()
        return cfg


def _from_lerobot_fields(d: dict[str, Any]) -> dict[str, Any]:
    """lerobot spellings -> ours: use_group_norm -> backbone_norm; a torchvision weights enum name
    ("ResNet18_Weights.IMAGENET1K_V1") -> None (a trained checkpoint carries its weights; to start from ImageNet
    weights here, give a .safetensors file or a Hub repo id)."""
    d = dict(d)
    if "use_group_norm" in d:
        d.setdefault("backbone_norm", "group" if d.pop("use_group_norm") else "batch")
    weights = d.get("pretrained_backbone_weights")
    if isinstance(weights, str) and weights.startswith("ResNet") and "_Weights." in weights:
        d["pretrained_backbone_weights"] = None
    return d


_TUPLE_FIELDS = {"image_size", "down_dims", "crop_shape", "optimizer_betas", "resize_shape"}
# Fields of lerobot's configs that have no meaning here (device, hub and processor plumbing).
LEROBOT_ONLY = {"device", "use_amp", "push_to_hub", "repo_id", "private", "tags", "license",
                "pretrained_path", "use_peft", "compile_model", "compile_mode", "resize_shape", "crop_ratio"}


@dataclass
class ACTConfig(PolicyConfig):
    """Action Chunking Transformer (Zhao et al. 2023), lerobot's field names and reference defaults."""

    type: ClassVar[str] = "act"
    chunk_size: int = 100
    n_action_steps: int = 100
    replace_final_stride_with_dilation: bool = False
    pre_norm: bool = False
    dim_model: int = 512
    n_heads: int = 8
    dim_feedforward: int = 3200
    feedforward_activation: str = "relu"
    n_encoder_layers: int = 4
    n_decoder_layers: int = 1
    use_vae: bool = True
    latent_dim: int = 32
    n_vae_encoder_layers: int = 4
    temporal_ensemble_coeff: float | None = None
    dropout: float = 0.1
    kl_weight: float = 10.0
    # Paper / lerobot optimiser: AdamW, constant LR, backbone LR separate. "cosine" (with a linear warm-up)
    # anneals the LR to 0 at the last step — or at the last step a --minutes budget allows.
    optimizer_lr: float = 1e-5
    optimizer_weight_decay: float = 1e-4
    optimizer_lr_backbone: float = 1e-5
    scheduler_name: str = "constant"
    scheduler_warmup_steps: int = 0

    def validate(self) -> None:
        super().validate()
        if self.n_obs_steps != 1:
            raise ValueError(f"ACT uses one observation step, got n_obs_steps={self.n_obs_steps}")
        if self.n_action_steps > self.chunk_size:
            raise ValueError(f"n_action_steps ({self.n_action_steps}) must be <= chunk_size ({self.chunk_size})")
        if self.temporal_ensemble_coeff is not None and self.n_action_steps != 1:
            raise ValueError("temporal ensembling queries the policy every step: set n_action_steps=1")
        if self.scheduler_name not in ("constant", "cosine"):
            raise ValueError(f"scheduler_name must be constant or cosine, not {self.scheduler_name!r}")
        if self.dim_model % self.n_heads:
            raise ValueError(f"dim_model ({self.dim_model}) must be a multiple of n_heads ({self.n_heads})")

    @property
    def action_delta_indices(self) -> list[int]:
        return list(range(self.chunk_size))

    @property
    def observation_delta_indices(self) -> list[int] | None:
        return None


@dataclass
class DiffusionConfig(PolicyConfig):
    """Diffusion Policy (Chi et al. 2023), lerobot's field names and reference defaults."""

    type: ClassVar[str] = "diffusion"
    normalization_mapping: dict[str, str] = _default_norm("MEAN_STD", "MIN_MAX", "MIN_MAX")
    backbone_norm: str = "group"
    use_ema: bool = True
    n_obs_steps: int = 2
    horizon: int = 16
    n_action_steps: int = 8
    drop_n_last_frames: int = 7  # horizon - n_action_steps - n_obs_steps + 1
    crop_shape: tuple[int, int] | None = None
    crop_is_random: bool = True
    spatial_softmax_num_keypoints: int = 32
    use_separate_rgb_encoder_per_camera: bool = False
    down_dims: tuple[int, ...] = (512, 1024, 2048)
    kernel_size: int = 5
    n_groups: int = 8
    diffusion_step_embed_dim: int = 128
    use_film_scale_modulation: bool = True
    # Training always adds noise as DDPM does; this names the sampler used at inference (DDPM or DDIM).
    noise_scheduler_type: str = "DDPM"
    num_train_timesteps: int = 100
    beta_schedule: str = "squaredcos_cap_v2"
    beta_start: float = 0.0001
    beta_end: float = 0.02
    prediction_type: str = "epsilon"
    clip_sample: bool = True
    clip_sample_range: float = 1.0
    num_inference_steps: int | None = None
    do_mask_loss_for_padding: bool = False
    # Paper / lerobot optimiser: Adam(W) betas (0.95, 0.999), cosine schedule with warmup, EMA of weights.
    optimizer_lr: float = 1e-4
    optimizer_betas: tuple[float, float] = (0.95, 0.999)
    optimizer_eps: float = 1e-8
    optimizer_weight_decay: float = 1e-6
    scheduler_name: str = "cosine"
    scheduler_warmup_steps: int = 500

    def validate(self) -> None:
        super().validate()
        if self.prediction_type not in ("epsilon", "sample"):
            raise ValueError(f"prediction_type must be epsilon or sample, not {self.prediction_type!r}")
        if self.noise_scheduler_type not in ("DDPM", "DDIM"):
            raise ValueError(f"noise_scheduler_type must be DDPM or DDIM, not {self.noise_scheduler_type!r}")
        if self.beta_schedule not in ("linear", "scaled_linear", "squaredcos_cap_v2"):
            raise ValueError(f"unknown beta_schedule {self.beta_schedule!r}")
        if self.horizon % (2 ** (len(self.down_dims) - 1)):
            raise ValueError(f"horizon ({self.horizon}) must be a multiple of 2^(len(down_dims)-1)")
        if self.n_action_steps > self.horizon - self.n_obs_steps + 1:
            raise ValueError("n_action_steps must be <= horizon - n_obs_steps + 1")
        if self.crop_shape is not None:
            h, w = self.model_image_size if self.input_features else (10**9, 10**9)
            if self.crop_shape[0] > h or self.crop_shape[1] > w:
                raise ValueError(f"crop_shape {tuple(self.crop_shape)} is larger than the images ({h}x{w})")

    @property
    def action_delta_indices(self) -> list[int]:
        return list(range(1 - self.n_obs_steps, 1 - self.n_obs_steps + self.horizon))

    @property
    def observation_delta_indices(self) -> list[int]:
        return list(range(1 - self.n_obs_steps, 1))


CONFIG_CLASSES: dict[str, type[PolicyConfig]] = {"act": ACTConfig, "diffusion": DiffusionConfig}

# Preset overrides on top of the dataclass defaults (which are lerobot's reference sizes).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "act": {
        "lerobot-default": {},
        "cpu-small": dict(
            image_size=(96, 128), vision_backbone="resnet18", backbone_width=16, backbone_norm="group",
            replace_final_stride_with_dilation=False,
            chunk_size=32, n_action_steps=16, dim_model=256, n_heads=8, dim_feedforward=512,
            # Training is compute-bound on a CPU: 2 encoder layers, no dropout and no VAE encoder (the scripted
            # demonstrations need no latent style) make a step 36% cheaper. 30 min on 2 cores: 54% (constant LR
            # 1e-4) -> 74% (cosine 2e-4) -> 92% (this, and 2 training processes: 144 samples/s).
            n_encoder_layers=2, n_decoder_layers=1, use_vae=False, n_vae_encoder_layers=1, latent_dim=32,
            dropout=0.0, kl_weight=10.0, optimizer_lr=2e-4, optimizer_lr_backbone=2e-4,
            scheduler_name="cosine", scheduler_warmup_steps=200,
            optimizer_weight_decay=1e-4, batch_size=32, augment_shift=4,
        ),
    },
    "diffusion": {
        "lerobot-default": {},
        "cpu-small": dict(
            image_size=(96, 128), crop_shape=(88, 120), vision_backbone="resnet18", backbone_width=16,
            # One observation step (two let the arm's own speed feed back: it ran ahead of the demonstrations),
            # the clean sample predicted instead of the noise, and the whole horizon executed before replanning
            # (fewer replans, less drift): 30 min on 2 cores went from 0% to 78-80% on unseen scenes.
            backbone_norm="group", n_obs_steps=1, horizon=16, n_action_steps=16, drop_n_last_frames=8,
            prediction_type="sample",
            down_dims=(64, 128, 256), kernel_size=5, n_groups=8, diffusion_step_embed_dim=64,
            spatial_softmax_num_keypoints=32, noise_scheduler_type="DDIM", num_train_timesteps=100,
            num_inference_steps=10, optimizer_lr=1e-4, scheduler_warmup_steps=200, batch_size=32,
        ),
    },
}
DEFAULT_PRESET = "cpu-small"


def make_config(policy: str, preset: str = DEFAULT_PRESET, features: dict | None = None,
                **overrides) -> PolicyConfig:
    """A config for `policy` ("act" | "diffusion") from a preset, with `features` (dataset-shaped, see
    `features_from_dataset`) and any field overrides."""
    if policy not in CONFIG_CLASSES:
        raise ValueError(f"unknown policy {policy!r} (choose from {', '.join(CONFIG_CLASSES)})")
    if preset not in PRESETS[policy]:
        raise ValueError(f"unknown preset {preset!r} for {policy} (choose from {', '.join(PRESETS[policy])})")
    kwargs = {**PRESETS[policy][preset], **overrides}
    if features is not None:
        kwargs["input_features"], kwargs["output_features"] = split_features(features)
    cls = CONFIG_CLASSES[policy]
    cfg = cls(**kwargs)
    if cfg.input_features:
        cfg.validate()
    return cfg


def _feature(kind: str, shape, names=None) -> dict[str, Any]:
    f: dict[str, Any] = {"type": kind, "shape": [int(x) for x in shape]}
    if names and kind != VISUAL:
        f["names"] = list(names)
    return f


def split_features(features: dict[str, dict], cameras: list[str] | None = None) -> tuple[dict, dict]:
    """Dataset features (LeRobot info.json shape: images [h, w, 3] with dtype video/image) -> policy
    (input_features, output_features) in lerobot's convention (images [3, h, w])."""
    inputs, outputs = {}, {}
    for key, f in features.items():
        shape = list(f["shape"])
        if is_image_key(key) and f.get("dtype") in ("video", "image"):
            if cameras is not None and camera_name(key) not in cameras:
                continue
            inputs[key] = _feature(VISUAL, [shape[2], shape[0], shape[1]])
        elif "type" in f:  # already policy-shaped
            (outputs if f["type"] == ACTION else inputs)[key] = _feature(f["type"], shape, f.get("names"))
        elif key == STATE_KEY:
            inputs[key] = _feature(STATE, shape, f.get("names"))
        elif key == ACTION_KEY:
            outputs[key] = _feature(ACTION, shape, f.get("names"))
    if cameras is not None:
        missing = [c for c in cameras if image_key(c) not in inputs]
        if missing:
            raise ValueError(f"camera(s) {', '.join(missing)} not in the dataset "
                             f"(it has {', '.join(camera_name(k) for k in features if is_image_key(k))})")
    return inputs, outputs


def config_from_dict(d: dict[str, Any], strict: bool = True) -> PolicyConfig:
    kind = d.get("type")
    if kind not in CONFIG_CLASSES:
        raise ValueError(f"config.json has an unknown policy type {kind!r} (expected act or diffusion)")
    return CONFIG_CLASSES[kind].from_dict(d, strict=strict)
