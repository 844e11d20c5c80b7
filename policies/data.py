"""Dataset -> training batches, fast on a CPU.

Every episode's video is decoded once (through a FrameSource, policies.frame_source: the app's DatasetReader,
which owns the file format) and resized with the same function `select_action` uses, into one in-memory uint8 tensor per camera at
training resolution. Batches are then pure tensor indexing: no per-sample decoding, no worker processes.

`FrameCache.build(source, ...)` makes the cache (with a memory estimate and a clear refusal when it will not
fit); `BatchSampler(cache, delta_indices, batch_size, ...)` yields batches with frame offsets per feature
(action chunks, observation history), pad_key(<key>) masks where offsets leave the episode, optional random
shift augmentation, and a per-rank split for DDP. `InMemoryDataset` is a FrameSource over arrays (tests,
benchmarks).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from .frame_keys import ACTION_KEY, INTERVENTION, STATE_KEY, camera_name, image_key, is_image_key, pad_key
from .frame_source import FrameSource
from .images import resize_uint8, to_chw
from .normalize import stats_from_arrays


class FrameCacheTooLarge(RuntimeError):
    """The decoded frames would not fit in memory."""


def camera_keys(features: Mapping[str, Mapping]) -> list[str]:
    return [k for k, f in features.items() if is_image_key(k) and f.get("dtype") in ("video", "image")]


def available_memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def estimate_cache_bytes(n_frames: int, image_shapes: Sequence[tuple[int, int]], vector_dims: int = 12) -> int:
    """Bytes the cache holds: uint8 3xhxw per frame per camera + float32 vectors."""
    return int(n_frames * (sum(3 * h * w for h, w in image_shapes) + 4 * vector_dims))


@dataclass
class FrameCache:
    """All frames of the chosen episodes, concatenated. arrays: ACTION_KEY/STATE_KEY float32 [N, D],
    camera keys uint8 [N, 3, h, w]. Episode e spans [episode_from[e], episode_to[e]). A cache over several
    datasets (policies.mixing) says which one each episode came from: episode_source[e] indexes source_names."""

    arrays: dict[str, Tensor]
    episode_from: np.ndarray
    episode_to: np.ndarray
    episode_ids: list[int]
    fps: float
    features: dict
    stats: dict[str, dict[str, np.ndarray]]
    episode_source: np.ndarray | None = None
    source_names: list[str] = field(default_factory=list)
    # frames to train on (None: all): a dataset with an `intervention` flag (an evaluation's corrections) trains on
    # the frames a person drove, not on the policy's own before the take-over
    trainable: np.ndarray | None = None

    @property
    def num_sources(self) -> int:
        return 1 if self.episode_source is None or not len(self.episode_source) else int(self.episode_source.max()) + 1

    @property
    def num_frames(self) -> int:
        return int(self.episode_to[-1]) if len(self.episode_to) else 0

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.arrays.values())

    @classmethod
    def build(cls, reader: FrameSource, image_size: tuple[int, int] | None = None, cameras: Sequence[str] | None = None,
              episodes: Sequence[int] | None = None, progress: Callable[[int, int], None] | None = None,
              memory_budget: int | None = None, processes_per_machine: int = 1,
              into: Mapping[str, Tensor] | None = None) -> FrameCache:
        """Decode `episodes` (default all) of `reader` into memory. `cameras` are short names ("front") or full
        keys (default all). Refuses with FrameCacheTooLarge when the estimate exceeds `memory_budget` (default:
        80% of available memory, shared by `processes_per_machine` copies). `into`: uint8 [N, 3, h, w] tensors to
        decode the cameras into (slices of a cache over several datasets, policies.mixing)."""
        all_cams = camera_keys(reader.features)
        if cameras is None:
            cam_keys = all_cams
        else:
            cam_keys = [c if is_image_key(c) else image_key(c) for c in cameras]
            missing = [k for k in cam_keys if k not in all_cams]
            if missing:
                raise ValueError(f"dataset has no camera {', '.join(camera_name(k) for k in missing)}"
                                 f" (it has {', '.join(camera_name(k) for k in all_cams) or 'none'})")
        records = list(reader.episodes)
        if episodes is not None:
            wanted = {int(e) for e in episodes}
            records = [r for r in records if int(r.index) in wanted]
            if len(records) != len(wanted):
                raise ValueError(f"dataset lacks episode(s) {sorted(wanted - {int(r.index) for r in records})}")
        if not records:
            raise ValueError("dataset has no episodes to train on")
        lengths = np.array([int(r.length) for r in records], dtype=np.int64)
        n = int(lengths.sum())
        shapes = []
        for k in cam_keys:
            h, w = reader.features[k]["shape"][:2]
            shapes.append(tuple(image_size) if image_size is not None else (int(h), int(w)))
        vec = sum(int(np.prod(reader.features[k]["shape"])) for k in (ACTION_KEY, STATE_KEY) if k in reader.features)
        need = estimate_cache_bytes(n, shapes, vec) * processes_per_machine
        budget = memory_budget
        if budget is None:
            avail = available_memory_bytes()
            budget = int(0.8 * avail) if avail is not None else None
        if budget is not None and need > budget:
            small = estimate_cache_bytes(n, [(96, 128)] * len(shapes), vec) * processes_per_machine
            where = f" x {processes_per_machine} processes" if processes_per_machine > 1 else ""
            raise FrameCacheTooLarge(
                f"frame cache needs {_gb(need)} ({len(records)} episodes, {n} frames x {len(shapes)} camera(s) at "
                f"{'/'.join(f'{h}x{w}' for h, w in shapes)}{where}) but only {_gb(budget)} is available: "
                f"train at a lower --image-size (96x128 needs {_gb(small)}), or on fewer --cameras/--episodes")

        arrays: dict[str, Tensor] = {}
        for k in cam_keys:
            h, w = shapes[cam_keys.index(k)]
            arrays[k] = torch.empty((n, 3, h, w), dtype=torch.uint8) if into is None else into[k]
            if tuple(arrays[k].shape) != (n, 3, h, w):
                raise ValueError(f"{k}: {tuple(arrays[k].shape)} given to decode {(n, 3, h, w)} into")
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        vectors: dict[str, list[np.ndarray]] = {ACTION_KEY: [], STATE_KEY: []}
        flagged = INTERVENTION in reader.features
        trainable: list[np.ndarray] = []
        for i, rec in enumerate(records):
            ep, length = int(rec.index), int(lengths[i])
            data = reader.episode_data(ep)
            if flagged:
                trainable.append(np.asarray(data[INTERVENTION], dtype=bool).reshape(-1)[:length])
            for key in vectors:
                if key in data:
                    v = np.asarray(data[key], dtype=np.float32).reshape(len(data[key]), -1)
                    if len(v) != length:
                        raise ValueError(f"episode {ep}: {key} has {len(v)} rows, the episode has {length} frames")
                    vectors[key].append(v)

        def decode(i: int, k: str, hw: tuple[int, int]) -> None:
            ep, length, s = int(records[i].index), int(lengths[i]), int(starts[i])
            frames = reader.decode_episode_video(ep, k)
            if len(frames) < length:
                raise ValueError(f"episode {ep} camera {camera_name(k)}: video has {len(frames)} "
                                 f"frames, the data has {length}")
            arrays[k][s:s + length] = torch.from_numpy(to_chw(resize_uint8(frames[:length], hw)))

        # decoding and resizing release the GIL: a few threads keep the cores busy
        with ThreadPoolExecutor(max_workers=max(1, min(4, _cores() // processes_per_machine))) as pool:
            jobs = [[pool.submit(decode, i, k, hw) for k, hw in zip(cam_keys, shapes, strict=True)]
                    for i in range(len(records))]
            try:
                for i, episode_jobs in enumerate(jobs):
                    for job in episode_jobs:
                        job.result()
                    if progress is not None:
                        progress(i + 1, len(records))
            except BaseException:
                for job in (j for episode_jobs in jobs for j in episode_jobs):
                    job.cancel()
                raise
        for key, parts in vectors.items():
            if parts:
                arrays[key] = torch.from_numpy(np.concatenate(parts))
        if ACTION_KEY not in arrays:
            raise ValueError(f"dataset has no {ACTION_KEY!r} feature")
        stats = _feature_stats(reader, arrays, cam_keys)
        return cls(arrays=arrays, episode_from=starts, episode_to=starts + lengths,
                   episode_ids=[int(r.index) for r in records], fps=float(reader.fps),
                   features={k: dict(reader.features[k]) for k in [*cam_keys, STATE_KEY, ACTION_KEY]
                             if k in reader.features},
                   stats=stats, trainable=np.concatenate(trainable) if flagged and trainable else None)


def _feature_stats(reader: FrameSource, arrays: Mapping[str, Tensor], cam_keys: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """The dataset's stats (meta/stats.json) where present; computed from the cache otherwise."""
    src = reader.stats or {}
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, arr in arrays.items():
        have = src.get(key, {})
        if all(s in have for s in ("mean", "std", "min", "max")):
            out[key] = {s: np.asarray(have[s], dtype=np.float64) for s in ("mean", "std", "min", "max")}
        elif key in cam_keys:
            sample = arr[:: max(1, len(arr) // 256)].float().div_(255.0)
            out[key] = {"mean": sample.mean((0, 2, 3)).numpy().reshape(3, 1, 1),
                        "std": sample.std((0, 2, 3)).numpy().reshape(3, 1, 1),
                        "min": sample.amin((0, 2, 3)).numpy().reshape(3, 1, 1),
                        "max": sample.amax((0, 2, 3)).numpy().reshape(3, 1, 1)}
        else:
            out.update(stats_from_arrays({key: arr.numpy()}))
    return out


class BatchSampler:
    """Random batches from a FrameCache. Each "epoch" is a permutation of the sampleable frames (the last
    `drop_n_last_frames` of every episode excluded); under DDP every rank draws the same permutation and takes
    its own stride of it, so ranks never share samples within an epoch.

    A cache over several datasets (policies.mixing) has one such stream per dataset, and `weights` (default:
    equal) gives each dataset its share of every batch (`allocate`: the running counts stay within one sample
    of the shares)."""

    def __init__(self, cache: FrameCache, delta_indices: Mapping[str, Sequence[int] | None], batch_size: int,
                 seed: int = 0, rank: int = 0, world_size: int = 1, drop_n_last_frames: int = 0,
                 augment_shift: int = 0, device: str | torch.device = "cpu", weights: Sequence[float] | None = None):
        self.cache, self.batch_size = cache, int(batch_size)
        self.delta = {k: (None if d is None else torch.as_tensor(list(d), dtype=torch.long))
                      for k, d in delta_indices.items()}
        missing = [k for k in self.delta if k not in cache.arrays]
        if missing:
            raise ValueError(f"the data has no {', '.join(missing)} (the policy needs it)")
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.augment_shift, self.device = int(augment_shift), torch.device(device)
        frame_ep = np.repeat(np.arange(len(cache.episode_from)), cache.episode_to - cache.episode_from)
        self._ep_from = torch.from_numpy(cache.episode_from[frame_ep])
        self._ep_to = torch.from_numpy(cache.episode_to[frame_ep])
        keep = np.arange(cache.num_frames) < (cache.episode_to[frame_ep] - drop_n_last_frames)
        if cache.trainable is not None:
            keep &= cache.trainable
        n_src = cache.num_sources
        frame_src = cache.episode_source[frame_ep] if n_src > 1 else np.zeros(len(frame_ep), dtype=np.int64)
        self._pools = [torch.from_numpy(np.nonzero(keep & (frame_src == i))[0]) for i in range(n_src)]
        self.sampleable = torch.from_numpy(np.nonzero(keep)[0])
        weights = [1.0] * n_src if weights is None else [float(w) for w in weights]
        if len(weights) != n_src:
            raise ValueError(f"{len(weights)} weight(s) for {n_src} dataset(s)")
        self.shares = [w / sum(weights) for w in weights]
        for i, pool in enumerate(self._pools):
            if self.shares[i] > 0 and len(pool) < world_size:
                where = f" in {cache.source_names[i]}" if n_src > 1 and cache.source_names else ""
                raise ValueError(f"only {len(pool)} frames to sample from{where}")
        self._epochs, self._pos = [0] * n_src, [0] * n_src
        self._orders = [self._epoch_order(i, 0) for i in range(n_src)]
        self._aug_gen = torch.Generator().manual_seed(seed * 1000 + rank + 7)

    @property
    def epoch(self) -> int:
        """Passes over the data so far: whole permutations for one dataset, samples drawn / frames for several."""
        if len(self._pools) == 1:
            return self._epochs[0]
        return sum(self._drawn()) // max(1, sum(len(o) for o in self._orders))

    def _drawn(self) -> list[int]:
        return [e * len(o) + p for e, o, p in zip(self._epochs, self._orders, self._pos, strict=True)]

    def _epoch_order(self, source: int, epoch: int) -> Tensor:
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch + source * 1_000_000_007)
        pool = self._pools[source]
        perm = pool[torch.randperm(len(pool), generator=g)]
        return perm[self.rank::self.world_size]

    def _take(self, source: int, n: int) -> list[Tensor]:
        parts = []
        while n:
            order, pos = self._orders[source], self._pos[source]
            take = order[pos:pos + n]
            parts.append(take)
            self._pos[source] += len(take)
            n -= len(take)
            if self._pos[source] >= len(order):
                self._epochs[source] += 1
                self._pos[source], self._orders[source] = 0, self._epoch_order(source, self._epochs[source])
        return parts

    def next_indices(self) -> Tensor:
        if len(self._pools) == 1:
            return torch.cat(self._take(0, self.batch_size))
        counts = allocate(self.shares, self._drawn(), self.batch_size)
        return torch.cat([t for i, n in enumerate(counts) for t in self._take(i, n)])

    def gather(self, frames: Tensor) -> dict[str, Tensor]:
        """Batch for these frame indices: each feature at its offsets, with pad_key(<key>) masks."""
        out: dict[str, Tensor] = {}
        lo, hi = self._ep_from[frames], self._ep_to[frames]
        for key, d in self.delta.items():
            arr = self.cache.arrays[key]
            if d is None:
                out[key] = arr[frames]
                continue
            idx = frames[:, None] + d[None, :]
            pad = (idx < lo[:, None]) | (idx >= hi[:, None])
            idx = torch.maximum(torch.minimum(idx, hi[:, None] - 1), lo[:, None])
            out[key] = arr[idx]
            out[pad_key(key)] = pad
        if self.augment_shift:
            for key in out:
                if is_image_key(key) and key in self.cache.arrays:  # not a pad mask
                    out[key] = random_shift(out[key], self.augment_shift, self._aug_gen)
        if self.device.type != "cpu":
            out = {k: v.to(self.device, non_blocking=True) for k, v in out.items()}
        return out

    def next_batch(self) -> dict[str, Tensor]:
        return self.gather(self.next_indices())

    def __iter__(self):
        while True:
            yield self.next_batch()

    def state_dict(self) -> dict[str, Tensor]:
        one = len(self._pools) == 1  # one dataset: the scalars older checkpoints hold
        return {"epoch": torch.tensor(self._epochs[0] if one else self._epochs),
                "pos": torch.tensor(self._pos[0] if one else self._pos), "aug_rng": self._aug_gen.get_state()}

    def load_state_dict(self, state: Mapping[str, Tensor]) -> None:
        epochs = torch.atleast_1d(state["epoch"]).tolist()
        pos = torch.atleast_1d(state["pos"]).tolist()
        if len(epochs) != len(self._pools):
            raise ValueError(f"the checkpoint sampled {len(epochs)} dataset(s), this run has {len(self._pools)}: "
                             f"resume with the same --dataset list")
        self._epochs, self._pos = [int(e) for e in epochs], [int(p) for p in pos]
        self._orders = [self._epoch_order(i, e) for i, e in enumerate(self._epochs)]
        self._aug_gen.set_state(state["aug_rng"])


def allocate(shares: Sequence[float], drawn: Sequence[int], n: int) -> list[int]:
    """Samples each source gives of the next `n`: one at a time to the source furthest behind its share of all
    samples drawn so far (ties: the first). Over any run of draws every source's count stays within one sample
    of its share."""
    counts, done, total = [0] * len(shares), list(drawn), sum(drawn)
    for _ in range(n):
        total += 1
        i = max(range(len(shares)), key=lambda s: (shares[s] * total - done[s], -s))
        counts[i] += 1
        done[i] += 1
    return counts


def random_shift(images: Tensor, pad: int, generator: torch.Generator | None = None) -> Tensor:
    """DrQ-style augmentation on uint8 [B, ..., C, H, W]: shift each sample by up to `pad` pixels in x and y,
    edges replicated (the same shift for all of a sample's time steps)."""
    if pad <= 0:
        return images
    b, h, w = images.shape[0], images.shape[-2], images.shape[-1]
    flat = images.reshape(b, -1, h, w)
    flat = torch.cat([flat[..., :1].expand(-1, -1, -1, pad), flat, flat[..., -1:].expand(-1, -1, -1, pad)], -1)
    flat = torch.cat([flat[..., :1, :].expand(-1, -1, pad, -1), flat, flat[..., -1:, :].expand(-1, -1, pad, -1)], -2)
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator).tolist()
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator).tolist()
    out = torch.stack([flat[i, :, y:y + h, x:x + w] for i, (y, x) in enumerate(zip(dy, dx, strict=True))])
    return out.reshape(images.shape)


