"""Deleting episodes into a trash you can restore from, and purging it.

`delete_episodes` moves each episode to .robotapp/trash/<id>/ — its frames (data.parquet), its row (with stats),
its task strings, our extra metadata and one mp4 per camera — and renumbers the episodes after it, in one
transaction. A video file that only this episode uses is moved as is; a file shared with other episodes (lerobot
packs several per file) stays, and the trash gets a re-encoded copy of the episode's window. `restore` appends
trashed episodes at the end of the dataset (their old place may be taken); `purge` deletes trash for good."""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from robotapp.dataset import layout
from robotapp.dataset.datafile import column_to_numpy, data_table, frame_columns, table_bytes
from robotapp.dataset.edit import ArrayCache, Planned, edit_session, rebuild
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.fsutil import fsync_path, json_bytes, remove_path
from robotapp.dataset.meta import Meta
from robotapp.dataset.txn import Transaction
from robotapp.dataset.video import VideoFileWriter, VideoSettings, iter_window


@dataclass(frozen=True)
class TrashEntry:
    id: str
    original_index: int
    length: int
    tasks: list[str]
    deleted_at: str
    path: Path


def delete_episodes(root: str | Path, episodes: list[int]) -> list[str]:
    """Move these episodes to the trash; returns the trash ids (in the order given)."""
    with edit_session(root, "delete episodes") as meta:
        wanted = sorted(set(int(e) for e in episodes))
        if not wanted:
            raise DatasetError("no episode to delete")
        bad = [e for e in wanted if not 0 <= e < len(meta.episodes)]
        if bad:
            raise DatasetError(f"episode {bad[0]} does not exist in {meta.root} ({len(meta.episodes)} episodes)")
        txn = Transaction(meta.root)
        try:
            cache = ArrayCache(meta)
            users = _video_users(meta)
            stamp = _dt.datetime.now(_dt.UTC)
            ids = {}
            for ep in wanted:
                ids[ep] = f"{stamp:%Y%m%dT%H%M%S}-ep{ep:05d}-{uuid.uuid4().hex[:6]}"
                _trash_episode(meta, ep, ids[ep], stamp, cache, users, txn)
            plans = [Planned(r, meta.extras[i]) for i, r in enumerate(meta.episodes) if i not in ids]
            rebuild(meta, plans, txn, cache)
        except BaseException:
            txn.abort()
            raise
        txn.commit()
        return [ids[int(e)] for e in dict.fromkeys(episodes)]


def _video_users(meta: Meta) -> dict[Path, int]:
    users: dict[Path, int] = {}
    for r in meta.episodes:
        for key in meta.video_keys:
            users[meta.video_path(r, key)] = users.get(meta.video_path(r, key), 0) + 1
    return users


def _trash_episode(meta: Meta, ep: int, tid: str, stamp, cache: ArrayCache, users: dict[Path, int],
                   txn: Transaction) -> None:
    row = meta.episodes[ep]
    base = f"{layout.TRASH}/{tid}"
    arrays = cache.episode(row)
    n = int(row["length"])
    videos = {}
    for key in meta.video_keys:
        path = meta.video_path(row, key)
        t0 = float(row[f"videos/{key}/from_timestamp"])
        if users[path] == 1:
            txn.move(path.relative_to(meta.root).as_posix(), f"{base}/{key}.mp4")
            videos[key] = {"file": f"{key}.mp4", "from_timestamp": t0}
        else:  # shared with other episodes: keep it, trash a copy of the window
            copy_path = txn.new_file()
            codec = "h264" if meta.features[key].get("info", {}).get("video.codec") == "h264" else "av1"
            h, w = meta.features[key]["shape"][:2]
            writer = VideoFileWriter(copy_path, meta.fps, h, w, VideoSettings(codec))
            for _, img in iter_window(path, t0, n, meta.fps):
                writer.write(img)
            writer.close()
            fsync_path(copy_path)
            txn.put_file(copy_path, f"{base}/{key}.mp4")
            videos[key] = {"file": f"{key}.mp4", "from_timestamp": 0.0}
    record = {"format": 1, "original_index": ep, "deleted_at": stamp.isoformat(timespec="seconds"),
              "length": n, "row": row, "extra": meta.extras[ep], "tasks": meta.tasks, "videos": videos}
    txn.put(f"{base}/episode.json", json_bytes(record))
    txn.put(f"{base}/data.parquet", table_bytes(data_table(arrays, meta.features)))


