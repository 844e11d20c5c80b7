"""Must show: 3 episodes of synthetic 2-camera data written and read back — actions and states equal, decoded
frames close to what was written (PSNR >= 30 dB), indexes, timestamps, tasks and stats as lerobot has them."""

import numpy as np
import pytest

from robotapp.dataset import DatasetReader, DatasetWriter
from robotapp.dataset.check import check_dataset
from robotapp.dataset.stats import STAT_KEYS
from tests.dataset import synth

CAMS = ("front", "wrist")


@pytest.fixture(scope="module", params=["av1", "h264"])
def dataset(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"rt-{request.param}") / "ds"
    synth.make_dataset(root, 3, cams=CAMS, codec=request.param)
    return root


def test_vectors_equal_and_indexes_contiguous(dataset):
    r = DatasetReader(dataset)
    assert r.num_episodes == 3 and r.fps == 10 and r.robot_type == "koch"
    assert r.num_frames == sum(synth.length(e) for e in range(3))
    start = 0
    for ep in range(3):
        n = synth.length(ep)
        e = r.episodes[ep]
        assert (e.index, e.length, e.dataset_from_index, e.dataset_to_index) == (ep, n, start, start + n)
        assert e.tasks == [synth.task(ep)]
        d = r.episode_data(ep)
        np.testing.assert_array_equal(d["action"], np.stack([synth.action(ep, i) for i in range(n)]))
        np.testing.assert_array_equal(d["observation.state"], np.stack([synth.state(ep, i) for i in range(n)]))
        np.testing.assert_array_equal(d["frame_index"], np.arange(n))
        np.testing.assert_array_equal(d["index"], np.arange(start, start + n))
        np.testing.assert_array_equal(d["episode_index"], np.full(n, ep))
        np.testing.assert_allclose(d["timestamp"], np.arange(n) / 10, atol=1e-6)
        assert [r.tasks[t] for t in d["task_index"]] == [synth.task(ep)] * n
        start += n


def test_decoded_frames_close_to_written(dataset):
    r = DatasetReader(dataset)
    worst = 99.0
    for ep in range(3):
        for cam in CAMS:
            frames = r.decode_episode_video(ep, f"observation.images.{cam}")
            assert frames.shape == (synth.length(ep), 64, 80, 3) and frames.dtype == np.uint8
            for i, f in enumerate(frames):
                worst = min(worst, synth.psnr(f, synth.image(ep, i, cam)))
    assert worst >= 30.0, f"worst frame PSNR {worst:.1f} dB"


def test_random_access_matches_sequential_decode(dataset):
    r = DatasetReader(dataset)
    seq = {ep: r.decode_episode_video(ep, "observation.images.front") for ep in range(3)}
    rng = np.random.default_rng(0)
    for index in rng.permutation(r.num_frames)[:25]:
        f = r.frame(int(index))
        ep, i = int(f["episode_index"]), int(f["frame_index"])
        np.testing.assert_array_equal(f["observation.images.front"], seq[ep][i])
        np.testing.assert_array_equal(f["action"], synth.action(ep, i))
        assert f["task"] == synth.task(ep)


def test_resized_decode(dataset):
    frames = DatasetReader(dataset).decode_episode_video(1, "observation.images.wrist", size=(32, 40))
    assert frames.shape == (synth.length(1), 32, 40, 3)


def test_get_item_delta_timestamps_pad_like_lerobot(dataset):
    r = DatasetReader(dataset)
    first = r.episodes[1].dataset_from_index
    item = r.get_item(first + 1, {"action": [-0.2, -0.1, 0.0, 0.1], "observation.images.front": [-0.1, 0.0]})
    np.testing.assert_array_equal(item["action_is_pad"], [True, False, False, False])
    np.testing.assert_array_equal(item["action"][:, 0], [synth.action(1, i)[0] for i in (0, 0, 1, 2)])
    assert item["observation.images.front"].shape == (2, 64, 80, 3)
    np.testing.assert_array_equal(item["observation.images.front_is_pad"], [False, False])
    last = r.episodes[1].dataset_to_index - 1
    item = r.get_item(last, {"observation.state": [0.0, 0.1, 0.2]})
    np.testing.assert_array_equal(item["observation.state_is_pad"], [False, True, True])
    with pytest.raises(ValueError, match="not a multiple of 1/10"):
        r.get_item(0, {"action": [0.05]})
    with pytest.raises(ValueError, match="unknown feature 'nope'"):
        r.get_item(0, {"nope": [0.0]})


def test_stats_per_episode_and_dataset(dataset):
    r = DatasetReader(dataset)
    for key, ft in r.features.items():
        s = r.stats[key]
        assert set(STAT_KEYS) <= set(s)
        want = (3, 1, 1) if ft["dtype"] == "video" else tuple(ft["shape"])
        assert s["mean"].shape == want and s["q99"].shape == want
    acts = np.concatenate([r.episode_data(e)["action"] for e in range(3)])
    np.testing.assert_allclose(r.stats["action"]["mean"], acts.mean(0), rtol=1e-6)
    np.testing.assert_allclose(r.stats["action"]["std"], acts.std(0), rtol=1e-5)
    assert int(r.stats["action"]["count"][0]) == r.num_frames
    img = r.stats["observation.images.front"]
    assert img["min"].min() >= 0.0 and img["max"].max() <= 1.0
    frames = np.concatenate([r.decode_episode_video(e, "observation.images.front") for e in range(3)])
    np.testing.assert_allclose(img["mean"].ravel(), frames.reshape(-1, 3).mean(0) / 255, atol=0.01)
    assert int(r.episode_stats(2)["index"]["min"][0]) == r.episodes[2].dataset_from_index


def test_clean_and_extras(dataset):
    assert check_dataset(dataset) == []
    r = DatasetReader(dataset)
    for ep in range(3):
        ex = r.extra(ep)
        assert ex["dropped_frames"] == {f"observation.images.{c}": 0 for c in CAMS}
        assert ex["uuid"] and ex["recorded_at"]


def test_extra_metadata_from_the_recorder(tmp_path):
    w = DatasetWriter.create(tmp_path / "ds", fps=10, features=synth.features(("front",)), robot_type="koch")
    r0 = synth.record(w, 0, 5, ("front",), extra={"loop_hz": 29.9})
    w.write_episode_extra(0, {"tick_ms_p99": 1.5})  # queued behind the save: applied once it is durable
    assert r0.wait(30)
    synth.record(w, 1, 5, ("front",))
    w.write_episode_extra(1, {"camera_drops": {"front": 0}})
    assert w.wait_durable(30)
    w.close()
    r = DatasetReader(tmp_path / "ds")
    assert r.extra(0)["loop_hz"] == 29.9 and r.extra(0)["tick_ms_p99"] == 1.5
    assert r.extra(1)["camera_drops"] == {"front": 0}
