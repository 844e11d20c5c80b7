"""Fine-tuning a run (`resume_from`): the new run starts from the run's weights (its first loss is the original's
loss on the same batch; with a zero learning rate its weights stay the original's), keeps the original's config
and normalisation stats even on other data, writes a NEW folder (the run's own is refused; its checkpoints stay as
they are), records where it came from (kept when the fine-tune itself is resumed), and the checkpoint table tells
the two runs apart."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from policies import load_policy
from policies.data import BatchSampler
from policies.mixing import build_cache
from policies.run_folder import fine_tune_start
from policies.train import TrainOptions, train
from robotapp.eval.checkpoint_table import training_origin
from tests.policies.helpers import TINY_ACT, TINY_DIFFUSION, make_dataset

SEED = 3


def _scaled(ds, k: float):
    """The same frames with every action and state k times larger: other stats than the original's."""
    for ep in ds._eps:
        ep["action"] = ep["action"] * k
        ep["observation.state"] = ep["observation.state"] * k
    return ds


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """A 4-step run on demonstrations (save every 2: checkpoints 2 and 4)."""
    root = tmp_path_factory.mktemp("orig")
    opts = TrainOptions(dataset="demos", steps=4, save_every=2, out=str(root / "run"), overrides=TINY_ACT,
                        progress=False, num_threads=1)
    train(opts, make_dataset(n_episodes=2, length=12, seed=0))
    return root / "run"


def _fine_tune(original, out, steps=2, datasets=None, **kw):
    readers = datasets or [make_dataset(n_episodes=2, length=12, seed=0),
                           _scaled(make_dataset(n_episodes=1, length=12, seed=9), 3.0)]
    records = []
    opts = TrainOptions(dataset="demos", datasets=["demos", "corrections"][:len(readers)], steps=steps, out=str(out),
                        resume_from=str(original), progress=False, log_every=1, save_every=0, seed=SEED,
                        num_threads=1, **kw)
    return train(opts, readers, callback=records.append), records, readers


def test_starts_from_the_runs_weights_and_keeps_its_stats(original, tmp_path):
    result, records, readers = _fine_tune(original, tmp_path / "ft", steps=2)
    start = original / "checkpoints" / "000004"
    # the first step's loss is the original policy's loss on that same first batch
    policy = load_policy(start).train()
    cache, shares = build_cache(readers, ["demos", "corrections"], "balanced", image_size=policy.config.image_size,
                                cameras=["front", "wrist"])
    batch = BatchSampler(cache, policy.delta_indices, policy.config.batch_size, seed=SEED, weights=shares).next_batch()
    torch.manual_seed(SEED)
    with torch.no_grad():
        loss, _ = policy(batch)
    assert records[0]["loss"] == pytest.approx(float(loss), rel=1e-5)
    # its config and normalisation stats are the original's, though the corrections' actions are 3x larger
    for name in ("config.json", "normalizer.safetensors"):
        assert (result.checkpoint / name).read_bytes() == (start / name).read_bytes(), name
    fresh = train(TrainOptions(datasets=["demos", "corrections"], steps=1, out=str(tmp_path / "fresh"),
                               overrides=TINY_ACT, progress=False, num_threads=1), readers)
    a, b = load_file(str(fresh.checkpoint / "normalizer.safetensors")), load_file(str(start / "normalizer.safetensors"))
    assert not all(torch.equal(a[k], b[k]) for k in a)  # fresh stats would differ: these were kept
    assert load_file(str(result.checkpoint / "model.safetensors")).keys() == load_file(str(start / "model.safetensors")).keys()
    # a fresh optimiser and schedule: steps count from 0 in the new run, the old run is untouched
    assert [r["step"] for r in records] == [1, 2] and result.checkpoint.name == "000002"
    assert sorted(p.name for p in (original / "checkpoints").iterdir()) == ["000002", "000004"]


