"""The trainer: overfitting (loss falls >= 10x), checkpoint layout, exact resume, early stop, refusals (its
command line and worker process: tests/cli/test_train_worker.py)."""

import csv

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from policies import load_policy, make_policy
from policies.data import BatchSampler, FrameCache
from policies.train import TrainOptions, train
from tests.policies.helpers import TINY_ACT, TINY_DIFFUSION, make_dataset


def _run(tmp_path, kind, steps, reader, name="out", **kw):
    records = []
    opts = dict(policy=kind, steps=steps, out=str(tmp_path / name), log_every=1, save_every=0, progress=False,
                num_threads=1)
    opts.update(kw)
    result = train(TrainOptions(**opts), reader=reader, callback=records.append)
    return result, records


def test_act_overfits_a_tiny_dataset(tmp_path):
    ds = make_dataset(n_episodes=1, length=16)
    over = dict(TINY_ACT, optimizer_lr=1e-3, optimizer_lr_backbone=1e-3)
    result, rec = _run(tmp_path, "act", 150, ds, overrides=over)
    first, last = rec[0], rec[-10:]
    assert np.mean([r["loss"] for r in last]) < first["loss"] / 10
    assert np.mean([r["l1_loss"] for r in last]) < first["l1_loss"] / 10
    policy = load_policy(result.checkpoint)
    ep = ds._eps[0]
    policy.reset()
    pred = np.stack([policy.select_action({k: v[i] for k, v in ep.items() if k != "action"}) for i in range(8)])
    err, spread = np.abs(pred - ep["action"][:8]).mean(), np.abs(ep["action"] - ep["action"].mean(0)).mean()
    assert err < spread / 5


def _sample_error(policy, ds):
    cache = FrameCache.build(ds, image_size=policy.config.image_size)
    b = BatchSampler(cache, policy.delta_indices, 8).gather(torch.arange(1, 9))
    obs = {k: v for k, v in b.items() if k.startswith("observation") and not k.endswith("_is_pad")}
    torch.manual_seed(0)
    pred = policy.eval().predict_action_chunk(obs)
    return (pred - b["action"][:, 1:1 + pred.shape[1]]).abs().mean().item()


def test_diffusion_overfits_a_tiny_dataset(tmp_path):
    """Sample prediction: the loss is the action error and falls >= 10x; so does the error of actions sampled
    with DDIM. (Epsilon prediction, the default, learns the same data more slowly; its target is checked in
    test_diffusion.py.)"""
    ds = make_dataset(n_episodes=1, length=12)
    over = dict(TINY_DIFFUSION, optimizer_lr=3e-3, crop_is_random=False, prediction_type="sample")
    result, rec = _run(tmp_path, "diffusion", 200, ds, overrides=over)
    assert np.mean([r["loss"] for r in rec[-10:]]) < rec[0]["loss"] / 10
    trained = load_policy(result.checkpoint)
    torch.manual_seed(0)
    fresh = make_policy(trained.config)
    fresh.normalizer.load_state_tensors(trained.normalizer.state_tensors())
    assert _sample_error(trained, ds) < _sample_error(fresh, ds) / 10


def test_checkpoints_log_and_last(tmp_path):
    ds = make_dataset(n_episodes=2, length=12)
    result, _ = _run(tmp_path, "act", 5, ds, overrides=TINY_ACT, save_every=2, log_every=2)
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["000002", "000004", "000005"]
    assert (out / "last").resolve() == (out / "checkpoints" / "000005").resolve() == result.checkpoint.resolve()
    files = sorted(p.name for p in (out / "last").iterdir())
    assert files == ["config.json", "model.safetensors", "normalizer.safetensors", "training_state.json",
                     "training_state.safetensors"]
    rows = list(csv.DictReader((out / "train_log.csv").read_text().splitlines()))
    assert [int(r["step"]) for r in rows] == [2, 4, 5]
    assert {"step", "loss", "l1_loss", "kld_loss", "lr", "samples_per_s", "step_ms", "elapsed_s"} <= set(rows[0])
    assert float(rows[-1]["samples_per_s"]) > 0
    for r in rows:  # every column is an interval mean: loss = l1 + kl_weight * kld
        total = float(r["l1_loss"]) + TINY_ACT.get("kl_weight", 10.0) * float(r["kld_loss"])
        assert abs(float(r["loss"]) - total) < 1e-3 * max(1.0, total)
    assert load_policy(out / "checkpoints" / "000002", features=ds.features).config.chunk_size == TINY_ACT["chunk_size"]


