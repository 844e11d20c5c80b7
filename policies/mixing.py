"""Training on several datasets at once (e.g. the original demonstrations and the corrections recorded while
evaluating): they must agree on what the policy reads, and each gets a share of the sampled frames.

- `check_compatible(sources, names, cameras)`: same fps, robot type, action/state shapes and names, and cameras
  (the ones used, with the same shape) - else ValueError in one line naming the dataset and the field. Features
  the policy does not read (the per-frame `intervention` flag of a corrections dataset, any other extra column)
  are not compared: a corrections dataset trains alongside demonstrations that lack them.
- `resolve_shares(weights, frames)`: "balanced" (the default: every dataset an equal share of the sampled frames,
  whatever its size: 20 correction episodes count as much as 50 demonstrations), "frames" (a share proportional
  to the dataset's frames, as if the datasets were one), or relative weights [1, 3].
- `build_cache(...)`: one FrameCache over all of them (the episodes of each, in order, tagged with their
  dataset), normalisation stats of the mixture as sampled (each dataset's stats weighted by its share).
- `allocate(shares, drawn, n)`: how many of the next n samples each dataset gives, so that the running counts
  stay as close to the shares as whole samples allow (the BatchSampler draws each dataset's frames from its own
  shuffled stream).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from .data import (  # noqa: F401 - allocate: part of this module's story
    FrameCache,
    FrameCacheTooLarge,
    _gb,
    allocate,
    available_memory_bytes,
    camera_keys,
    estimate_cache_bytes,
)
from .frame_keys import ACTION_KEY, STATE_KEY, camera_name, image_key
from .frame_source import FrameSource

WEIGHT_MODES = ("balanced", "frames")


def check_compatible(sources: Sequence[FrameSource], names: Sequence[str], cameras: Sequence[str] | None = None
                     ) -> None:
    """Refuse datasets that do not agree on what a policy trained on all of them reads (see the module doc)."""
    first, ref = sources[0], names[0]
    ref_cams = _cams(first, cameras)
    for src, name in zip(sources[1:], names[1:], strict=True):
        def differ(field: str, have, want, name: str = name) -> ValueError:
            return ValueError(f"dataset {name}: {field} is {have}, but {ref} has {want} (datasets trained "
                              f"together must agree)")

        if float(src.fps) != float(first.fps):
            raise differ("fps", f"{float(src.fps):g}", f"{float(first.fps):g}")
        robot, want_robot = getattr(src, "robot_type", None), getattr(first, "robot_type", None)
        if robot != want_robot:
            raise differ("robot type", repr(robot), repr(want_robot))
        for key in (ACTION_KEY, STATE_KEY):
            have, want = src.features.get(key), first.features.get(key)
            if (have is None) != (want is None):
                raise ValueError(f"dataset {name}: {'has' if have is not None else 'lacks'} {key}, which {ref} "
                                 f"{'lacks' if have is not None else 'has'} (datasets trained together must agree)")
            if have is None:
                continue
            if list(have["shape"]) != list(want["shape"]):
                raise differ(f"{key} shape", list(have["shape"]), list(want["shape"]))
            if have.get("names") and want.get("names") and list(have["names"]) != list(want["names"]):
                raise differ(f"{key} names", list(have["names"]), list(want["names"]))
        all_cams = camera_keys(src.features)
        missing = [k for k in ref_cams if k not in all_cams]
        if missing:
            raise ValueError(f"dataset {name}: no camera {camera_name(missing[0])} (it has "
                             f"{', '.join(camera_name(k) for k in all_cams) or 'none'}; {ref} has "
                             f"{', '.join(camera_name(k) for k in ref_cams)})")
        extra = [k for k in all_cams if k not in ref_cams] if cameras is None else []
        if extra:
            raise ValueError(f"dataset {name}: camera {camera_name(extra[0])}, which {ref} lacks (train on the "
                             f"shared ones with --cameras {','.join(camera_name(k) for k in ref_cams) or '...'})")
        for k in ref_cams:
            have, want = list(src.features[k]["shape"]), list(first.features[k]["shape"])
            if have != want:
                raise differ(f"camera {camera_name(k)} shape", have, want)


def _cams(src: FrameSource, cameras: Sequence[str] | None) -> list[str]:
    if cameras is None:
        return camera_keys(src.features)
    return [c if c.startswith("observation.images.") else image_key(c) for c in cameras]


def resolve_shares(weights: str | Sequence[float] | None, frames: Sequence[int]) -> list[float]:
    """Each dataset's share of the sampled frames (summing to 1)."""
    n = len(frames)
    if weights is None or weights == "balanced":
        raw = [1.0] * n
    elif weights == "frames":
        raw = [float(f) for f in frames]
    elif isinstance(weights, str):
        raise ValueError(f"--weights {weights}: give {' or '.join(WEIGHT_MODES)}, or one number per dataset")
    else:
        raw = [float(w) for w in weights]
        if len(raw) != n:
            raise ValueError(f"--weights gives {len(raw)} weight(s) for {n} dataset(s): one per --dataset")
        if any(not np.isfinite(w) or w < 0 for w in raw) or sum(raw) <= 0:
            raise ValueError(f"--weights {','.join(f'{w:g}' for w in raw)}: weights are numbers >= 0, not all 0")
    total = sum(raw)
    return [w / total for w in raw]


