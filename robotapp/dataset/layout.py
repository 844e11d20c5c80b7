"""Where things live inside a dataset folder.

lerobot's v3.0 files (meta/info.json, meta/stats.json, meta/tasks.parquet, meta/episodes/…, data/…, videos/…)
plus ours, which lerobot ignores: meta/robotapp/episodes.jsonl (our per-episode metadata, travels with the
dataset) and the private .robotapp/ folder (lock, staging of episodes being saved, transactions, trash), which is
never pushed to the Hub.

Episode files: each recorded episode gets its own data file and its own video file per camera, at the next free
(chunk, file) "slot". lerobot's format allows any chunk/file per episode (its own resume does the same); packing
many episodes into one growing file would mean rewriting that file at every episode end, which does not fit in
"durable < 1 s after the episode ends" for 3 cameras on 2 cores. Slots only grow, so the sorted order of data
files is the order of episodes — lerobot concatenates data files in path order and indexes rows by position."""

from __future__ import annotations

import re
from pathlib import Path

CODEBASE_VERSION = "v3.0"
INFO = "meta/info.json"
STATS = "meta/stats.json"
TASKS = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
EPISODES_FILE = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
EXTRAS = "meta/robotapp/episodes.jsonl"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
PRIVATE = ".robotapp"
STAGING = ".robotapp/staging"
TXN = ".robotapp/txn"
TRASH = ".robotapp/trash"
ORPHANS = ".robotapp/orphans"
DEFAULT_CHUNKS_SIZE = 1000
_SLOT_RE = re.compile(r"chunk-(\d+)/file-(\d+)\.(parquet|mp4)$")


def data_relpath(info: dict, chunk: int, file: int) -> str:
    return info.get("data_path", DATA_PATH).format(chunk_index=chunk, file_index=file)


def video_relpath(info: dict, key: str, chunk: int, file: int) -> str:
    return (info.get("video_path") or VIDEO_PATH).format(video_key=key, chunk_index=chunk, file_index=file)


def next_slot(slot: tuple[int, int], chunks_size: int) -> tuple[int, int]:
    chunk, file = slot
    return (chunk + 1, 0) if file >= chunks_size - 1 else (chunk, file + 1)


def slot_of(path: str | Path) -> tuple[int, int] | None:
    m = _SLOT_RE.search(str(path).replace("\\", "/"))
    return (int(m.group(1)), int(m.group(2))) if m else None


def files_on_disk(root: Path) -> list[Path]:
    """Every data parquet and video mp4 present, referenced or not."""
    found = list((root / "data").glob("*/*.parquet")) if (root / "data").is_dir() else []
    if (root / "videos").is_dir():
        found += list((root / "videos").glob("*/*/*.mp4"))
    return sorted(found)


def first_free_slot(root: Path, used: list[tuple[int, int]], chunks_size: int) -> tuple[int, int]:
    """A slot after every slot in use and every file on disk, so a new file never lands on an old one and
    sorts after all existing data files."""
    slots = list(used) + [s for s in (slot_of(p) for p in files_on_disk(root)) if s is not None]
    return next_slot(max(slots), chunks_size) if slots else (0, 0)
