"""Trimming frames off the start or end of an episode.

The episode's frames are cut and renumbered (frame_index and timestamp restart at 0) and its video windows
narrowed — the mp4 is not re-encoded, the cut frames simply fall outside the window — then the episodes after
it are renumbered. Its stats are recomputed, image stats by decoding the new window."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from robotapp.dataset import stats as st
from robotapp.dataset.edit import ArrayCache, Planned, edit_session, rebuild, window_image_stats
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.txn import Transaction


def trim_episode(root: str | Path, episode: int, *, start: int = 0, end: int = 0) -> int:
    """Drop `start` frames at the beginning and `end` frames at the end; returns the new length."""
    with edit_session(root, "trim an episode") as meta:
        if not 0 <= episode < len(meta.episodes):
            raise DatasetError(f"episode {episode} does not exist in {meta.root} ({len(meta.episodes)} episodes)")
        row = dict(meta.episodes[episode])
        n = int(row["length"])
        if start < 0 or end < 0:
            raise DatasetError(f"trim: start and end are frame counts >= 0, got start={start} end={end}")
        if start + end >= n - 1:
            raise DatasetError(f"trim: episode {episode} has {n} frames; cutting {start} + {end} would leave "
                               f"{max(0, n - start - end)} (at least 2 must stay)")
        if start == 0 and end == 0:
            return n
        fps, m = meta.fps, n - start - end
        cache = ArrayCache(meta)
        arrays = {k: v[start:n - end] for k, v in cache.episode(row).items()}
        arrays["frame_index"] = np.arange(m, dtype=np.int64)
        arrays["timestamp"] = (arrays["frame_index"] / fps).astype(np.float32)
        img_stats = {}
        for key in meta.video_keys:
            t0 = float(row[f"videos/{key}/from_timestamp"]) + start / fps
            row[f"videos/{key}/from_timestamp"] = t0
            row[f"videos/{key}/to_timestamp"] = t0 + m / fps
            img_stats[key] = window_image_stats(meta.video_path(row, key), t0, m, fps)
        row.update(st.flatten(img_stats))
        extra = dict(meta.extras[episode])
        extra["edits"] = [*extra.get("edits", []), {"trim": [start, end], "at": _dt.datetime.now(_dt.UTC).isoformat(
            timespec="seconds")}]
        plans = [Planned(r, meta.extras[i]) for i, r in enumerate(meta.episodes)]
        plans[episode] = Planned(row, extra, arrays)
        txn = Transaction(meta.root)
        try:
            rebuild(meta, plans, txn, cache)
        except BaseException:
            txn.abort()
            raise
        txn.commit()
        return m
