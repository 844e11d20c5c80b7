"""The engine behind every edit (trash, restore, trim): lay the episodes out again with the fewest rewrites.

An edit describes the dataset it wants as an ordered list of `Planned` episodes (existing rows, possibly with
new frames, and new episodes appended at the end). `rebuild` renumbers episode_index / index / dataset_from_index
so they stay contiguous, rewrites only the data files whose rows change (a data file keeps its slot, so the
path order of data files stays the episode order), removes data files left empty, moves new episodes' videos
into fresh slots, recomputes the vector stats of every rewritten episode and the dataset stats, and puts all of
it in one transaction. Videos are never re-encoded here: an episode's frames are a window of its video file."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robotapp.dataset import layout
from robotapp.dataset import stats as st
from robotapp.dataset.datafile import data_table, frame_columns, read_data, table_bytes
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.fsutil import DatasetLock
from robotapp.dataset.meta import Meta, load_meta
from robotapp.dataset.recovery import recover
from robotapp.dataset.txn import Transaction
from robotapp.dataset.video import iter_window


@dataclass
class Planned:
    row: dict  # the episode row as it should be (video windows, image stats); indexes are redone here
    extra: dict
    arrays: dict[str, np.ndarray] | None = None  # new frames (all frame columns); None: read from its data file
    video_moves: dict[str, str] = field(default_factory=dict)  # new episode: key -> file to move into a new slot
    is_new: bool = False


@contextlib.contextmanager
def edit_session(root: str | Path, what: str) -> Iterator[Meta]:
    """Hold the dataset lock, finish any interrupted work, and hand out the current metadata."""
    root = Path(root)
    if not (root / layout.INFO).is_file():
        raise DatasetError(f"no dataset at {root} (meta/info.json is missing)")
    lock = DatasetLock(root).acquire(what=what)
    try:
        recover(root)
        yield load_meta(root)
    finally:
        lock.release()


class ArrayCache:
    """Frame arrays of existing episodes, reading each data file once."""

    def __init__(self, meta: Meta):
        self.meta = meta
        self._files: dict[Path, dict[str, np.ndarray]] = {}

    def episode(self, row: dict) -> dict[str, np.ndarray]:
        path = self.meta.data_path(row)
        if path not in self._files:
            self._files[path] = read_data(path, self.meta.features)
        arrays = self._files[path]
        lo, hi = int(row["dataset_from_index"]), int(row["dataset_to_index"])
        sel = (arrays["index"] >= lo) & (arrays["index"] < hi)
        if int(sel.sum()) != hi - lo:
            raise DatasetError(f"data file {path} holds {int(sel.sum())} frames of episode {row['episode_index']}, "
                               f"expected {hi - lo}")
        return {k: v[sel] for k, v in arrays.items()}


def rebuild(meta: Meta, plans: list[Planned], txn: Transaction, cache: ArrayCache | None = None) -> Meta:
    """Stage in txn the files that make the dataset equal to `plans`; returns the resulting Meta."""
    cache = cache or ArrayCache(meta)
    new = Meta(meta.root, copy.deepcopy(meta.info), list(meta.tasks), [], None, [])
    slot_of = lambda r: (int(r["data/chunk_index"]), int(r["data/file_index"]))  # noqa: E731
    old_by_slot: dict[tuple[int, int], list[int]] = {}
    for r in meta.episodes:
        old_by_slot.setdefault(slot_of(r), []).append(int(r["episode_index"]))
    seen_new = False
    next_slot = layout.first_free_slot(meta.root, meta.used_slots(), meta.chunks_size)
    frames: list[dict[str, np.ndarray]] = []
    start = 0
    for i, p in enumerate(plans):
        seen_new = seen_new or p.is_new
        if seen_new and not p.is_new:
            raise RuntimeError("new episodes must come after the existing ones")
        row = dict(p.row)
        arrays = p.arrays
        changed = arrays is not None or p.is_new or int(row["episode_index"]) != i or \
            int(row["dataset_from_index"]) != start
        if arrays is None:
            arrays = cache.episode(p.row) if changed else None
        n = len(arrays["index"]) if arrays is not None else int(row["length"])
        if p.is_new:
            row["data/chunk_index"], row["data/file_index"] = next_slot
            for key, src in p.video_moves.items():
                row[f"videos/{key}/chunk_index"], row[f"videos/{key}/file_index"] = next_slot
                txn.move(src, layout.video_relpath(new.info, key, *next_slot))
            next_slot = layout.next_slot(next_slot, meta.chunks_size)
        if arrays is not None:
            arrays = dict(arrays)
            arrays["episode_index"] = np.full(n, i, dtype=np.int64)
            arrays["index"] = np.arange(start, start + n, dtype=np.int64)
            vec = {k: st.vector_stats(arrays[k]) for k in frame_columns(new.features)}
            row.update(st.flatten(vec, {k: ft["dtype"] for k, ft in new.features.items()}))
        row.update({"episode_index": i, "length": n, "dataset_from_index": start, "dataset_to_index": start + n})
        start += n
        row["_changed"] = changed
        frames.append(arrays)
        new.episodes.append(row)
        new.extras.append(dict(p.extra))
    # data files: rewrite a slot when its rows change, remove it when nothing is left in it
    new_by_slot: dict[tuple[int, int], list[int]] = {}
    for i, r in enumerate(new.episodes):
        new_by_slot.setdefault(slot_of(r), []).append(i)
    for slot in sorted(set(old_by_slot) | set(new_by_slot)):
        members = new_by_slot.get(slot, [])
        rel = layout.data_relpath(new.info, *slot)
        if not members:
            txn.remove(rel)
            continue
        untouched = not any(new.episodes[i]["_changed"] for i in members) and \
            old_by_slot.get(slot) == [int(p.row["episode_index"]) for p in (plans[i] for i in members)]
        if untouched:
            continue
        parts = [frames[i] if frames[i] is not None else cache.episode(plans[i].row) for i in members]
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        txn.put(rel, table_bytes(data_table(merged, new.features)))
    for r in new.episodes:
        r.pop("_changed")
    new.refresh_totals()
    for rel, data in new.files():
        txn.put(rel, data)
    return new


def window_image_stats(path: Path, t0: float, n: int, fps: int) -> st.Stats:
    acc = st.ImageStats()
    for _, img in iter_window(path, t0, n, fps):
        acc.add(img)
    if acc.frames != n:
        raise DatasetError(f"video {path} has {acc.frames} frames in the window starting at {t0:.3f} s, "
                           f"expected {n}")
    return acc.stats()
