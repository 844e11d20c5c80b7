"""Training on several datasets: the sampler gives each dataset its share of the frames (measured over many
draws), balanced by default whatever their sizes; datasets that disagree on what the policy reads are refused in
one line naming the dataset and the field; the corrections' per-frame `intervention` flag is never a policy
input; several datasets train and resume exactly."""

import json
import re

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from policies.data import BatchSampler, FrameCache, InMemoryDataset
from policies.mixing import build_cache, check_compatible, merge_stats, resolve_shares, source_of
from policies.train import TrainOptions, train
from tests.policies.helpers import TINY_ACT, make_dataset, make_episodes, with_intervention

DRAWS = 300


def _two(big=6, small=1, length=20):
    return (make_dataset(n_episodes=big, length=length, seed=0), make_dataset(n_episodes=small, length=length, seed=1))


def _shares_drawn(weights, rank=0, world=1, batch=8, drop=0):
    a, b = _two()
    cache, shares = build_cache([a, b], ["demos", "corrections"], weights, image_size=(8, 8), cameras=["front"])
    s = BatchSampler(cache, {"action": [0]}, batch, seed=5, rank=rank, world_size=world, weights=shares,
                     drop_n_last_frames=drop)
    drawn = torch.cat([s.next_indices() for _ in range(DRAWS)])
    return cache, shares, drawn, np.bincount(source_of(cache, drawn).numpy(), minlength=2) / len(drawn)


@pytest.mark.parametrize("weights,want", [([1, 3], [0.25, 0.75]), ("balanced", [0.5, 0.5]),
                                          (None, [0.5, 0.5]), ("frames", [6 / 7, 1 / 7]), ([2, 0], [1.0, 0.0])])
def test_each_dataset_gets_its_share_of_the_drawn_frames(weights, want):
    cache, shares, drawn, got = _shares_drawn(weights)
    assert shares == pytest.approx(want)
    assert got == pytest.approx(want, abs=0.02)
    assert cache.source_names == ["demos", "corrections"] and cache.num_frames == 140
    # each dataset's frames come from its own shuffled stream: the small one is cycled through, whole
    small = drawn[source_of(cache, drawn) == 1]
    if len(small) >= 40:
        assert sorted(small[:20].tolist()) == list(range(120, 140))


def test_every_batch_holds_the_shares_and_ranks_stay_apart():
    a, b = _two()
    cache, shares = build_cache([a, b], ["a", "b"], [1, 3], image_size=(8, 8), cameras=["front"])
    ranks = [BatchSampler(cache, {"action": [0]}, 8, seed=1, rank=r, world_size=2, weights=shares) for r in (0, 1)]
    first = [r.next_indices() for r in ranks]
    for idx in first:
        assert np.bincount(source_of(cache, idx).numpy(), minlength=2).tolist() == [2, 6]
    assert not set(first[0].tolist()) & set(first[1].tolist())  # ranks draw disjoint strides of each stream


def test_the_balanced_default_counts_a_small_dataset_as_much_as_a_big_one():
    a, b = _two(big=10, small=2)
    cache, shares = build_cache([a, b], ["50 demos", "20 corrections"], "balanced", image_size=(8, 8),
                                cameras=["front"])
    s = BatchSampler(cache, {"action": [0]}, 8, seed=0)  # the sampler's own default is balanced too
    got = np.bincount(source_of(cache, torch.cat([s.next_indices() for _ in range(DRAWS)])).numpy()) / (8 * DRAWS)
    assert shares == [0.5, 0.5] and got == pytest.approx([0.5, 0.5], abs=0.01)