def test_with_no_learning_rate_the_weights_stay_the_originals(original, tmp_path):
    """Training settings may change (--set optimizer_lr=0 here): the weights it starts from are the run's."""
    result, _, _ = _fine_tune(original, tmp_path / "ft", steps=2,
                              overrides={"optimizer_lr": 0.0, "optimizer_lr_backbone": 0.0})
    a = load_file(str(result.checkpoint / "model.safetensors"))
    b = load_file(str(original / "checkpoints" / "000004" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((result.checkpoint / "config.json").read_text())["optimizer_lr"] == 0.0


def test_a_diffusion_run_fine_tunes_from_its_ema_weights(tmp_path):
    """Diffusion checkpoints hold EMA weights: the fine-tune starts from those, whatever --policy says."""
    ds = make_dataset(n_episodes=2, length=12)
    first = train(TrainOptions(policy="diffusion", steps=3, out=str(tmp_path / "run"), overrides=TINY_DIFFUSION,
                               progress=False, num_threads=1), ds)
    result = train(TrainOptions(policy="act", steps=2, out=str(tmp_path / "ft"), resume_from=str(tmp_path / "run"),
                                overrides={"optimizer_lr": 0.0}, progress=False, num_threads=1), [ds, ds])
    a, b = load_file(str(result.checkpoint / "model.safetensors")), load_file(str(first.checkpoint / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    state = json.loads((result.checkpoint / "training_state.json").read_text())
    assert state["options"]["policy"] == "diffusion" and load_policy(result.checkpoint).config.type == "diffusion"


def test_a_checkpoint_folder_is_started_from_as_given(original, tmp_path):
    older = original / "checkpoints" / "000002"
    assert fine_tune_start(original) == (original / "checkpoints" / "000004").resolve()
    assert fine_tune_start(older) == older.resolve()
    result, _, _ = _fine_tune(older, tmp_path / "ft", steps=1,
                              overrides={"optimizer_lr": 0.0, "optimizer_lr_backbone": 0.0})
    a, b = load_file(str(result.checkpoint / "model.safetensors")), load_file(str(older / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    state = json.loads((result.checkpoint / "training_state.json").read_text())
    assert state["resumed_from"] == str(older.resolve()) and state["resumed_from_step"] == 2
    with pytest.raises(ValueError, match="neither a checkpoint .* nor a training run"):
        fine_tune_start(tmp_path)


def test_records_where_it_came_from_and_the_table_tells_the_runs_apart(original, tmp_path):
    result, _, _ = _fine_tune(original, tmp_path / "ft", steps=2)
    state = json.loads((result.checkpoint / "training_state.json").read_text())
    start = (original / "checkpoints" / "000004").resolve()
    assert state["resumed_from"] == str(start) and state["resumed_from_run"] == str(original.resolve())
    assert state["resumed_from_step"] == 4 and state["options"]["resume_from"] == str(original)
    assert [d["path"] for d in state["datasets"]] == ["demos", "corrections"]
    assert training_origin(result.checkpoint) == ("demos", str(tmp_path / "ft"))
    assert training_origin(start) == ("demos", str(original))
    # the fine-tune stopped and continued (--resume in its own folder) still says where it came from
    more, _, _ = _fine_tune(original, tmp_path / "ft", steps=3, resume=True)
    assert json.loads((more.checkpoint / "training_state.json").read_text())["resumed_from"] == str(start)


@pytest.mark.parametrize("out", ["run", "checkpoint", "inside"])
def test_the_runs_own_folder_is_refused(original, out):
    target = {"run": original, "checkpoint": original / "checkpoints" / "000004", "inside": original / "checkpoints"}[out]
    before = sorted(p.name for p in (original / "checkpoints").iterdir())
    with pytest.raises(ValueError, match="is the run being fine-tuned: give a new folder") as e:
        _fine_tune(original, target)
    assert "\n" not in str(e.value)
    assert sorted(p.name for p in (original / "checkpoints").iterdir()) == before


def test_the_policys_config_is_kept(original, tmp_path):
    with pytest.raises(ValueError, match=r"--set dim_model=64: a fine-tune keeps the policy's config \(dim_model is 32\)"):
        _fine_tune(original, tmp_path / "ft", overrides={"dim_model": 64})
    result, _, _ = _fine_tune(original, tmp_path / "ft", steps=1, overrides=dict(TINY_ACT))  # the same values: fine
    assert result.step == 1
    other = make_dataset(n_episodes=1, length=12, cams=("front",))
    with pytest.raises(ValueError, match="the policy needs observation.images.wrist, which the dataset does not"):
        _fine_tune(original, tmp_path / "ft2", datasets=[other])
    assert np.isfinite(result.loss)


def test_data_of_another_robot_is_refused(original, tmp_path):
    json_path = original / "checkpoints" / "000004" / "training_state.json"
    assert json.loads(json_path.read_text())["robot_type"] is None  # in-memory data: unknown, so any robot passes
    run = tmp_path / "koch"
    koch = make_dataset(n_episodes=1, length=12)
    koch.robot_type = "koch_follower"
    train(TrainOptions(steps=1, out=str(run), overrides=TINY_ACT, progress=False, num_threads=1), koch)
    so101 = make_dataset(n_episodes=1, length=12)
    so101.robot_type = "so101_follower"
    with pytest.raises(ValueError, match="^dataset demos: robot type is 'so101_follower', but the policy being "
                                         "fine-tuned was trained on 'koch_follower'$"):
        _fine_tune(run, tmp_path / "ft", datasets=[so101])
    assert _fine_tune(run, tmp_path / "ft", steps=1, datasets=[koch])[0].step == 1