def list_trash(root: str | Path) -> list[TrashEntry]:
    base = Path(root) / layout.TRASH
    out = []
    for d in sorted(base.iterdir()) if base.is_dir() else []:
        if d.name.startswith(".") or not (d / "episode.json").is_file():
            continue
        rec = json.loads((d / "episode.json").read_text())
        out.append(TrashEntry(d.name, int(rec["original_index"]), int(rec["length"]), list(rec["row"]["tasks"]),
                              rec["deleted_at"], d))
    return out


def _resolve(root: Path, ids: list[str] | None) -> list[TrashEntry]:
    entries = list_trash(root)
    if ids is None:
        return entries
    by_id = {e.id: e for e in entries}
    out = []
    for i in ids:
        if i not in by_id:
            raise DatasetError(f"trash of {root} has no entry {i!r} (see `robotapp dataset trash {root}`)")
        out.append(by_id[i])
    return out


def restore(root: str | Path, ids: list[str] | None = None) -> list[int]:
    """Put trashed episodes back (all of them when ids is None), at the end; returns their new indices."""
    root = Path(root)
    with edit_session(root, "restore episodes") as meta:
        entries = _resolve(root, ids)
        if not entries:
            raise DatasetError(f"the trash of {root} is empty")
        txn = Transaction(meta.root)
        try:
            plans = [Planned(r, meta.extras[i]) for i, r in enumerate(meta.episodes)]
            for e in entries:
                plans.append(_restore_plan(meta, e))
            rebuild(meta, plans, txn)
            for e in entries:
                txn.remove(e.path.relative_to(root).as_posix())
        except BaseException:
            txn.abort()
            raise
        txn.commit()
        return list(range(len(meta.episodes), len(meta.episodes) + len(entries)))


def _restore_plan(meta: Meta, entry: TrashEntry) -> Planned:
    rec = json.loads((entry.path / "episode.json").read_text())
    row, n = dict(rec["row"]), int(rec["length"])
    table = pq.read_table(entry.path / "data.parquet")
    arrays = {k: column_to_numpy(table.column(k), meta.features[k]) for k in frame_columns(meta.features)}
    old_tasks = rec["tasks"]
    task_map = np.array([meta.task_index(t) for t in old_tasks], dtype=np.int64)
    arrays["task_index"] = task_map[arrays["task_index"]]
    moves = {}
    for key in meta.video_keys:
        v = rec["videos"].get(key)
        if v is None or not (entry.path / v["file"]).is_file():
            raise DatasetError(f"trash entry {entry.id} has no video for {key}")
        moves[key] = (entry.path / v["file"]).relative_to(meta.root).as_posix()
        row[f"videos/{key}/from_timestamp"] = float(v["from_timestamp"])
        row[f"videos/{key}/to_timestamp"] = float(v["from_timestamp"]) + n / meta.fps
    return Planned(row, dict(rec.get("extra") or {}), arrays, moves, is_new=True)


def purge(root: str | Path, ids: list[str] | None = None) -> int:
    """Delete trash entries for good (all when ids is None); returns how many."""
    root = Path(root)
    with edit_session(root, "purge the trash"):
        entries = _resolve(root, ids)
        for e in entries:
            doomed = e.path.with_name(f".purging-{e.id}")
            e.path.rename(doomed)
            remove_path(doomed)
        return len(entries)