@dataclass(frozen=True)
class Episode:
    index: int
    length: int


class InMemoryDataset:
    """A FrameSource over arrays: episodes = list of dicts with ACTION_KEY [T, A], STATE_KEY [T, S] and camera
    keys uint8 [T, H, W, 3]."""

    def __init__(self, episodes: Sequence[Mapping[str, np.ndarray]], fps: int = 30, stats: Mapping | None = None):
        if not episodes:
            raise ValueError("no episodes")
        self._eps = [dict(e) for e in episodes]
        self.fps = fps
        first = self._eps[0]
        self.features: dict[str, dict] = {}
        for key, arr in first.items():
            arr = np.asarray(arr)
            if arr.ndim == 4:
                self.features[key] = {"dtype": "video", "shape": list(arr.shape[1:]),
                                      "names": ["height", "width", "channels"]}
            else:
                self.features[key] = {"dtype": "float32", "shape": list(arr.shape[1:])}
        lengths = [len(e[ACTION_KEY]) for e in self._eps]
        self.episodes = [Episode(i, int(n)) for i, n in enumerate(lengths)]
        self.num_episodes, self.num_frames = len(self._eps), int(sum(lengths))
        self.stats = dict(stats) if stats is not None else {}

    def episode_data(self, ep: int) -> dict[str, np.ndarray]:
        e = self._eps[ep]
        return {k: np.asarray(v) for k, v in e.items() if np.asarray(v).ndim <= 2}

    def decode_episode_video(self, ep: int, key: str, size: tuple[int, int] | None = None) -> np.ndarray:
        return resize_uint8(np.asarray(self._eps[ep][key]), size)
