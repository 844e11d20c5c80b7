"""A dataset that was created and never got an episode: what a recording that failed or was stopped (or killed)
before its first episode was saved leaves. It holds nothing anybody could want, so it counts as an empty folder:
a new recording may start there (`DatasetWriter.create(replace_unused=True)`), and a writer that created it
removes it again when it closes without having saved an episode (`remove_if_unused=True`).

"Unused" is checked file by file: meta/info.json saying 0 episodes, the private folder's lock files and staged
episodes that never got their record (recovery would discard them), and nothing else at all. Anything more (a
saved or trashed episode, a pending transaction, a file of the user's) and the folder is a dataset that needs
--resume, or is not ours to touch."""

from __future__ import annotations

import json
import os
from pathlib import Path

from robotapp.dataset import layout
from robotapp.dataset.fsutil import remove_path
from robotapp.dataset.publish import RECORD

_PRIVATE_FILES = {f"{layout.PRIVATE}/lock", f"{layout.PRIVATE}/encoders.lock"}
_WRITER_TOP = ("meta", layout.PRIVATE)  # all a writer makes before its first episode is published


def is_unused_dataset(root: str | Path) -> bool:
    """Whether the folder holds a dataset with no episode and nothing else (see the module's docstring)."""
    root = Path(root)
    try:
        info = json.loads((root / layout.INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(info, dict) or info.get("total_episodes") != 0 or root.is_symlink():
        return False
    for top, dirs, files in os.walk(root):
        base = Path(top).relative_to(root)
        for name in dirs:
            rel = (base / name).as_posix()
            if (root / rel).is_symlink() or not (rel in _WRITER_TOP or rel.startswith(f"{layout.PRIVATE}/")):
                return False
        for name in files:
            if not _writer_file((base / name).as_posix()) or (Path(top) / name).is_symlink():
                return False
    return True


def _writer_file(rel: str) -> bool:
    if rel == layout.INFO or rel in _PRIVATE_FILES:
        return True
    parts = rel.split("/")  # .robotapp/staging/<episode>/<file>: an episode never saved
    return (len(parts) == 4 and "/".join(parts[:2]) == layout.STAGING and parts[3] != RECORD)


def clear_unused(root: str | Path, *, keep_lock: bool) -> None:
    """Remove what a writer put in the folder of an unused dataset (the caller holds the dataset's lock and has
    checked is_unused_dataset): meta/ and the private folder, whose lock file stays with keep_lock."""
    root = Path(root)
    remove_path(root / layout.INFO)  # first: from here on the folder holds no dataset
    remove_path(root / "meta")
    private = root / layout.PRIVATE
    if not keep_lock:
        remove_path(private)
        return
    for path in private.iterdir() if private.is_dir() else ():
        if path.name != "lock":
            remove_path(path)
