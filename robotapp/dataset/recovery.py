"""Bringing a dataset back to a clean state after a crash (kill -9, power loss) or an interrupted edit.

Run whenever a dataset is opened for writing (and by the reader when nobody holds the dataset):
1. committed transactions are finished, uncommitted ones dropped (txn.py);
2. each staging folder is an episode that did not make it into the dataset: if it has its episode.json (the
   episode was saved and all its files were complete and fsynced) it is checked again and published; if not
   (killed while recording, or while the encoders were flushing) it is discarded, with a note saying so;
3. data and video files that no episode references (never produced by our writer, but left by hand edits or
   other tools) are moved to .robotapp/orphans/, because lerobot reads data files by position.
Every action returns a plain-words note for the user."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

from robotapp.dataset import layout
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.fsutil import remove_path
from robotapp.dataset.meta import Meta, load_meta
from robotapp.dataset.publish import RECORD, SAVING, STAGED_DATA, load_staged, publish
from robotapp.dataset.txn import check_ops, roll_forward
from robotapp.dataset.video import count_frames


def recover(root: Path, *, fsync: bool = True) -> list[str]:
    """The caller holds the dataset lock. Returns what was done, one line each."""
    root = Path(root)
    wait_for_encoders(root)
    notes = roll_forward(root, fsync=fsync)
    meta = load_meta(root)
    staging = root / layout.STAGING
    for stage in sorted(staging.iterdir()) if staging.is_dir() else []:
        layout.inside(root, stage.relative_to(root).as_posix(), "this staged episode", layout.STAGING)
        if not stage.is_dir():
            remove_path(stage)
            continue
        if not (stage / RECORD).is_file():
            if (stage / SAVING).exists() or (stage / STAGED_DATA).exists():
                notes.append(f"discarded an episode that was being saved when the recorder stopped "
                             f"({_frames_hint(stage, meta)}): its files were not complete and on disk yet")
            else:  # the encoders make the folder at the first frame of an episode
                notes.append(f"discarded an unfinished episode ({_frames_hint(stage, meta)}): the recorder stopped "
                             f"before it was saved")
            remove_path(stage)
            continue
        staged, problem = load_staged(stage, meta)
        if staged is None:
            notes.append(f"discarded an episode that was being saved when the recorder stopped: {problem}")
            remove_path(stage)
            continue
        meta = publish(root, meta, staged, fsync=fsync)
        notes.append(f"recovered episode {len(meta.episodes) - 1} ({staged.length} frames) that was being saved "
                     f"when the recorder stopped")
    notes += quarantine_orphans(root, meta)
    return notes


def check_pending(root: Path) -> None:
    """What recovery would act on, checked without acting: the journals of interrupted edits and the staged
    episodes must stay inside the dataset (raises a one-line DatasetError otherwise)."""
    root = Path(root)
    if (root / layout.PRIVATE).exists():
        layout.inside(root, layout.PRIVATE, "the folder", layout.PRIVATE)
    for base in (layout.TXN, layout.STAGING):
        folder = root / base
        if not folder.is_dir():
            continue
        layout.inside(root, base, "the folder", base)
        for d in sorted(folder.iterdir()):
            rel = d.relative_to(root).as_posix()
            layout.inside(root, rel, "this folder", base)
            journal = d / "journal.json"
            if base == layout.TXN and journal.is_file():
                try:
                    ops = json.loads(journal.read_text())["ops"]
                except (OSError, ValueError, KeyError, TypeError):
                    continue  # unreadable: dropped as uncommitted, never applied
                check_ops(root, ops, f"{rel}/journal.json")


def preflight(root: Path) -> Meta:
    """Everything opening the dataset for writing will trust, checked read-only before a rig starts moving:
    info, episode rows, the files they name, pending journals and staged episodes, the private folder."""
    meta = load_meta(root)
    check_pending(root)
    return meta


def referenced_files(meta: Meta) -> set[Path]:
    refs = set()
    for row in meta.episodes:
        refs.add(meta.data_path(row))
        for key in meta.video_keys:
            refs.add(meta.video_path(row, key))
    return refs


def quarantine_orphans(root: Path, meta: Meta) -> list[str]:
    refs = referenced_files(meta)
    notes = []
    for path in layout.files_on_disk(root):
        if path in refs:
            continue
        rel = path.relative_to(root)
        dest = root / layout.ORPHANS / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
        notes.append(f"moved {rel} to {dest.relative_to(root)}: no episode refers to it")
    return notes


def _frames_hint(stage: Path, meta: Meta) -> str:
    counts = []
    for key in meta.video_keys:
        with contextlib.suppress(DatasetError):
            counts.append(count_frames(stage / f"{key}.mp4", fps=meta.fps))
    return f"about {max(counts)} frames" if counts and max(counts) > 0 else "its video was not finished"


def wait_for_encoders(root: Path, timeout: float = 30.0) -> None:
    """An encoder process of a recorder that was just killed may live a few more milliseconds; it holds
    .robotapp/encoders.lock until it is gone, and must not write into staging while we clean it."""
    path = root / layout.PRIVATE / "encoders.lock"
    if not path.exists():
        return
    fd = os.open(path, os.O_RDWR)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DatasetError(f"an encoder process still holds {path}; is a recorder running?") from None
                time.sleep(0.01)
    finally:
        os.close(fd)
