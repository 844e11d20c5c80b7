"""Durable file primitives: atomic replace, fsync of files and directories, and the dataset lock.

A file is replaced by writing a temporary sibling, fsyncing it, os.replace()-ing it over the target and fsyncing
the directory, so a reader sees either the old or the new content and a crash (kill -9, power loss) never
leaves half a file. The lock is an flock on .robotapp/lock: the kernel drops it when the holder dies, so a
killed recorder never leaves a stale lock behind."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path

from robotapp.dataset import layout
from robotapp.dataset.errors import DatasetBusyError

PRIVATE_LOCK = f"{layout.PRIVATE}/lock"


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (directories make renames and new names durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write bytes to a new file (no atomicity: use it for files nobody reads until a later rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
        if fsync:
            f.flush()
            os.fsync(f.fileno())


def atomic_write(path: Path, data: bytes, *, fsync: bool = True) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write_file(tmp, data, fsync=fsync)
    os.replace(tmp, path)
    if fsync:
        fsync_path(path.parent)


def json_bytes(obj, indent: int | None = 4) -> bytes:
    return (json.dumps(obj, indent=indent, ensure_ascii=False) + "\n").encode()


def atomic_write_json(path: Path, obj, *, fsync: bool = True) -> None:
    atomic_write(path, json_bytes(obj), fsync=fsync)


def remove_path(path: Path) -> None:
    """Remove a file or a directory tree; missing is fine (idempotent)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class DatasetLock:
    """Exclusive advisory lock on one dataset, held by a writer or an edit for its whole run."""

    def __init__(self, root: Path):
        self.path = Path(root) / PRIVATE_LOCK
        self._fd: int | None = None

    def acquire(self, *, what: str = "edit") -> DatasetLock:
        """Take the lock or raise DatasetBusyError at once (we never wait on another recorder)."""
        if not self.try_acquire():
            raise DatasetBusyError(f"dataset {self.path.parent.parent} is in use by another writer or edit "
                                   f"(lock {self.path}); close it before you {what}")
        return self

    def try_acquire(self) -> bool:
        root = self.path.parent.parent
        layout.inside(root, PRIVATE_LOCK, "the lock file", PRIVATE_LOCK)  # .robotapp/ must not lead elsewhere
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DatasetLock:
        return self if self.held else self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
