"""Must show: datasets written here load in lerobot's LeRobotDataset (v3.0) unchanged, videos included — as
recorded (AV1 and h264), after edits (delete, trim, restore), merged — and lerobot sees the same values and
frames as our reader. Our stats are checked against lerobot's own get_feature_stats. Runs lerobot in its own
virtual env; skipped when there is none."""

import shutil

import numpy as np
import pytest

from robotapp.dataset import DatasetReader
from robotapp.dataset.merge import merge_datasets
from robotapp.dataset.stats import vector_stats
from robotapp.dataset.trash import delete_episodes, restore
from robotapp.dataset.trim import trim_episode
from tests.dataset import synth
from tests.dataset.lerobot_env import probe, requires_lerobot

pytestmark = [requires_lerobot, pytest.mark.slow]
DELTA = {"action": [-0.1, 0.0, 0.1], "observation.images.front": [-0.1, 0.0]}


@pytest.fixture(scope="module")
def lerobot_view(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lerobot")
    av1 = synth.make_dataset(tmp / "av1", 3)
    h264 = synth.make_dataset(tmp / "h264", 2, codec="h264")
    edited = tmp / "edited"
    shutil.copytree(av1, edited)
    delete_episodes(edited, [0])
    trim_episode(edited, 0, start=2, end=1)
    restore(edited)
    merged = tmp / "merged"
    merge_datasets([av1, edited], merged)
    roots = {"av1": av1, "h264": h264, "edited": edited, "merged": merged}
    requests, readers = [], {}
    for name, root in roots.items():
        r = readers[name] = DatasetReader(root)
        idx = sorted({0, 1, r.episodes[-1].dataset_from_index, r.num_frames - 1,
                      r.episodes[min(1, r.num_episodes - 1)].dataset_to_index - 1})
        requests.append({"root": str(root), "indices": idx, "delta": DELTA})
    acts = readers["av1"].episode_data(1)["action"]
    requests.append({"stats": {"action": acts.tolist(), "timestamp": readers["av1"].episode_data(1)[
        "timestamp"].reshape(-1, 1).tolist()}})
    meta, arrays = probe(requests, tmp)
    return roots, readers, requests, meta, arrays


@pytest.mark.parametrize("name", ["av1", "h264", "edited", "merged"])
def test_lerobot_loads_and_agrees(lerobot_view, name):
    roots, readers, requests, meta, arrays = lerobot_view
    k = list(roots).index(name)
    r, m = readers[name], meta[k]
    assert (m["len"], m["num_episodes"], m["fps"]) == (r.num_frames, r.num_episodes, r.fps)
    assert m["tasks"] == r.tasks
    for idx in requests[k]["indices"]:
        ours = r.get_item(idx, DELTA)
        theirs = {key.split("/", 2)[2]: v for key, v in arrays.items() if key.startswith(f"{k}/{idx}/")}
        for col in ("action", "observation.state", "timestamp", "frame_index", "episode_index", "index",
                    "task_index", "action_is_pad", "observation.images.front_is_pad"):
            np.testing.assert_allclose(np.asarray(theirs[col]).astype(np.float64),
                                       np.asarray(ours[col]).astype(np.float64), atol=1e-6, err_msg=col)
        assert m["items"][str(idx)]["task"] == ours["task"]
        for cam in ("observation.images.front", "observation.images.wrist"):
            a, b = theirs[cam].astype(np.int16), np.asarray(ours[cam]).astype(np.int16)
            assert a.shape == b.shape, cam
            assert np.abs(a - b).max() <= 2, f"{name} frame {idx} {cam}: lerobot decodes other pixels"


def test_stats_match_lerobots(lerobot_view):
    roots, readers, requests, meta, arrays = lerobot_view
    k = len(roots)
    acts = np.asarray(requests[k]["stats"]["action"], dtype=np.float32)
    ours = vector_stats(acts)
    bin_width = (acts.max(0) - acts.min(0)) / 5000  # quantiles come from a 5000-bin histogram in both
    for stat in ("min", "max", "mean", "count"):
        np.testing.assert_allclose(ours[stat], arrays[f"{k}/stats/action/{stat}"], rtol=1e-6, err_msg=stat)
    for stat in ("q01", "q10", "q50", "q90", "q99"):
        assert np.all(np.abs(ours[stat] - arrays[f"{k}/stats/action/{stat}"]) <= bin_width * 1.01), stat
    # lerobot takes std as sqrt(mean(x^2) - mean^2) in float32, which loses digits for values near 1000;
    # ours is float64 (exact here: the std of 17 consecutive integers is sqrt(24))
    np.testing.assert_allclose(ours["std"], arrays[f"{k}/stats/action/std"], rtol=2e-2)
    np.testing.assert_allclose(ours["std"], acts.astype(np.float64).std(0), rtol=1e-9)
    ts = readers["av1"].episode_stats(1)["timestamp"]
    for stat in ("min", "max", "mean", "q10", "q50", "q90"):  # float32 bin edges in lerobot: one bin apart
        np.testing.assert_allclose(ts[stat], arrays[f"{k}/stats/timestamp/{stat}"], atol=ts["max"][0] / 4000,
                                   err_msg=stat)
