"""Push and pull through huggingface_hub's HfApi calls, against a local stand-in (the Hub is unreachable here)."""

import shutil

import numpy as np
import pytest

from robotapp.dataset import DatasetError, DatasetReader
from robotapp.dataset.check import check_dataset
from robotapp.dataset.hub import pull, push
from robotapp.dataset.trash import delete_episodes
from tests.dataset import synth
from tests.dataset.fake_hub import FakeHubApi


@pytest.fixture
def ds(tmp_path):
    root = synth.make_dataset(tmp_path / "ds", 3)
    delete_episodes(root, [2])  # leaves a trash entry in .robotapp/, which must not be uploaded
    return root


def test_push_then_pull(ds, tmp_path):
    hub = FakeHubApi(tmp_path / "hub")
    url = push(ds, "me/koch-pick", private=True, api=hub)
    assert url == "https://huggingface.co/datasets/me/koch-pick"
    files = hub.files("me/koch-pick")
    assert "meta/info.json" in files and "README.md" in files
    assert "videos/observation.images.front/chunk-000/file-000.mp4" in files
    assert not [f for f in files if f.startswith(".robotapp")]
    card = (tmp_path / "hub/me/koch-pick/main/README.md").read_text()
    for text in ("**Robot type:** koch", "**FPS:** 10", "**Episodes:** 2", "`observation.images.wrist`",
                 "shoulder_pan.pos", "- LeRobot", "data_files: data/*/*.parquet", "pick the cube"):
        assert text in card, text
    assert (tmp_path / "hub/me/koch-pick/tag-v3.0/meta/info.json").is_file()
    assert hub.private["me/koch-pick"] is True

    push(ds, "me/koch-pick", api=hub)  # again: the v3.0 tag moves to the new state
    meta = pull("me/koch-pick", tmp_path / "pulled", api=hub)
    assert len(meta.episodes) == 2
    assert check_dataset(tmp_path / "pulled") == []
    a, b = DatasetReader(ds), DatasetReader(tmp_path / "pulled")
    np.testing.assert_array_equal(a.episode_data(1)["action"], b.episode_data(1)["action"])
    np.testing.assert_array_equal(a.decode_episode_video(1, "observation.images.front"),
                                  b.decode_episode_video(1, "observation.images.front"))
    assert b.extra(0)["uuid"] == a.extra(0)["uuid"]  # our metadata travels with the dataset
    pull("me/koch-pick", tmp_path / "pulled", revision="v3.0", api=hub)  # re-pull into an earlier pull


def test_push_refuses_a_corrupt_dataset(ds, tmp_path):
    (ds / "meta/stats.json").unlink()
    hub = FakeHubApi(tmp_path / "hub")
    with pytest.raises(DatasetError, match="not pushing .*stats-missing"):
        push(ds, "me/x", api=hub)
    assert hub.calls == []
    push(ds, "me/x", api=hub, force=True)
    assert "upload_folder" in hub.calls


def test_pull_errors(tmp_path):
    hub = FakeHubApi(tmp_path / "hub")
    with pytest.raises(DatasetError, match="cannot download me/none"):
        pull("me/none", tmp_path / "out", api=hub)
    hub.create_repo("me/empty", repo_type="dataset")
    with pytest.raises(DatasetError, match="not a LeRobot dataset"):
        pull("me/empty", tmp_path / "out2", api=hub)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty"):
        pull("me/empty", tmp_path / "busy", api=hub)
    shutil.rmtree(tmp_path / "busy")
