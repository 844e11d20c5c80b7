"""Edits leave indexes, stats, episode metadata and video windows consistent (`check` is clean after each) and
keep every frame's content: delete to trash, restore, purge, trim, merge (with its compatibility checks)."""

import shutil

import numpy as np
import pytest

from robotapp.dataset import DatasetError, DatasetReader, DatasetWriter
from robotapp.dataset.check import check_dataset
from robotapp.dataset.merge import merge_datasets
from robotapp.dataset.trash import delete_episodes, list_trash, purge, restore
from robotapp.dataset.trim import trim_episode
from tests.dataset import synth


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return synth.make_dataset(tmp_path_factory.mktemp("edits") / "base", 4)


@pytest.fixture
def ds(base, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(base, root)
    return root


def content(r: DatasetReader, ep: int) -> tuple[np.ndarray, np.ndarray]:
    return r.episode_data(ep)["action"].copy(), r.decode_episode_video(ep, "observation.images.front")


def assert_consistent(root) -> DatasetReader:
    assert check_dataset(root) == []
    r = DatasetReader(root)
    acts = np.concatenate([r.episode_data(e)["action"] for e in range(r.num_episodes)])
    np.testing.assert_allclose(r.stats["action"]["mean"], acts.mean(0), rtol=1e-6)
    assert int(r.stats["index"]["count"][0]) == r.num_frames
    assert [int(r.episode_stats(e)["episode_index"]["min"][0]) for e in range(r.num_episodes)] == \
        list(range(r.num_episodes))
    return r


def test_delete_restore_purge(ds):
    before = DatasetReader(ds)
    orig = {e: content(before, e) for e in range(4)}
    ids = delete_episodes(ds, [1, 3])
    r = assert_consistent(ds)
    assert r.num_episodes == 2
    for new, old in enumerate([0, 2]):
        a, v = content(r, new)
        np.testing.assert_array_equal(a, orig[old][0])
        np.testing.assert_array_equal(v, orig[old][1])
    trash = list_trash(ds)
    assert sorted(t.original_index for t in trash) == [1, 3] and sorted(t.id for t in trash) == sorted(ids)
    assert restore(ds, [ids[1]]) == [2]  # episode 3 comes back at the end
    r = assert_consistent(ds)
    a, v = content(r, 2)
    np.testing.assert_array_equal(a, orig[3][0])
    np.testing.assert_array_equal(v, orig[3][1])
    assert r.extra(2)["uuid"] == before.extra(3)["uuid"]
    assert purge(ds) == 1 and list_trash(ds) == []
    assert_consistent(ds)
    with pytest.raises(DatasetError, match="episode 7 does not exist"):
        delete_episodes(ds, [7])
    with pytest.raises(DatasetError, match="trash .* is empty"):
        restore(ds)


def test_delete_everything_then_restore(ds):
    delete_episodes(ds, [0, 1, 2, 3])
    r = DatasetReader(ds)
    assert r.num_episodes == 0 and r.num_frames == 0
    restore(ds)
    r = assert_consistent(ds)
    assert r.num_episodes == 4


def test_trim(ds):
    before = DatasetReader(ds)
    a0, v0 = content(before, 1)
    later = content(before, 2)
    n = trim_episode(ds, 1, start=3, end=2)
    assert n == len(a0) - 5
    r = assert_consistent(ds)
    a1, v1 = content(r, 1)
    np.testing.assert_array_equal(a1, a0[3:-2])
    np.testing.assert_array_equal(v1, v0[3:-2])
    np.testing.assert_array_equal(r.episode_data(1)["frame_index"], np.arange(n))
    assert int(r.episode_stats(1)["observation.images.front"]["count"][0]) == n
    np.testing.assert_array_equal(content(r, 2)[0], later[0])
    assert r.extra(1)["edits"][0]["trim"] == [3, 2]
    assert r.get_item(r.episodes[1].dataset_from_index, {"action": [-0.1]})["action_is_pad"].tolist() == [True]
    with pytest.raises(DatasetError, match="at least 2 must stay"):
        trim_episode(ds, 0, start=synth.length(0))
    delete_episodes(ds, [0])  # edits compose: the trimmed episode moves to index 0
    r = assert_consistent(ds)
    np.testing.assert_array_equal(content(r, 0)[1], v0[3:-2])


def test_merge_and_its_checks(base, tmp_path):
    other = tmp_path / "other"
    w = DatasetWriter.create(other, fps=10, features=synth.features(), robot_type="koch")
    for ep in (10, 11):
        for i in range(6):
            w.add_frame(synth.observation(ep, i), synth.action(ep, i), "stack the blocks")
        w.save_episode()
    w.close()
    merged = merge_datasets([base, other], tmp_path / "merged")
    assert len(merged.episodes) == 6
    r = assert_consistent(tmp_path / "merged")
    assert r.tasks == ["pick the cube", "place the cube", "stack the blocks"]
    np.testing.assert_array_equal(r.episode_data(4)["action"][2], synth.action(10, 2))
    assert r.get_item(r.episodes[5].dataset_from_index)["task"] == "stack the blocks"
    assert r.extra(5)["merged_from"]["episode_index"] == 1
    b = DatasetReader(base)
    np.testing.assert_array_equal(r.decode_episode_video(3, "observation.images.wrist"),
                                  b.decode_episode_video(3, "observation.images.wrist"))

    slow = synth.make_dataset(tmp_path / "slow", 1, fps=15)
    with pytest.raises(DatasetError, match="15 fps"):
        merge_datasets([base, slow], tmp_path / "m2")
    so = synth.make_dataset(tmp_path / "so", 1, robot_type="so100")
    with pytest.raises(DatasetError, match="robot type 'so100'"):
        merge_datasets([base, so], tmp_path / "m3")
    one_cam = synth.make_dataset(tmp_path / "onecam", 1, cams=("front",))
    with pytest.raises(DatasetError, match="observation.images.wrist"):
        merge_datasets([base, one_cam], tmp_path / "m4")
    with pytest.raises(DatasetError, match="not empty"):
        merge_datasets([base], tmp_path / "merged")
    assert not (tmp_path / "m2").exists() and not list(tmp_path.glob(".m*merging*"))
