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

import os
import re
import string
from pathlib import Path

from robotapp.dataset.errors import DatasetError

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


_TEMPLATE_FIELDS = {"data_path": {"chunk_index", "file_index"},
                    "video_path": {"video_key", "chunk_index", "file_index"}}
_SPEC_RE = re.compile(r"0?[0-9]{0,2}d?")  # ":03d" and the like; nothing that could build a huge string


def check_template(name: str, template, source: str = INFO) -> None:
    """info.json's data_path / video_path: a relative path template using only its own fields with a plain
    integer format, that cannot climb out of the dataset whatever the values (str.format on an untrusted
    template could otherwise read attributes or build gigabyte strings)."""
    if not isinstance(template, str) or not template:
        raise DatasetError(f"{source}: '{name}' is {template!r}, not a path template")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise DatasetError(f"{source}: '{name}' {template!r} is not a valid template ({e})") from None
    for _, field, spec, conv in parts:
        if field is None:
            continue
        if field not in _TEMPLATE_FIELDS[name] or conv or not _SPEC_RE.fullmatch(spec or ""):
            raise DatasetError(f"{source}: '{name}' {template!r} may only use "
                               f"{', '.join('{' + f + '}' for f in sorted(_TEMPLATE_FIELDS[name]))}")
    sample = template.format(video_key="k", chunk_index=0, file_index=0)
    check_relpath(sample, f"'{name}' {template!r}", source)


def check_relpath(rel: str, what: str, source: str) -> None:
    """A path read from a file of the dataset: relative, no '..', no backslash or NUL; else one line that
    names the field and the file it came from."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel:
        raise DatasetError(f"{source}: {what} is not a usable path ({rel!r})")
    if rel.startswith("/") or ".." in rel.split("/"):
        raise DatasetError(f"{source}: {what} points outside the dataset folder ({rel!r})")


def inside(root: Path, rel: str, what: str, source: str, dirs: dict[str, str] | None = None) -> Path:
    """The one gate for paths that come from a dataset's own files (templates, feature keys, episode rows,
    trash entries, transaction journals): the path under `root`, refused when it is absolute, climbs with
    '..', or leads out of `root` through a symlink. `dirs` caches resolved folders for one batch of paths
    (a Meta's 1000 episodes x 4 files then take about a quarter of the time)."""
    check_relpath(rel, what, source)
    path = os.path.join(root, rel)
    if dirs is None:
        real_root, real = os.path.realpath(root), os.path.realpath(path)
    else:
        real_root = dirs.get("") or dirs.setdefault("", os.path.realpath(root))
        parent, name = os.path.split(path)
        if parent not in dirs:
            dirs[parent] = os.path.realpath(parent)
        real = os.path.realpath(path) if name in ("", ".") or os.path.islink(path) else \
            os.path.join(dirs[parent], name)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise DatasetError(f"{source}: {what} leads outside the dataset folder through a symlink "
                           f"({path} -> {real})")
    return Path(path)


def check_links(root: Path) -> None:
    """Every symlink anywhere in the folder stays inside it (for a folder that just arrived, e.g. from the Hub)."""
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(top) / name
            if path.is_symlink():
                rel = path.relative_to(root).as_posix()
                inside(root, rel, "this symlink", rel)


def is_dataset(root: str | Path) -> bool:
    """Whether the folder holds a dataset (its info.json); says nothing of whether it is a sound one."""
    return (Path(root) / INFO).is_file()


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
    """Every data parquet and video mp4 present, referenced or not (a folder symlinked out of the dataset is
    refused: recovery would otherwise move files in from elsewhere)."""
    found = []
    for top, pattern in (("data", "*/*.parquet"), ("videos", "*/*/*.mp4")):
        if (root / top).is_dir():
            inside(root, top, f"the folder {top}/", top)
            found += [inside(root, p.relative_to(root).as_posix(), "this file", p.relative_to(root).as_posix())
                      for p in (root / top).glob(pattern)]
    return sorted(found)


def first_free_slot(root: Path, used: list[tuple[int, int]], chunks_size: int) -> tuple[int, int]:
    """A slot after every slot in use and every file on disk, so a new file never lands on an old one and
    sorts after all existing data files."""
    slots = list(used) + [s for s in (slot_of(p) for p in files_on_disk(root)) if s is not None]
    return next_slot(max(slots), chunks_size) if slots else (0, 0)
