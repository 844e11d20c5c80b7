"""Trimming frames off the start or end of an episode, and undoing a trim.

The episode's frames are cut and renumbered (frame_index and timestamp restart at 0) and its video windows
narrowed — the mp4 is not re-encoded, the cut frames simply fall outside the window — then the episodes after
it are renumbered. Its stats are recomputed, image stats by decoding the new window.

Because the cut frames stay in the video file, a trim can be undone: `trim_episode_undoable` also hands back
the episode as it was (its row, extra metadata and frames, kept by the caller, in memory), and `undo_trim` puts
it back — unless the episode changed since, which it refuses with nothing changed."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robotapp.dataset import stats as st
from robotapp.dataset.edit import ArrayCache, Planned, edit_session, rebuild, window_image_stats
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.meta import Meta
from robotapp.dataset.txn import Transaction


@dataclass(frozen=True)
class TrimUndo:
    """An episode as it was before a trim: enough to put it back while its video files are unchanged."""
    root: Path
    episode: int
    row: dict
    extra: dict
    arrays: dict[str, np.ndarray]
    trimmed: dict  # the trimmed episode's length, video windows and edit record: to see it is unchanged since

    @property
    def length(self) -> int:
        return int(self.row["length"])


def trim_episode(root: str | Path, episode: int, *, start: int = 0, end: int = 0) -> int:
    """Drop `start` frames at the beginning and `end` frames at the end; returns the new length."""
    return trim_episode_undoable(root, episode, start=start, end=end)[0]


def trim_episode_undoable(root: str | Path, episode: int, *, start: int = 0,
                          end: int = 0) -> tuple[int, TrimUndo | None]:
    """As trim_episode, and what undo_trim needs to put the episode back (None when nothing was cut)."""
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
            return n, None
        fps, m = meta.fps, n - start - end
        cache = ArrayCache(meta)
        before = cache.episode(row)
        arrays = {k: v[start:n - end] for k, v in before.items()}
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
        _commit(meta, plans, cache)
        undo = TrimUndo(meta.root, episode, dict(meta.episodes[episode]), dict(meta.extras[episode]),
                        {k: v.copy() for k, v in before.items()}, _fingerprint(meta, row | {"length": m}, extra))
        return m, undo


def undo_trim(undo: TrimUndo) -> int:
    """Put a trimmed episode back as it was; returns its length. Refuses (changing nothing) when the episode
    is not the one that trim left, e.g. it was trimmed again, deleted or renumbered since."""
    with edit_session(undo.root, "undo a trim") as meta:
        ep = undo.episode
        if not 0 <= ep < len(meta.episodes) or \
                _fingerprint(meta, meta.episodes[ep], meta.extras[ep]) != undo.trimmed:
            raise DatasetError(f"undo trim: episode {ep} of {meta.root} changed since it was trimmed; "
                               f"nothing undone")
        current = meta.episodes[ep]
        row = dict(undo.row)
        for slot in ("data/chunk_index", "data/file_index"):  # its frames live where they live now
            row[slot] = current[slot]
        plans = [Planned(r, meta.extras[i]) for i, r in enumerate(meta.episodes)]
        plans[ep] = Planned(row, dict(undo.extra), {k: v.copy() for k, v in undo.arrays.items()})
        _commit(meta, plans, ArrayCache(meta))
        return undo.length


def _fingerprint(meta: Meta, row: dict, extra: dict) -> dict:
    out = {"length": int(row["length"]), "edit": (extra.get("edits") or [None])[-1]}
    for key in meta.video_keys:
        for end in ("chunk_index", "file_index", "from_timestamp", "to_timestamp"):
            out[f"videos/{key}/{end}"] = row[f"videos/{key}/{end}"]
    return out


def _commit(meta: Meta, plans: list[Planned], cache: ArrayCache) -> None:
    txn = Transaction(meta.root)
    try:
        rebuild(meta, plans, txn, cache)
    except BaseException:
        txn.abort()
        raise
    txn.commit()