def test_sampler_state_resumes_the_same_mixed_stream():
    a, b = _two()
    cache, shares = build_cache([a, b], ["a", "b"], [1, 2], image_size=(8, 8), cameras=["front"])
    one = BatchSampler(cache, {"action": [0]}, 6, seed=2, weights=shares)
    for _ in range(17):
        one.next_indices()
    state = {k: v.clone() for k, v in one.state_dict().items()}
    assert state["epoch"].shape == (2,)
    want = [one.next_indices() for _ in range(40)]
    two = BatchSampler(cache, {"action": [0]}, 6, seed=2, weights=shares)
    two.load_state_dict(state)
    assert all(torch.equal(two.next_indices(), w) for w in want)
    single = BatchSampler(FrameCache.build(a, image_size=(8, 8)), {"action": [0]}, 6)
    with pytest.raises(ValueError, match="sampled 2 dataset"):
        single.load_state_dict(state)


def test_stats_are_those_of_the_mixture_as_sampled():
    x, y = np.array([0.0, 2.0]), np.array([10.0, 10.0, 10.0, 10.0])
    st = [{"k": {"mean": x.mean(keepdims=True), "std": x.std(keepdims=True), "min": x.min(keepdims=True),
                 "max": x.max(keepdims=True)}},
          {"k": {"mean": y.mean(keepdims=True), "std": y.std(keepdims=True), "min": y.min(keepdims=True),
                 "max": y.max(keepdims=True)}}]
    merged = merge_stats(st, [0.5, 0.5])["k"]
    both = np.concatenate([x, y[:2]])  # equal shares: as many samples of each
    assert merged["mean"] == pytest.approx([both.mean()]) and merged["std"] == pytest.approx([both.std()])
    assert merged["min"] == [0.0] and merged["max"] == [10.0]


def _variant(**kw):
    eps = make_episodes(n_episodes=1, length=10, cams=kw.pop("cams", ("front", "wrist")))
    ds = InMemoryDataset(eps, fps=kw.pop("fps", 30))
    ds.robot_type = kw.pop("robot_type", "koch_follower")
    return ds


@pytest.mark.parametrize("other,message", [
    (dict(fps=15), "dataset corr: fps is 15, but demos has 30"),
    (dict(robot_type="so101_follower"), "dataset corr: robot type is 'so101_follower', but demos has 'koch_follower'"),
    (dict(cams=("front",)), "dataset corr: no camera wrist (it has front; demos has front, wrist)"),
    (dict(cams=("front", "wrist", "top")), "dataset corr: camera top, which demos lacks"),
])
def test_datasets_that_disagree_are_refused_in_one_line(tmp_path, other, message):
    demos, corr = _variant(), _variant(**other)
    with pytest.raises(ValueError) as e:
        check_compatible([demos, corr], ["demos", "corr"])
    assert str(e.value).startswith(message) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):  # the trainer refuses before it decodes anything
        train(TrainOptions(datasets=["demos", "corr"], steps=1, out=str(tmp_path / "o"), overrides=TINY_ACT,
                           progress=False), [demos, corr])
    assert not (tmp_path / "o").exists()


def test_extra_features_and_a_chosen_subset_of_cameras_do_not_have_to_agree():
    demos = _variant()
    corr = InMemoryDataset(with_intervention(make_episodes(n_episodes=1, length=10, cams=("front", "top"))))
    corr.robot_type = "koch_follower"
    check_compatible([demos, corr], ["demos", "corr"], cameras=["front"])
    shape = dict(corr.features["action"], shape=[5])
    corr.features["action"] = shape
    with pytest.raises(ValueError, match=r"^dataset corr: action shape is \[5\], but demos has \[6\]"):
        check_compatible([demos, corr], ["demos", "corr"], cameras=["front"])


def test_weights_are_one_per_dataset():
    with pytest.raises(ValueError, match="gives 3 weight"):
        resolve_shares([1, 2, 3], [10, 10])
    with pytest.raises(ValueError, match="not all 0"):
        resolve_shares([0, 0], [10, 10])


