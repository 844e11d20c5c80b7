"""Statistics as lerobot computes them: per episode and feature min/max/mean/std/count and the quantiles
q01/q10/q50/q90/q99; the dataset's stats are the per-episode stats aggregated (count-weighted mean, pooled
variance, min of mins, max of maxes, count-weighted quantiles), written to meta/stats.json.

Vectors (action, state, timestamp, indexes): one value per dimension, shape [D] ([1] for scalars); quantiles
from a 5000-bin histogram between min and max, interpolated inside the bin, as lerobot's RunningQuantileStats.
Flags (dtype bool, e.g. "intervention") get the same stats, as lerobot computes them: min/max booleans, mean the
fraction of True frames, quantiles from the histogram of 0s and 1s.
Means and variances are taken in float64 (lerobot's float32 mean-of-squares loses precision).
Images: per channel over every frame, after lerobot's stride downsampling (frames with a side >= 300 px are
strided down to about 150 px), values scaled to [0, 1], shape [3, 1, 1], count = frames. Pixels are integers,
so a 256-bin histogram per channel holds them exactly: updating it costs a bincount per frame (done by the
encoder thread while recording) and quantiles are exact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
QKEYS = tuple(f"q{int(round(q * 100)):02d}" for q in QUANTILES)
STAT_KEYS = ("min", "max", "mean", "std", "count", *QKEYS)
NUM_BINS = 5000
Stats = dict[str, np.ndarray]


def vector_stats(values: np.ndarray) -> Stats:
    """Stats of an [N] or [N, D] array along the frames (lerobot's get_feature_stats with axis=0)."""
    arr = np.asarray(values)
    scalar = arr.ndim == 1
    x = arr.reshape(len(arr), -1)
    n = x.shape[0]
    if n == 0:
        raise ValueError("no frames to compute stats from")
    xf = x.astype(np.float64)
    mean = xf.mean(axis=0)
    std = xf.std(axis=0)
    mn, mx = x.min(axis=0), x.max(axis=0)
    out: Stats = {"min": mn, "max": mx, "mean": mean, "std": std, "count": np.array([n], dtype=np.int64)}
    if n < 2:
        for q in QKEYS:
            out[q] = mean.copy()
    else:
        qs = np.empty((len(QUANTILES), x.shape[1]))
        for d in range(x.shape[1]):
            lo, hi = float(mn[d]), float(mx[d])
            edges = np.linspace(lo - 1e-10, hi + 1e-10, NUM_BINS + 1)
            hist, _ = np.histogram(xf[:, d], bins=edges)
            qs[:, d] = _hist_quantiles(hist, edges, n)
        for i, q in enumerate(QKEYS):
            out[q] = qs[i]
    if scalar:
        out = {k: (v if k == "count" else np.asarray(v).reshape(1)) for k, v in out.items()}
    return out


def _hist_quantiles(hist: np.ndarray, edges: np.ndarray, n: int) -> np.ndarray:
    cumsum = np.cumsum(hist)
    res = []
    for q in QUANTILES:
        target = q * n
        idx = int(np.searchsorted(cumsum, target))
        if idx == 0:
            res.append(edges[0])
        elif idx >= len(cumsum):
            res.append(edges[-1])
        else:
            before = cumsum[idx - 1]
            in_bin = cumsum[idx] - before
            res.append(edges[idx] if in_bin == 0 else
                       edges[idx] + (target - before) / in_bin * (edges[idx + 1] - edges[idx]))
    return np.asarray(res)


def downsample_for_stats(image: np.ndarray) -> np.ndarray:
    """lerobot's auto_downsample_height_width, on an HxWx3 image (a strided view, no copy)."""
    h, w = image.shape[:2]
    if max(h, w) < 300:
        return image
    f = int(w / 150) if w > h else int(h / 150)
    return image[::f, ::f]


class ImageStats:
    """Per-channel pixel histogram of the frames of one episode of one camera."""

    _OFFSETS = np.array([0, 256, 512], dtype=np.int32)

    def __init__(self) -> None:
        self.hist = np.zeros((3, 256), dtype=np.int64)
        self.frames = 0

    def add(self, image: np.ndarray) -> None:
        small = downsample_for_stats(image).reshape(-1, 3)
        idx = small.astype(np.int32) + self._OFFSETS
        self.hist += np.bincount(idx.ravel(), minlength=768).reshape(3, 256)
        self.frames += 1

    def stats(self) -> Stats:
        if self.frames == 0:
            raise ValueError("no frames to compute image stats from")
        values = np.arange(256, dtype=np.float64)
        n = self.hist.sum(axis=1).astype(np.float64)
        mean = (self.hist * values).sum(axis=1) / n
        var = (self.hist * (values[None, :] - mean[:, None]) ** 2).sum(axis=1) / n
        nz = self.hist > 0
        mn = np.argmax(nz, axis=1).astype(np.float64)
        mx = 255 - np.argmax(nz[:, ::-1], axis=1).astype(np.float64)
        cum = np.cumsum(self.hist, axis=1)
        out: Stats = {"min": mn, "max": mx, "mean": mean, "std": np.sqrt(var)}
        for q, key in zip(QUANTILES, QKEYS, strict=True):
            out[key] = np.array([np.searchsorted(cum[c], q * n[c]) for c in range(3)], dtype=np.float64)
        shaped = {k: (v / 255.0).reshape(3, 1, 1) for k, v in out.items()}
        shaped["count"] = np.array([self.frames], dtype=np.int64)
        return {k: shaped[k] for k in STAT_KEYS}


def image_stats(frames: Iterable[np.ndarray]) -> Stats:
    acc = ImageStats()
    for f in frames:
        acc.add(f)
    return acc.stats()


def aggregate(stats_list: list[Mapping[str, Mapping[str, np.ndarray]]]) -> dict[str, Stats]:
    """Dataset stats from per-episode stats (lerobot's aggregate_stats)."""
    keys = sorted({k for s in stats_list for k in s})
    return {k: _aggregate_feature([s[k] for s in stats_list if k in s]) for k in keys}


def _aggregate_feature(items: list[Mapping[str, np.ndarray]]) -> Stats:
    means = np.stack([np.asarray(s["mean"], dtype=np.float64) for s in items])
    variances = np.stack([np.asarray(s["std"], dtype=np.float64) ** 2 for s in items])
    counts = np.stack([np.asarray(s["count"], dtype=np.float64).reshape(1) for s in items])
    total = counts.sum(axis=0)
    w = counts.reshape(counts.shape + (1,) * (means.ndim - counts.ndim))  # [E, 1, ...] broadcasts on means
    mean = (means * w).sum(axis=0) / total
    var = ((variances + (means - mean) ** 2) * w).sum(axis=0) / total
    out: Stats = {
        "min": np.min(np.stack([np.asarray(s["min"]) for s in items]), axis=0),
        "max": np.max(np.stack([np.asarray(s["max"]) for s in items]), axis=0),
        "mean": mean,
        "std": np.sqrt(var),
        "count": total.astype(np.int64),
    }
    for q in QKEYS:
        if all(q in s for s in items):
            out[q] = (np.stack([np.asarray(s[q], dtype=np.float64) for s in items]) * w).sum(axis=0) / total
    return out


def to_json(stats: Mapping[str, Mapping[str, np.ndarray]]) -> dict:
    return {k: {s: np.asarray(v).tolist() for s, v in ft.items()} for k, ft in stats.items()}


def from_json(obj: Mapping) -> dict[str, Stats]:
    return {k: {s: np.asarray(v) for s, v in ft.items()} for k, ft in obj.items()}


def flatten(stats: Mapping[str, Mapping[str, np.ndarray]], dtypes: Mapping[str, str] | None = None) -> dict:
    """Episode-row columns stats/<feature>/<stat>, min/max kept in the feature's integer or bool dtype like
    lerobot (a flag's min and max are booleans, its mean the fraction of True frames)."""
    row = {}
    for k, ft in stats.items():
        dtype = str(dtypes.get(k, "")) if dtypes is not None else ""
        for s in STAT_KEYS:
            if s not in ft:
                continue
            v = np.asarray(ft[s])
            if s == "count" or (dtype.startswith("int") and s in ("min", "max")):
                v = v.astype(np.int64)
            elif dtype == "bool" and s in ("min", "max"):
                v = v.astype(np.bool_)
            else:
                v = v.astype(np.float64)
            row[f"stats/{k}/{s}"] = v.tolist()
    return row


def unflatten(row: Mapping) -> dict[str, Stats]:
    out: dict[str, Stats] = {}
    for col, v in row.items():
        if not col.startswith("stats/") or v is None:
            continue
        _, rest = col.split("/", 1)
        feat, stat = rest.rsplit("/", 1)
        out.setdefault(feat, {})[stat] = np.asarray(v)
    return out