@pytest.mark.parametrize("kind,over", [("act", dict(TINY_ACT, dropout=0.1, augment_shift=2)),
                                       ("diffusion", TINY_DIFFUSION)])
def test_resume_continues_exactly(tmp_path, kind, over):
    ds = make_dataset(n_episodes=2, length=12)
    straight, _ = _run(tmp_path, kind, 6, ds, "a", overrides=over, seed=3)
    _run(tmp_path, kind, 3, ds, "b", overrides=over, seed=3)
    resumed, rec = _run(tmp_path, kind, 6, ds, "b", overrides=over, seed=3, resume=True)
    assert resumed.step == 6 and [r["step"] for r in rec] == [4, 5, 6]
    for name in ("model.safetensors", "training_state.safetensors"):
        a, b = load_file(str(straight.checkpoint / name)), load_file(str(resumed.checkpoint / name))
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), (name, k)
    rows = list(csv.DictReader((tmp_path / "b" / "train_log.csv").read_text().splitlines()))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]


def test_stop_early_and_refusals(tmp_path):
    ds = make_dataset(n_episodes=1, length=10)
    seen = []
    result = train(TrainOptions(policy="act", steps=100, out=str(tmp_path / "o"), log_every=1, save_every=0,
                                overrides=TINY_ACT, progress=False, num_threads=1), reader=ds, callback=seen.append,
                   should_stop=lambda: len(seen) >= 3)
    assert result.step == 3 and result.checkpoint.name == "000003"
    with pytest.raises(ValueError, match="already holds checkpoints: pass --resume"):
        train(TrainOptions(policy="act", steps=5, out=str(tmp_path / "o"), overrides=TINY_ACT, progress=False), reader=ds)
    with pytest.raises(ValueError, match="nothing to resume"):
        train(TrainOptions(policy="act", steps=5, out=str(tmp_path / "new"), resume=True, progress=False), reader=ds)
    other = make_dataset(n_episodes=1, length=10)
    other._eps = [{k: v for k, v in e.items() if k != "observation.images.wrist"} for e in other._eps]
    other.features.pop("observation.images.wrist")
    with pytest.raises(ValueError, match="needs observation.images.wrist"):
        train(TrainOptions(policy="act", steps=5, out=str(tmp_path / "o"), resume=True, progress=False), reader=other)


@pytest.mark.parametrize("fast", [False, True])
def test_amp_only_where_bfloat16_is_fast(tmp_path, monkeypatch, capsys, fast):
    """--amp on a CPU without bfloat16 units would run emulated and far slower: the trainer says so and trains in
    float32; where the units exist the forward pass runs in bfloat16."""
    import policies.train as trainer

    monkeypatch.setattr(trainer, "_bf16_is_fast", lambda device: fast)
    seen, real_autocast = [], torch.autocast
    monkeypatch.setattr(trainer.torch, "autocast", lambda *a, enabled, **k: seen.append(enabled) or
                        real_autocast("cpu", dtype=torch.bfloat16, enabled=False))
    result, _ = _run(tmp_path, "act", 2, make_dataset(n_episodes=1, length=12), overrides=TINY_ACT, amp=True)
    assert result.step == 2 and seen == [fast, fast]
    assert ("training in float32" in capsys.readouterr().err) is not fast
