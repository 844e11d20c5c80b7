"""The frame's keys (policies.frame_keys, torch-free) and the FrameSource protocol the trainer reads datasets
through: the in-memory dataset and robotapp's DatasetReader both implement it."""

import subprocess
import sys

import pytest

from policies.data import FrameCache
from policies.frame_keys import ACTION_KEY, STATE_KEY, camera_name, image_key, is_image_key, pad_key
from policies.frame_source import FrameSource
from tests.policies.helpers import make_dataset, make_episodes, write_dataset


def test_keys_round_trip():
    assert image_key("front") == "observation.images.front" and camera_name(image_key("front")) == "front"
    assert is_image_key(image_key("wrist")) and not is_image_key(STATE_KEY) and not is_image_key(ACTION_KEY)
    assert pad_key(ACTION_KEY) == "action_is_pad"
    with pytest.raises(ValueError, match="not a camera key"):
        camera_name(STATE_KEY)


def test_frame_keys_load_without_torch():
    code = "import sys, policies.frame_keys, policies.frame_source; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_both_readers_are_frame_sources(tmp_path):
    from robotapp.dataset import DatasetReader

    memory = make_dataset(n_episodes=2, length=8)
    write_dataset(tmp_path / "ds", make_episodes(2, length=8, cams=("front",)))
    with DatasetReader(tmp_path / "ds") as disk:
        for source in (memory, disk):
            assert isinstance(source, FrameSource)
            cache = FrameCache.build(source, image_size=(12, 16), cameras=["front"])
            assert cache.num_frames == 16 and cache.episode_ids == [0, 1]
