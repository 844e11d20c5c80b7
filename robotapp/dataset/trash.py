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
import pyarrow as pa
import pyarrow.parquet as pq

from robotapp.dataset import layout
from robotapp.dataset.datafile import column_to_numpy, data_table, frame_columns, table_bytes
from robotapp.dataset.edit import ArrayCache, Planned, edit_session, rebuild
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.fsutil import fsync_path, json_bytes, remove_path
from robotapp.dataset.meta import Meta, validate_row
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
    recorded_at: str = ""  # from the episode's extra metadata, when it has one: a name that outlives renumbering


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
    root = Path(root)
    base = root / layout.TRASH
    out = []
    for d in sorted(base.iterdir()) if base.is_dir() else []:
        rel = d.relative_to(root).as_posix()
        if d.name.startswith(".") or not (d / "episode.json").is_file():
            continue
        layout.inside(root, f"{rel}/episode.json", "the trash record", rel)
        rec = _record(d)
        extra = rec.get("extra") if isinstance(rec.get("extra"), dict) else {}
        recorded = extra.get("recorded_at") if isinstance(extra.get("recorded_at"), str) else ""
        out.append(TrashEntry(d.name, rec["original_index"], rec["length"], list(rec["row"]["tasks"]),
                              rec["deleted_at"], d, recorded))
    return out


def _record(d: Path) -> dict:
    """A trash entry's episode.json, checked: it came from disk, and a hostile one must stay inert."""
    source = f"{layout.TRASH}/{d.name}/episode.json"
    try:
        rec = json.loads((d / "episode.json").read_text())
    except (OSError, ValueError) as e:
        raise DatasetError(f"{source} cannot be read as JSON ({e})") from None
    if not isinstance(rec, dict):
        raise DatasetError(f"{source} is not a JSON object")
    for key, kind in (("original_index", int), ("length", int), ("deleted_at", str), ("row", dict),
                      ("tasks", list), ("videos", dict)):
        if not isinstance(rec.get(key), kind) or isinstance(rec.get(key), bool):
            raise DatasetError(f"{source}: '{key}' is {rec.get(key)!r}, not a{'n' if kind is int else ''} "
                               f"{kind.__name__}")
    if rec["length"] <= 0 or not all(isinstance(t, str) for t in rec["tasks"]):
        raise DatasetError(f"{source}: 'length' must be > 0 and 'tasks' a list of strings")
    if not isinstance(rec["row"].get("tasks"), list):
        raise DatasetError(f"{source}: 'row' has no list of 'tasks'")
    return rec


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
    rec = _record(entry.path)
    source = f"{layout.TRASH}/{entry.id}"
    row, n = dict(rec["row"]), rec["length"]
    validate_row(row, rec["original_index"], meta.features, f"{source}/episode.json 'row'")
    try:
        table = pq.read_table(entry.path / "data.parquet")
        arrays = {k: column_to_numpy(table.column(k), meta.features[k]) for k in frame_columns(meta.features)}
    except (OSError, KeyError, ValueError, pa.ArrowException) as e:
        raise DatasetError(f"{source}/data.parquet does not hold this dataset's frames ({e})") from None
    old_tasks = rec["tasks"]
    if len(arrays["index"]) != n or (n and not 0 <= arrays["task_index"].min() <= arrays["task_index"].max()
                                     < len(old_tasks)):
        raise DatasetError(f"{source}/data.parquet: {len(arrays['index'])} frames with task indexes that do not "
                           f"match the record ({n} frames, {len(old_tasks)} tasks)")
    task_map = np.array([meta.task_index(t) for t in old_tasks], dtype=np.int64)
    arrays["task_index"] = task_map[arrays["task_index"]]
    moves = {}
    for key in meta.video_keys:
        v = rec["videos"].get(key)
        if not isinstance(v, dict) or not isinstance(v.get("from_timestamp"), int | float):
            raise DatasetError(f"trash entry {entry.id} has no video for {key}")
        video = layout.inside(entry.path, v.get("file"), f"'videos' {key} file {v.get('file')!r}",
                              f"{source}/episode.json")
        if not video.is_file():
            raise DatasetError(f"trash entry {entry.id} has no video for {key}")
        moves[key] = video.relative_to(meta.root).as_posix()
        row[f"videos/{key}/from_timestamp"] = float(v["from_timestamp"])
        row[f"videos/{key}/to_timestamp"] = float(v["from_timestamp"]) + n / meta.fps
    extra = rec.get("extra") if isinstance(rec.get("extra"), dict) else {}
    return Planned(row, dict(extra), arrays, moves, is_new=True)


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