def build_cache(sources: Sequence[FrameSource], names: Sequence[str], weights: str | Sequence[float] | None,
                image_size: tuple[int, int] | None, cameras: Sequence[str] | None,
                episodes: Sequence[int] | None = None, processes_per_machine: int = 1,
                progress: Callable[[int, int], None] | None = None) -> tuple[FrameCache, list[float]]:
    """One FrameCache over all the datasets, and each dataset's share of the samples."""
    if len(sources) == 1:
        cache = FrameCache.build(sources[0], image_size=image_size, cameras=cameras, episodes=episodes,
                                 processes_per_machine=processes_per_machine, progress=progress)
        return cache, [1.0]
    if episodes is not None:
        raise ValueError("--episodes picks episodes of one dataset: with several --dataset, train on whole datasets")
    check_compatible(sources, names, cameras)
    cams = _cams(sources[0], cameras)
    frames = [sum(int(e.length) for e in s.episodes) for s in sources]
    shapes = [tuple(image_size) if image_size is not None else tuple(sources[0].features[k]["shape"][:2])
              for k in cams]
    _check_memory(sum(frames), shapes, sources[0].features, processes_per_machine)
    # every dataset decodes its cameras straight into its slice of one tensor per camera: no copy to join them
    images = {k: torch.empty((sum(frames), 3, *hw), dtype=torch.uint8) for k, hw in zip(cams, shapes, strict=True)}
    total, done, start = sum(len(s.episodes) for s in sources), 0, 0
    caches = []
    for src, name, n in zip(sources, names, frames, strict=True):
        def step(i: int, _n: int, base: int = done) -> None:
            if progress is not None:
                progress(base + i, total)
        try:
            caches.append(FrameCache.build(src, image_size=image_size, cameras=cameras, progress=step,
                                           processes_per_machine=processes_per_machine,
                                           into={k: t[start:start + n] for k, t in images.items()}))
        except ValueError as e:
            raise type(e)(f"dataset {name}: {e}") from e
        done, start = done + len(src.episodes), start + n
    shares = resolve_shares(weights, [c.num_frames for c in caches])
    return concat(caches, names, shares, images), shares


def _check_memory(n: int, shapes, features, processes: int) -> None:
    vec = sum(int(np.prod(features[k]["shape"])) for k in (ACTION_KEY, STATE_KEY) if k in features)
    need = estimate_cache_bytes(n, shapes, vec) * processes
    avail = available_memory_bytes()
    if avail is not None and need > 0.8 * avail:
        raise FrameCacheTooLarge(f"the frame cache of all the datasets needs {_gb(need)} ({n} frames x "
                                 f"{len(shapes)} camera(s)) but only {_gb(0.8 * avail)} is available: train at a "
                                 f"lower --image-size, or on fewer --cameras or datasets")


def concat(caches: Sequence[FrameCache], names: Sequence[str], shares: Sequence[float],
           joined: dict[str, torch.Tensor] | None = None) -> FrameCache:
    """The caches as one: each key's arrays joined (`joined`: keys whose tensor already holds all the caches' rows
    in order, their arrays being slices of it), freed from the parts as it goes."""
    sizes = [c.num_frames for c in caches]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    arrays = {}
    for key in list(caches[0].arrays):
        arrays[key] = joined[key] if joined and key in joined else torch.cat([c.arrays[key] for c in caches])
        for c in caches:
            del c.arrays[key]
    return FrameCache(
        arrays=arrays,
        episode_from=np.concatenate([c.episode_from + o for c, o in zip(caches, offsets, strict=True)]),
        episode_to=np.concatenate([c.episode_to + o for c, o in zip(caches, offsets, strict=True)]),
        episode_ids=[e for c in caches for e in c.episode_ids], fps=caches[0].fps, features=caches[0].features,
        stats=merge_stats([c.stats for c in caches], shares),
        episode_source=np.concatenate([np.full(len(c.episode_from), i, dtype=np.int64)
                                       for i, c in enumerate(caches)]),
        source_names=list(names),
        trainable=None if all(c.trainable is None for c in caches) else np.concatenate(
            [c.trainable if c.trainable is not None else np.ones(c.num_frames, dtype=bool) for c in caches]))


def merge_stats(stats: Sequence[Mapping[str, Mapping[str, np.ndarray]]], shares: Sequence[float]
                ) -> dict[str, dict[str, np.ndarray]]:
    """The stats of a mixture with these shares: pooled mean and std, overall min and max."""
    out = {}
    for key in stats[0]:
        parts = [s[key] for s in stats]
        w = np.asarray(shares, dtype=np.float64)
        mean = sum(wi * np.asarray(p["mean"], np.float64) for wi, p in zip(w, parts, strict=True))
        second = sum(wi * (np.asarray(p["std"], np.float64) ** 2 + np.asarray(p["mean"], np.float64) ** 2)
                     for wi, p in zip(w, parts, strict=True))
        out[key] = {"mean": mean, "std": np.sqrt(np.maximum(second - mean ** 2, 0.0)),
                    "min": np.minimum.reduce([np.asarray(p["min"], np.float64) for p in parts]),
                    "max": np.maximum.reduce([np.asarray(p["max"], np.float64) for p in parts])}
    return out


def source_of(cache: FrameCache, frames: torch.Tensor) -> torch.Tensor:
    """The dataset (an index into cache.source_names) each of these cache frames comes from."""
    if cache.episode_source is None:
        return torch.zeros_like(frames)
    episodes = np.searchsorted(cache.episode_to, frames.numpy(), side="right")
    return torch.from_numpy(cache.episode_source[episodes])
