"""Turning a staged episode into a dataset episode, in one transaction.

A recorded episode is first staged in .robotapp/staging/<token>/: its frames (data.parquet, with task strings
kept local), one finished mp4 per camera, and last, atomically, episode.json with the lengths and stats: from
then on the episode is durable. Publishing moves those files to a new slot and replaces the metadata; the
transaction orders the steps so that lerobot, which trusts info.json's totals, sees the dataset before or after
the episode at any instant: new data and videos first (unreferenced until then), then tasks, episode rows,
stats, our extras, and info.json last."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotapp.dataset import layout
from robotapp.dataset import stats as st
from robotapp.dataset.datafile import data_table, table_bytes
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.features import vector_keys
from robotapp.dataset.meta import Meta
from robotapp.dataset.txn import Transaction
from robotapp.dataset.video import count_frames, video_info

RECORD = "episode.json"
STAGED_DATA = "data.parquet"
SAVING = "saving"  # marker: save_episode was called, the files are being completed


@dataclass
class StagedEpisode:
    dir: Path
    token: str
    length: int
    tasks: list[str]  # local task list; task_ids index into it
    task_ids: np.ndarray
    vectors: dict[str, np.ndarray]
    video_stats: dict[str, st.Stats] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def video_file(self, key: str) -> Path:
        return self.dir / f"{key}.mp4"


def staged_data_bytes(vectors: dict[str, np.ndarray], task_ids: np.ndarray) -> bytes:
    cols = {k: pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(v).reshape(-1)), v.shape[1])
            for k, v in vectors.items()}
    cols["task_local"] = pa.array(np.asarray(task_ids, dtype=np.int32))
    return table_bytes(pa.table(cols))


def record_json(staged: StagedEpisode, **more) -> dict:
    return {"format": 1, "token": staged.token, "length": staged.length, "tasks": staged.tasks,
            "video_stats": st.to_json(staged.video_stats), "extra": staged.extra, **more}


def load_staged(stage: Path, meta: Meta) -> tuple[StagedEpisode | None, str | None]:
    """Read a staged episode back (recovery); (None, reason in plain words) when a part is missing or short."""
    try:
        rec = json.loads((stage / RECORD).read_text())
        length = int(rec["length"])
        table = pq.read_table(stage / STAGED_DATA)
    except (OSError, ValueError, KeyError, pa.ArrowException) as e:
        return None, f"its saved files cannot be read ({e})"
    if table.num_rows != length:
        return None, f"its data has {table.num_rows} frames instead of {length}"
    tasks, task_ids = rec.get("tasks"), table.column("task_local").to_numpy() if "task_local" in \
        table.column_names else None
    if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks) or task_ids is None or \
            (length and not 0 <= task_ids.min() <= task_ids.max() < len(tasks)):
        return None, "its task strings do not match its frames"
    vectors = {}
    for key in vector_keys(meta.features):
        if key not in table.column_names:
            return None, f"its data has no '{key}'"
        dim = int(meta.features[key]["shape"][0])
        vectors[key] = table.column(key).combine_chunks().flatten().to_numpy(zero_copy_only=False).reshape(
            length, dim).astype(meta.features[key]["dtype"])
    try:
        video_stats = st.from_json(rec.get("video_stats", {}))
    except (ValueError, TypeError, AttributeError) as e:
        return None, f"its video stats cannot be read ({e})"
    extra = rec.get("extra") if isinstance(rec.get("extra"), dict) else {}
    staged = StagedEpisode(stage, stage.name, length, list(tasks), task_ids.astype(np.int64), vectors,
                           video_stats, extra)
    for key in meta.video_keys:
        path = staged.video_file(key)
        try:
            n = count_frames(path, fps=meta.fps)
        except DatasetError as e:
            return None, f"its video for {key} is unreadable ({e})"
        if n != length:
            return None, f"its video for {key} has {n} frames instead of {length}"
        if key not in staged.video_stats:
            return None, f"its video stats for {key} are missing"
    return staged, None


def publish(root: Path, meta: Meta, staged: StagedEpisode, *, fsync: bool = True) -> Meta:
    """Append the staged episode to the dataset; returns the new Meta (the old one is left untouched)."""
    root = Path(root)
    new = Meta(root, copy.deepcopy(meta.info), list(meta.tasks), list(meta.episodes), meta.stats,
               [dict(e) for e in meta.extras], meta.table)
    ep, start, n, fps = len(new.episodes), new.total_frames, staged.length, new.fps
    task_map = np.array([new.task_index(t) for t in staged.tasks], dtype=np.int64)
    arrays = dict(staged.vectors)
    arrays["frame_index"] = np.arange(n, dtype=np.int64)
    arrays["timestamp"] = (arrays["frame_index"] / fps).astype(np.float32)
    arrays["episode_index"] = np.full(n, ep, dtype=np.int64)
    arrays["index"] = np.arange(start, start + n, dtype=np.int64)
    arrays["task_index"] = task_map[staged.task_ids] if n else np.zeros(0, np.int64)
    chunk, file = layout.first_free_slot(root, new.used_slots(), new.chunks_size)
    row = episode_row(new, ep, arrays, [staged.tasks[i] for i in _first_seen(staged.task_ids)], (chunk, file),
                      {k: (chunk, file, 0.0) for k in new.video_keys}, start, staged.video_stats)
    for key in new.video_keys:
        if "info" not in new.features[key]:
            new.features[key]["info"] = video_info(staged.video_file(key))
    new.episodes.append(row)
    new.extras.append({"uuid": staged.token, **staged.extra})
    new.refresh_totals(added_stats=st.unflatten(row))
    txn = Transaction(root, fsync=fsync)
    try:
        txn.put(layout.data_relpath(new.info, chunk, file), table_bytes(data_table(arrays, new.features)))
        for key in new.video_keys:
            txn.move(staged.video_file(key).relative_to(root).as_posix(),
                     layout.video_relpath(new.info, key, chunk, file))
        for rel, data in new.files():
            txn.put(rel, data)
        txn.remove(staged.dir.relative_to(root).as_posix())
    except BaseException:
        txn.abort()
        raise
    txn.commit()
    return new


def _first_seen(ids: np.ndarray) -> list[int]:
    _, first = np.unique(ids, return_index=True)
    return [int(ids[i]) for i in sorted(first)]


def episode_row(meta: Meta, ep: int, arrays: dict[str, np.ndarray], tasks: list[str], data_slot: tuple[int, int],
                videos: dict[str, tuple[int, int, float]], start: int, video_stats: dict[str, st.Stats]) -> dict:
    """lerobot's episode row: where the frames and videos are, and the episode's stats.
    videos: key -> (chunk, file, from_timestamp)."""
    n, fps = len(arrays["index"]), meta.fps
    row = {"episode_index": ep, "tasks": list(tasks), "length": n,
           "data/chunk_index": data_slot[0], "data/file_index": data_slot[1],
           "dataset_from_index": start, "dataset_to_index": start + n}
    for key, (chunk, file, t0) in videos.items():
        row[f"videos/{key}/chunk_index"] = chunk
        row[f"videos/{key}/file_index"] = file
        row[f"videos/{key}/from_timestamp"] = float(t0)
        row[f"videos/{key}/to_timestamp"] = float(t0 + n / fps)
    ep_stats = {k: (video_stats[k] if ft["dtype"] == "video" else st.vector_stats(arrays[k]))
                for k, ft in meta.features.items()}
    row.update(st.flatten(ep_stats, {k: ft["dtype"] for k, ft in meta.features.items()}))
    return row