def test_two_datasets_train_record_their_shares_and_resume_exactly(tmp_path):
    a, b = _two(big=2, small=1, length=12)
    names = ["demos", "corrections"]

    def run(name, steps, resume=False):
        opts = TrainOptions(dataset=names[0], datasets=names, weights=[1, 3], steps=steps, out=str(tmp_path / name),
                            overrides=TINY_ACT, progress=False, log_every=1, save_every=0, seed=4, resume=resume,
                            num_threads=1)
        return train(opts, [a, b])

    straight = run("a", 6)
    run("b", 3)
    resumed = run("b", 6, resume=True)
    for name in ("model.safetensors", "training_state.safetensors"):
        x, y = load_file(str(straight.checkpoint / name)), load_file(str(resumed.checkpoint / name))
        assert all(torch.equal(x[k], y[k]) for k in x), name
    state = json.loads((straight.checkpoint / "training_state.json").read_text())
    assert state["datasets"] == [{"path": "demos", "frames": 24, "share": 0.25},
                                 {"path": "corrections", "frames": 12, "share": 0.75}]
    assert state["options"]["dataset"] == "demos" and "resumed_from" not in state


def test_the_intervention_flag_is_never_a_policy_input(tmp_path):
    """A corrections dataset carries a bool `intervention` column: training on it gives the policy the same
    inputs as the same data without it."""
    eps = make_episodes(n_episodes=1, length=10)
    plain, flagged = InMemoryDataset(eps), InMemoryDataset(with_intervention(eps))
    flagged.features["intervention"] = {"dtype": "bool", "shape": [1], "names": None}
    assert "intervention" in flagged.episode_data(0)
    got = {}
    for name, ds in (("plain", plain), ("flagged", flagged)):
        result = train(TrainOptions(steps=1, out=str(tmp_path / name), overrides=TINY_ACT, progress=False), ds)
        got[name] = json.loads((result.checkpoint / "config.json").read_text())
    assert got["flagged"]["input_features"] == got["plain"]["input_features"]
    assert "intervention" not in json.dumps(got["flagged"])


def test_the_mixed_cache_holds_each_datasets_frames_in_order(monkeypatch):
    a, b = _two(big=2, small=1, length=10)
    cache, _ = build_cache([a, b], ["a", "b"], "balanced", image_size=(8, 12), cameras=None)
    alone = [FrameCache.build(ds, image_size=(8, 12)) for ds in (a, b)]
    for key in alone[0].arrays:
        assert torch.equal(cache.arrays[key], torch.cat([c.arrays[key] for c in alone])), key
    assert cache.episode_from.tolist() == [0, 10, 20] and cache.episode_source.tolist() == [0, 0, 1]
    import policies.mixing as mixing

    monkeypatch.setattr(mixing, "available_memory_bytes", lambda: 10_000)
    with pytest.raises(mixing.FrameCacheTooLarge, match=r"the frame cache of all the datasets needs \d+ MB \(30 frames x 2 camera"):
        build_cache([a, b], ["a", "b"], "balanced", image_size=(8, 12), cameras=None)


def test_corrections_train_on_the_frames_a_person_drove_only():
    """DAgger: from a corrections dataset only the taken-over frames are sampled (the policy's own frames before
    the take-over are its mistakes); the demonstrations beside it are sampled whole."""
    demos = InMemoryDataset(make_episodes(n_episodes=1, length=12))
    corr = InMemoryDataset(with_intervention(make_episodes(n_episodes=1, length=12)))  # frames 4..7 flagged
    corr.features["intervention"] = {"dtype": "bool", "shape": [1], "names": None}
    cache, shares = build_cache([demos, corr], ["demos", "corrections"], "balanced", image_size=(8, 12), cameras=None)
    assert cache.trainable.tolist() == [True] * 12 + [False] * 4 + [True] * 4 + [False] * 4
    sampler = BatchSampler(cache, {"action": None}, batch_size=8, weights=shares)
    drawn = torch.cat([sampler.next_indices() for _ in range(50)])
    assert set(drawn[drawn >= 12].tolist()) == {16, 17, 18, 19}  # the person's frames of the corrections only
    assert set(drawn[drawn < 12].tolist()) == set(range(12))  # every demonstration frame
    alone = FrameCache.build(corr, image_size=(8, 12))  # a corrections dataset on its own: the same rule
    assert set(BatchSampler(alone, {"action": None}, batch_size=4).next_indices().tolist()) <= {4, 5, 6, 7}
