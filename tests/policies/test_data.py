"""Data pipeline: the frame cache, delta indices with padding masks, sampling, DDP split, augmentation,
memory refusal - and the same through robotapp.dataset on disk."""

import numpy as np
import pytest
import torch

from policies.data import BatchSampler, FrameCache, FrameCacheTooLarge, InMemoryDataset, random_shift
from policies.images import resize_uint8, to_chw
from tests.policies.helpers import make_episodes, write_dataset


def _marked_dataset(lengths=(7, 5, 9)):
    """state[:, 0] = episode, state[:, 1] = frame index; action = 100 * episode + frame."""
    eps = []
    for e, n in enumerate(lengths):
        f = np.arange(n, dtype=np.float32)
        state = np.stack([np.full(n, e, np.float32), f, *(np.zeros(n, np.float32),) * 4], 1)
        action = np.repeat((100 * e + f)[:, None], 6, 1)
        img = np.zeros((n, 8, 8, 3), np.uint8)
        img[:, 0, 0, 0] = 10 * e + f  # pixel marker
        eps.append({"observation.state": state, "action": action, "observation.images.front": img})
    return InMemoryDataset(eps)


def test_cache_holds_every_frame_resized_with_the_inference_resize():
    eps = make_episodes(n_episodes=2, length=6, hw=(24, 32))
    cache = FrameCache.build(InMemoryDataset(eps), image_size=(12, 16))
    assert cache.arrays["observation.images.front"].shape == (12, 3, 12, 16)
    assert cache.arrays["observation.images.front"].dtype == torch.uint8
    want = to_chw(resize_uint8(eps[1]["observation.images.wrist"], (12, 16)))
    assert np.array_equal(cache.arrays["observation.images.wrist"][6:].numpy(), want)
    assert list(cache.episode_from) == [0, 6] and list(cache.episode_to) == [6, 12]
    assert set(cache.stats) == {"action", "observation.state", "observation.images.front", "observation.images.wrist"}
    assert cache.stats["observation.images.front"]["mean"].shape == (3, 1, 1)


def test_action_chunks_are_padded_at_episode_ends():
    cache = FrameCache.build(_marked_dataset())
    s = BatchSampler(cache, {"action": list(range(4)), "observation.state": None}, 3)
    b = s.gather(torch.tensor([5, 7, 20]))  # ep0 frame 5 (of 7), ep1 frame 0, ep2 frame 8 (last)
    assert b["action"][:, :, 0].tolist() == [[5, 6, 6, 6], [100, 101, 102, 103], [208, 208, 208, 208]]
    assert b["action_is_pad"].tolist() == [[False, False, True, True], [False] * 4, [False, True, True, True]]
    assert b["observation.state"][:, 0].tolist() == [0, 1, 2] and "observation.state_is_pad" not in b


def test_observation_history_is_padded_at_episode_starts():
    cache = FrameCache.build(_marked_dataset())
    deltas = {"observation.state": [-1, 0], "observation.images.front": [-1, 0], "action": list(range(-1, 3))}
    b = BatchSampler(cache, deltas, 2).gather(torch.tensor([7, 8]))  # ep1 frames 0 and 1
    assert b["observation.state"][:, :, 1].tolist() == [[0, 0], [0, 1]]
    assert b["observation.state_is_pad"].tolist() == [[True, False], [False, False]]
    assert b["observation.images.front"][:, :, 0, 0, 0].tolist() == [[10, 10], [10, 11]]
    assert b["action_is_pad"][0].tolist() == [True, False, False, False]


def test_sampling_covers_every_frame_once_per_epoch_and_drops_the_last_frames():
    cache = FrameCache.build(_marked_dataset())
    s = BatchSampler(cache, {"action": [0]}, 4, drop_n_last_frames=2, seed=3)
    seen = torch.cat([s.next_indices() for _ in range(4)])[:15]  # 21 frames - 3 episodes * 2 dropped
    assert sorted(seen.tolist()) == [0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18]


