"""Diffusion Policy: U-Net and conditioning shapes, the noise schedules, observation history, crops."""

import numpy as np
import pytest
import torch

from policies import make_config, make_policy
from policies.data import BatchSampler, FrameCache
from policies.schedulers import NoiseScheduler, make_betas
from policies.unet import ConditionalUnet1d
from tests.policies.helpers import TINY_DIFFUSION, make_dataset


@pytest.fixture(scope="module")
def setup():
    ds = make_dataset(n_episodes=2, length=20)
    cfg = make_config("diffusion", features=ds.features, **TINY_DIFFUSION)
    cache = FrameCache.build(ds, image_size=cfg.image_size)
    torch.manual_seed(0)
    return ds, cfg, cache, make_policy(cfg, cache.stats)


def test_unet_shapes():
    net = ConditionalUnet1d(action_dim=6, global_cond_dim=10, down_dims=(16, 32, 64), n_groups=4,
                            diffusion_step_embed_dim=8)
    x = torch.randn(3, 16, 6)
    assert net(x, torch.tensor([0, 5, 99]), torch.randn(3, 10)).shape == (3, 16, 6)


def test_forward_and_sampling_shapes(setup):
    ds, cfg, cache, policy = setup
    batch = BatchSampler(cache, policy.delta_indices, 4, drop_n_last_frames=cfg.drop_n_last_frames).next_batch()
    assert batch["observation.state"].shape == (4, 2, 6) and batch["observation.state_is_pad"].shape == (4, 2)
    assert batch["observation.images.front"].shape == (4, 2, 3, 16, 24) and batch["action"].shape == (4, 8, 6)
    loss, info = policy.train()(batch)
    assert torch.isfinite(loss) and "mse_loss" in info
    cond = policy.diffusion.global_condition(policy.normalize_inputs(batch))
    assert cond.shape == (4, 2 * (6 + 2 * 2 * cfg.spatial_softmax_num_keypoints))
    obs = {k: v for k, v in batch.items() if k.startswith("observation") and not k.endswith("_is_pad")}
    assert policy.eval().predict_action_chunk(obs).shape == (4, cfg.n_action_steps, 6)


def test_random_crop_in_training_centre_crop_in_eval(setup):
    ds, cfg, cache, policy = setup
    enc = policy.diffusion.rgb_encoder
    x = torch.arange(2 * 3 * 16 * 24, dtype=torch.float32).reshape(2, 3, 16, 24)
    enc.eval()
    torch.testing.assert_close(enc.crop(x), x[..., 1:15, 1:23])
    enc.train()
    crops = {tuple(enc.crop(x)[0, 0, 0, :2].tolist()) for _ in range(30)}
    assert enc.crop(x).shape == (2, 3, 14, 22) and len(crops) > 1


@pytest.mark.parametrize("kind,steps", [("DDIM", 10), ("DDIM", 100), ("DDPM", 100)])
def test_an_oracle_denoiser_recovers_the_sample(kind, steps):
    s = NoiseScheduler(kind, num_train_timesteps=100, clip_sample=True)
    x0 = torch.rand(4, 16, 6) * 1.6 - 0.8
    x = torch.randn(4, 16, 6)
    s.set_timesteps(steps)
    assert s.timesteps[0] == 100 - 100 // steps and s.timesteps[-1] == 0 and len(s.timesteps) == steps
    for t in s.timesteps.tolist():
        ab = s.alphas_cumprod[t]
        eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()  # what a perfect model predicts
        x = s.step(eps.float(), t, x, generator=torch.Generator().manual_seed(t))
    torch.testing.assert_close(x, x0, atol=1e-4, rtol=1e-4)


def test_noising_and_cosine_schedule():
    b = make_betas("squaredcos_cap_v2", 100)
    assert b.shape == (100,) and 0 < b[0] < 1e-3 and b.max() <= 0.999 and torch.all(b[1:] >= b[:-1])
    s = NoiseScheduler("DDPM", 100)
    x0, eps = torch.ones(2, 4, 1), torch.zeros(2, 4, 1)
    out = s.add_noise(x0, eps, torch.tensor([0, 99]))
    assert out[0].mean() > 0.99 and out[1].mean() < 0.05


def test_history_repeats_the_first_observation_and_chunks_are_reused(setup):
    ds, cfg, cache, policy = setup
    policy.eval().reset()
    calls = []
    real = policy.diffusion.generate_actions
    policy.diffusion.generate_actions = lambda b, generator=None: calls.append(b) or real(b, generator)
    ep = ds._eps[0]
    out = [policy.select_action({k: v[i] for k, v in ep.items() if k != "action"}) for i in range(cfg.n_action_steps + 1)]
    assert len(calls) == 2 and out[0].shape == (6,)
    first = calls[0]["observation.state"]  # normalised [1, n_obs_steps, 6]: both steps are frame 0
    torch.testing.assert_close(first[:, 0], first[:, 1])
    second = calls[1]["observation.state"]
    norm = policy.normalizer.normalize
    torch.testing.assert_close(second[0], norm("observation.state", torch.from_numpy(ep["observation.state"][cfg.n_action_steps - 1:cfg.n_action_steps + 1])))
    policy.diffusion.generate_actions = real
    np.testing.assert_array_less(np.abs(out[0]), 1e3)


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample"])
def test_the_loss_target_is_the_noise_or_the_actions(setup, prediction_type):
    ds, cfg, cache, _ = setup
    torch.manual_seed(0)
    policy = make_policy(cfg.replace(prediction_type=prediction_type), cache.stats).train()
    model = policy.diffusion
    seen = {}
    real_add_noise = model.train_scheduler.add_noise

    def add_noise(x0, noise, t):
        seen.update(x0=x0, noise=noise)
        return real_add_noise(x0, noise, t)

    model.train_scheduler.add_noise = add_noise
    model.unet.forward = lambda x, t, global_cond=None: seen["noise" if prediction_type == "epsilon" else "x0"]
    batch = BatchSampler(cache, policy.delta_indices, 4).next_batch()
    loss, _ = policy(batch)
    assert loss.item() == 0.0  # an oracle for the target has zero loss


def test_sampler_and_step_count_change_without_retraining(setup):
    ds, cfg, cache, policy = setup
    policy.configure_inference(noise_scheduler_type="DDPM", num_inference_steps=100, n_action_steps=2)
    assert policy.diffusion.sampler.kind == "DDPM" and policy.diffusion.num_inference_steps == 100
    calls = []
    real = policy.diffusion.unet.forward
    policy.diffusion.unet.forward = lambda *a, **k: calls.append(1) or real(*a, **k)
    policy.eval().reset()
    policy.select_action({k: v[0] for k, v in ds._eps[0].items() if k != "action"})
    assert len(calls) == 100 and len(policy.queue) == 1
    policy.diffusion.unet.forward = real
    policy.configure_inference(noise_scheduler_type="DDIM", num_inference_steps=cfg.num_inference_steps,
                               n_action_steps=cfg.n_action_steps)
