"""Must show: a dataset with the per-frame "intervention" flag loads in lerobot's LeRobotDataset (v3.0) as
recorded and after edits, lerobot sees the same flags (delta_timestamps and padding included), and our stats of
the flag are those lerobot's own compute_episode_stats gives. Runs lerobot in its own virtual env; skipped when
there is none."""

import shutil

import numpy as np
import pytest

from robotapp.dataset import DatasetReader
from robotapp.dataset.features import INTERVENTION_KEY
from robotapp.dataset.trash import delete_episodes, restore
from robotapp.dataset.trim import trim_episode
from tests.dataset import synth
from tests.dataset.lerobot_env import probe, requires_lerobot

pytestmark = [requires_lerobot, pytest.mark.slow]
KEY = INTERVENTION_KEY
DELTA = {KEY: [-0.1, 0.0, 0.1], "action": [0.0, 0.1]}


@pytest.fixture(scope="module")
def lerobot_view(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lerobot-flag")
    recorded = synth.make_dataset(tmp / "recorded", 3, cams=("front",), h=32, w=48, codec="h264", flag=True)
    edited = tmp / "edited"
    shutil.copytree(recorded, edited)
    delete_episodes(edited, [1])
    trim_episode(edited, 1, start=1, end=1)
    restore(edited)
    roots = {"recorded": recorded, "edited": edited}
    readers = {name: DatasetReader(root) for name, root in roots.items()}
    requests = [{"root": str(root), "indices": list(range(readers[name].num_frames)), "delta": DELTA}
                for name, root in roots.items()]
    r = readers["recorded"]
    requests.append({"feature_stats": {f"ep{ep}": {"dtype": "bool", "values": r.episode_data(ep)[KEY].reshape(
        -1, 1).tolist()} for ep in range(3)}})
    meta, arrays = probe(requests, tmp)
    return roots, readers, meta, arrays


@pytest.mark.parametrize("name", ["recorded", "edited"])
def test_lerobot_sees_the_same_flags(lerobot_view, name):
    roots, readers, meta, arrays = lerobot_view
    k = list(roots).index(name)
    r = readers[name]
    assert (meta[k]["len"], meta[k]["num_episodes"]) == (r.num_frames, r.num_episodes)
    for idx in range(r.num_frames):
        ours = r.get_item(idx, DELTA)
        for col in (KEY, f"{KEY}_is_pad", "action", "index"):
            theirs = arrays[f"{k}/{idx}/{col}"]
            assert theirs.dtype == np.asarray(ours[col]).dtype, col
            np.testing.assert_array_equal(theirs, ours[col], err_msg=f"{name} frame {idx} {col}")
    flags = np.array([bool(arrays[f"{k}/{i}/{KEY}"][1]) for i in range(r.num_frames)])
    assert flags.sum() > 0 and not flags.all()


def test_flag_stats_are_lerobots(lerobot_view):
    roots, readers, meta, arrays = lerobot_view
    k = len(roots)
    r = readers["recorded"]
    for ep in range(3):
        ours = r.episode_stats(ep)[KEY]
        for stat, v in ours.items():
            theirs = arrays[f"{k}/feature_stats/ep{ep}/{stat}"]
            if stat in ("min", "max"):
                assert theirs.dtype == np.bool_ and v.dtype == np.bool_, stat
                np.testing.assert_array_equal(v, theirs, err_msg=stat)
            else:
                np.testing.assert_allclose(v, theirs, rtol=1e-9, atol=1e-12, err_msg=f"episode {ep} {stat}")