def test_ranks_split_each_epoch_without_overlap():
    cache = FrameCache.build(_marked_dataset())
    r0 = BatchSampler(cache, {"action": [0]}, 5, seed=1, rank=0, world_size=2)
    r1 = BatchSampler(cache, {"action": [0]}, 5, seed=1, rank=1, world_size=2)
    a, b = r0.next_indices()[:5].tolist(), r1.next_indices()[:5].tolist()
    assert not set(a) & set(b)
    a += r0.next_indices()[:5].tolist()
    b += r1.next_indices()[:5].tolist()
    assert len(set(a + b)) == 20  # 21 frames: rank 0 gets 11 per epoch, rank 1 gets 10


def test_sampler_state_resumes_the_same_stream():
    cache = FrameCache.build(_marked_dataset())
    a = BatchSampler(cache, {"action": [0], "observation.images.front": None}, 6, seed=2, augment_shift=1)
    for _ in range(5):
        a.next_batch()
    state = {k: v.clone() for k, v in a.state_dict().items()}
    want = [a.next_batch() for _ in range(3)]
    b = BatchSampler(cache, {"action": [0], "observation.images.front": None}, 6, seed=2, augment_shift=1)
    b.load_state_dict(state)
    for w in want:
        g = b.next_batch()
        assert all(torch.equal(g[k], w[k]) for k in w)


def test_random_shift_moves_images_and_keeps_edges():
    img = torch.zeros(64, 2, 3, 10, 10, dtype=torch.uint8)
    img[:, :, :, 4, 4] = 255
    out = random_shift(img, 2, torch.Generator().manual_seed(0))
    assert out.shape == img.shape and out.dtype == torch.uint8
    pos = [tuple(torch.nonzero(o[0, 0] == 255)[0].tolist()) for o in out]
    assert len(set(pos)) > 5 and all(2 <= y <= 6 and 2 <= x <= 6 for y, x in pos)
    assert all(torch.equal(o[0], o[1]) for o in out)  # same shift for a sample's time steps
    assert torch.equal(random_shift(img, 0), img)


def test_a_cache_that_will_not_fit_is_refused_with_the_numbers():
    ds = InMemoryDataset(make_episodes(n_episodes=2, length=10, hw=(240, 320)))
    with pytest.raises(FrameCacheTooLarge) as e:
        FrameCache.build(ds, memory_budget=1_000_000)
    msg = str(e.value)
    assert "frame cache needs 9 MB" in msg and "20 frames x 2 camera(s) at 240x320/240x320" in msg
    assert "--image-size" in msg and "\n" not in msg
    assert FrameCache.build(ds, image_size=(12, 16), memory_budget=1_000_000).nbytes < 1_000_000


def test_unknown_camera_or_episode():
    ds = InMemoryDataset(make_episodes(n_episodes=1, length=4))
    with pytest.raises(ValueError, match="no camera top"):
        FrameCache.build(ds, cameras=["top"])
    with pytest.raises(ValueError, match=r"lacks episode\(s\) \[3\]"):
        FrameCache.build(ds, episodes=[0, 3])


def test_a_recorded_dataset_reads_through_dataset_reader(tmp_path):
    from robotapp.dataset import DatasetReader

    eps = make_episodes(n_episodes=2, length=12, hw=(24, 32))
    reader = DatasetReader(write_dataset(tmp_path / "ds", eps))
    cache = FrameCache.build(reader, image_size=(12, 16), cameras=["front"])
    assert set(cache.arrays) == {"action", "observation.state", "observation.images.front"}
    assert cache.num_frames == 24 and list(cache.episode_to) == [12, 24]
    np.testing.assert_allclose(cache.arrays["action"][12:].numpy(), eps[1]["action"], rtol=1e-6)
    decoded = cache.arrays["observation.images.front"][:12].float()
    want = torch.from_numpy(to_chw(resize_uint8(eps[0]["observation.images.front"], (12, 16)))).float()
    assert (decoded - want).abs().mean() < 8  # lossy video, same pixels
    np.testing.assert_allclose(cache.stats["observation.state"]["mean"], reader.stats["observation.state"]["mean"])
