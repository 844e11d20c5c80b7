"""Configs: presets, lerobot field names, validation, JSON round trip."""

import pytest

from policies.config import ACTConfig, DiffusionConfig, config_from_dict, make_config, split_features
from tests.policies.helpers import make_dataset


@pytest.fixture(scope="module")
def features():
    return make_dataset(n_episodes=1, length=4).features


def test_cpu_small_is_the_default_and_small(features):
    act = make_config("act", features=features)
    assert act.image_size == (96, 128) and act.dim_model <= 256 and act.n_encoder_layers <= 4
    assert act.image_keys == ["observation.images.front", "observation.images.wrist"]
    assert act.state_dim == 6 and act.action_dim == 6
    assert act.input_features["observation.images.front"]["shape"] == [3, 24, 32]  # the camera's, channels first
    diff = make_config("diffusion", features=features, crop_shape=(84, 120))
    assert diff.noise_scheduler_type == "DDIM" and diff.num_inference_steps == 10
    assert max(diff.down_dims) <= 256


def test_lerobot_default_is_lerobots_reference_sizes(features):
    act = make_config("act", "lerobot-default", features)
    assert (act.chunk_size, act.n_action_steps, act.dim_model, act.n_heads, act.dim_feedforward) == (100, 100, 512, 8, 3200)
    assert (act.n_encoder_layers, act.n_decoder_layers, act.n_vae_encoder_layers, act.latent_dim) == (4, 1, 4, 32)
    assert (act.kl_weight, act.optimizer_lr, act.backbone_width, act.backbone_norm) == (10.0, 1e-5, 64, "frozen_bn")
    diff = make_config("diffusion", "lerobot-default", features)
    assert diff.down_dims == (512, 1024, 2048) and (diff.horizon, diff.n_obs_steps, diff.n_action_steps) == (16, 2, 8)
    assert diff.normalization_mapping == {"VISUAL": "MEAN_STD", "STATE": "MIN_MAX", "ACTION": "MIN_MAX"}


def test_a_lerobot_config_json_reads_into_ours(features):
    inputs, outputs = split_features(features)
    lerobot_json = {"type": "act", "n_obs_steps": 1, "chunk_size": 50, "n_action_steps": 50, "dim_model": 256,
                    "input_features": inputs, "output_features": outputs, "device": "cuda", "use_amp": False,
                    "push_to_hub": True, "repo_id": "me/act", "pre_norm": False, "vision_backbone": "resnet18",
                    "pretrained_backbone_weights": None, "temporal_ensemble_coeff": None, "kl_weight": 10.0,
                    "normalization_mapping": {"VISUAL": "MEAN_STD", "STATE": "MEAN_STD", "ACTION": "MEAN_STD"}}
    cfg = config_from_dict(lerobot_json)
    assert isinstance(cfg, ACTConfig) and cfg.chunk_size == 50 and cfg.dim_model == 256
    cfg = config_from_dict({**lerobot_json, "pretrained_backbone_weights": "ResNet18_Weights.IMAGENET1K_V1"})
    assert cfg.pretrained_backbone_weights is None and cfg.backbone_norm == "frozen_bn"  # lerobot ACT: frozen BN
    diff = config_from_dict({"type": "diffusion", "input_features": inputs, "output_features": outputs,
                             "use_group_norm": True, "crop_shape": [20, 28], "resize_shape": None, "crop_ratio": 1.0,
                             "down_dims": [64, 128, 256], "pretrained_backbone_weights": None})
    assert diff.backbone_norm == "group" and diff.crop_shape == (20, 28) and diff.down_dims == (64, 128, 256)


def test_round_trip_and_unknown_fields(features):
    cfg = make_config("diffusion", features=features, crop_shape=(20, 28))
    again = config_from_dict(cfg.to_dict())
    assert again == cfg and isinstance(again.down_dims, tuple)
    with pytest.raises(ValueError, match="unknown diffusion config field"):
        DiffusionConfig.from_dict({**cfg.to_dict(), "dim_modle": 3})
    with pytest.raises(ValueError, match="unknown policy type"):
        config_from_dict({"type": "vqbet"})


@pytest.mark.parametrize("policy,overrides,message", [
    ("act", dict(chunk_size=10, n_action_steps=20), "n_action_steps"),
    ("act", dict(temporal_ensemble_coeff=0.01, n_action_steps=5), "temporal ensembling"),
    ("act", dict(dim_model=100, n_heads=8), "multiple of n_heads"),
    ("diffusion", dict(horizon=10, down_dims=(8, 16, 32)), "horizon"),
    ("diffusion", dict(crop_shape=(200, 200)), "crop_shape"),
    ("diffusion", dict(prediction_type="v"), "prediction_type"),
])
def test_bad_settings_are_refused(features, policy, overrides, message):
    with pytest.raises(ValueError, match=message):
        make_config(policy, features=features, **overrides)


def test_camera_subset_and_unknown_camera(features):
    inputs, _ = split_features(features, cameras=["front"])
    assert "observation.images.wrist" not in inputs and "observation.images.front" in inputs
    with pytest.raises(ValueError, match="camera.*top.*not in the dataset"):
        split_features(features, cameras=["top"])
