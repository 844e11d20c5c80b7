"""ACT: shapes, padding masks in the loss, action queue and temporal ensembling."""

import numpy as np
import pytest
import torch

from policies import make_config, make_policy
from policies.data import BatchSampler, FrameCache
from policies.ensemble import TemporalEnsembler
from tests.policies.helpers import TINY_ACT, make_dataset


@pytest.fixture(scope="module")
def setup():
    ds = make_dataset(n_episodes=2, length=20)
    cfg = make_config("act", features=ds.features, **TINY_ACT)
    cache = FrameCache.build(ds, image_size=cfg.image_size)
    return ds, cfg, cache


def _policy(setup, **overrides):
    ds, cfg, cache = setup
    torch.manual_seed(0)
    return make_policy(cfg.replace(**overrides), cache.stats)


def test_forward_shapes_and_loss(setup):
    ds, cfg, cache = setup
    policy = _policy(setup)
    batch = BatchSampler(cache, policy.delta_indices, 5).next_batch()
    assert batch["action"].shape == (5, cfg.chunk_size, 6) and batch["action_is_pad"].shape == (5, cfg.chunk_size)
    assert batch["observation.images.front"].shape == (5, 3, 16, 24)
    loss, info = policy(batch)
    assert loss.ndim == 0 and torch.isfinite(loss) and set(info) == {"l1_loss", "kld_loss"}
    loss.backward()
    assert all(p.grad is not None for n, p in policy.named_parameters() if p.requires_grad)
    chunk = policy.eval().predict_action_chunk({k: v for k, v in batch.items() if k.startswith("observation")})
    assert chunk.shape == (5, cfg.chunk_size, 6)


@pytest.mark.parametrize("use_vae", [True, False])
def test_padded_actions_do_not_change_the_loss(setup, use_vae):
    ds, cfg, cache = setup
    policy = _policy(setup, use_vae=use_vae)
    sampler = BatchSampler(cache, policy.delta_indices, 4)
    ends = torch.tensor(cache.episode_to - 3)  # frames 3 before each episode end: chunk runs past the end
    batch = sampler.gather(torch.cat([ends, ends]))
    assert batch["action_is_pad"].any()
    changed = dict(batch, action=torch.where(batch["action_is_pad"][..., None], 1e4, batch["action"]))
    torch.manual_seed(1)
    a, _ = policy(batch)
    torch.manual_seed(1)
    b, _ = policy(changed)
    torch.testing.assert_close(a, b)
    changed = dict(batch, action=batch["action"] + 1.0)  # real (unpadded) targets do matter
    torch.manual_seed(1)
    c, _ = policy(changed)
    assert not torch.allclose(a, c)


def test_select_action_runs_the_model_once_per_n_action_steps(setup):
    ds, cfg, cache = setup
    policy = _policy(setup).eval()
    calls = []
    real = policy.model.forward
    policy.model.forward = lambda batch: calls.append(1) or real(batch)
    ep = ds._eps[0]
    obs = {k: v[0] for k, v in ep.items() if k != "action"}
    policy.reset()
    actions = [policy.select_action(obs) for _ in range(2 * cfg.n_action_steps + 1)]
    assert len(calls) == 3 and actions[0].shape == (6,) and actions[0].dtype == np.float32
    chunk = policy.predict_action_chunk(policy.prepare_observation(obs)[0])[0].numpy()
    np.testing.assert_allclose(np.stack(actions[:cfg.n_action_steps]), chunk[:cfg.n_action_steps], rtol=1e-5, atol=1e-5)
    policy.reset()
    policy.select_action(obs)
    assert len(calls) == 5  # reset empties the queue (4 = the predict_action_chunk call above)
    policy.reset()
    batched = policy.select_action({k: np.stack([v, v]) for k, v in obs.items()})
    assert batched.shape == (2, 6)


def test_temporal_ensembling_is_the_weighted_mean_of_all_predictions_for_now():
    coeff, chunk, steps = 0.1, 6, 9
    ens = TemporalEnsembler(coeff, chunk)
    preds = torch.randn(steps, 2, chunk, 3)  # prediction made at step s for steps s..s+chunk-1
    for s in range(steps):
        got = ens.update(preds[s])
        made = [(q, s - q) for q in range(max(0, s - chunk + 1), s + 1)]  # oldest first
        w = torch.exp(-coeff * torch.arange(len(made), dtype=torch.float64))
        want = sum(w[i] * preds[q, :, off].double() for i, (q, off) in enumerate(made)) / w.sum()
        torch.testing.assert_close(got, want.float(), rtol=1e-5, atol=1e-6)


def test_temporal_ensembling_policy_queries_every_step(setup):
    ds, cfg, cache = setup
    policy = _policy(setup, temporal_ensemble_coeff=0.01, n_action_steps=1).eval()
    obs = {k: v[3] for k, v in ds._eps[1].items() if k != "action"}
    first = policy.predict_action_chunk(policy.prepare_observation(obs)[0])[0, 0].numpy()
    policy.reset()
    np.testing.assert_allclose(policy.select_action(obs), first, rtol=1e-5, atol=1e-5)
    assert len(policy.queue) == 0 and policy.ensembler.avg.shape[1] == cfg.chunk_size - 1


def test_training_works_after_inference_and_with_bf16_autocast(setup):
    ds, cfg, cache = setup
    policy = _policy(setup).eval()
    obs = {k: v[0] for k, v in ds._eps[0].items() if k != "action"}
    policy.select_action(obs)  # inference mode first: cached tables must stay usable by autograd
    policy.train()
    batch = BatchSampler(cache, policy.delta_indices, 4).next_batch()
    for amp in (False, True):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            loss, _ = policy(batch)
        loss.backward()
        assert torch.isfinite(loss)


def test_inference_settings_change_without_retraining(setup):
    ds, cfg, cache = setup
    policy = _policy(setup).eval()
    obs = {k: v[2] for k, v in ds._eps[0].items() if k != "action"}
    chunk = policy.predict_action_chunk(policy.prepare_observation(obs)[0])[0].numpy()
    policy.configure_inference(temporal_ensemble_coeff=0.01, n_action_steps=1)
    assert policy.ensembler is not None
    np.testing.assert_allclose(policy.select_action(obs), chunk[0], rtol=1e-5, atol=1e-5)
    policy.configure_inference(temporal_ensemble_coeff=None, n_action_steps=2)
    assert policy.ensembler is None and policy.queue.n == 2
    with pytest.raises(ValueError, match="dim_model cannot change after training"):
        policy.configure_inference(dim_model=64)
