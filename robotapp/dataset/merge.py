"""Merging datasets into a new one.

The sources must agree on fps, features (dtype, shape, names) and robot type; the first difference is named in
a one-line error. Episodes keep their order (source by source), frames are renumbered and task indices mapped
onto the merged task list; each source video file is copied once (no re-encoding) and episodes keep their windows
in it. The result is built in a temporary folder next to the output and renamed into place when complete, so an
interrupted merge leaves no half dataset behind. Our extra metadata records where each episode came from."""

from __future__ import annotations

import copy
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from robotapp.dataset import layout
from robotapp.dataset import stats as st
from robotapp.dataset.datafile import data_table, table_bytes
from robotapp.dataset.edit import ArrayCache, edit_session
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.features import schema_mismatch
from robotapp.dataset.fsutil import fsync_path, remove_path, write_file
from robotapp.dataset.meta import Meta, same_robot_type
from robotapp.dataset.publish import episode_row


def check_mergeable(a: Meta, b: Meta) -> None:
    if a.fps != b.fps:
        raise DatasetError(f"cannot merge {b.root}: it is {b.fps} fps, {a.root} is {a.fps} fps")
    if not same_robot_type(a.robot_type, b.robot_type):
        raise DatasetError(f"cannot merge {b.root}: robot type {b.robot_type!r} differs from {a.robot_type!r} "
                           f"of {a.root}")
    problem = schema_mismatch(a.features, b.features)
    if problem:
        raise DatasetError(f"cannot merge {b.root} into {a.root}'s schema: {problem}")


def merge_datasets(sources: list[str | Path], output: str | Path) -> Meta:
    """A new dataset at `output` holding every episode of `sources`, in order."""
    output = Path(output)
    if len(sources) < 1:
        raise DatasetError("merge needs at least one source dataset")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise DatasetError(f"cannot merge into {output}: the folder exists and is not empty")
    metas = []
    for src in sources:
        with edit_session(src, "merge it") as m:  # finishes any interrupted recording first
            metas.append(m)
    for m in metas[1:]:
        check_mergeable(metas[0], m)
    tmp = output.parent / f".{output.name}.merging-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        new = _build(metas, tmp)
        if output.exists():
            output.rmdir()
        os.replace(tmp, output)
        fsync_path(output.parent)
    except BaseException:
        remove_path(tmp)
        raise
    new.root = output
    return new


def _build(metas: list[Meta], root: Path) -> Meta:
    first = metas[0]
    info = copy.deepcopy(first.info)
    info["data_path"], info["video_path"] = layout.DATA_PATH, layout.VIDEO_PATH if first.video_keys else None
    new = Meta(root, info, [], [], None, [])
    chunks = new.chunks_size
    data_slot = (0, 0)
    video_slots = {k: (0, 0) for k in new.video_keys}
    for m in metas:
        cache = ArrayCache(m)
        copied: dict[tuple[str, Path], tuple[int, int]] = {}
        for i, row in enumerate(m.episodes):
            ep, start = len(new.episodes), new.total_frames
            arrays = dict(cache.episode(row))
            n = len(arrays["index"])
            task_map = np.array([new.task_index(t) for t in m.tasks], dtype=np.int64)
            arrays["task_index"] = task_map[arrays["task_index"]]
            arrays["episode_index"] = np.full(n, ep, dtype=np.int64)
            arrays["index"] = np.arange(start, start + n, dtype=np.int64)
            write_file(root / layout.data_relpath(info, *data_slot), table_bytes(data_table(arrays, new.features)))
            videos = {}
            for key in new.video_keys:
                src = m.video_path(row, key)
                if (key, src) not in copied:
                    copied[(key, src)] = video_slots[key]
                    dest = root / layout.video_relpath(info, key, *video_slots[key])
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dest)
                    fsync_path(dest)
                    video_slots[key] = layout.next_slot(video_slots[key], chunks)
                videos[key] = (*copied[(key, src)], float(row[f"videos/{key}/from_timestamp"]))
            img_stats = {k: v for k, v in st.unflatten(row).items() if k in new.video_keys}
            new.episodes.append(episode_row(new, ep, arrays, list(row["tasks"]), data_slot, videos, start,
                                            img_stats))
            new.extras.append({**m.extras[i], "merged_from": {"dataset": str(m.root), "episode_index": i}})
            data_slot = layout.next_slot(data_slot, chunks)
    new.refresh_totals()
    for rel, data in new.files():
        if data is not None:
            write_file(root / rel, data)
    return new
