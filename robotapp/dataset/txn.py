"""Transactions: a set of file replacements, moves and removals that lands all together or not at all.

New contents are first written (and fsynced) inside .robotapp/txn/<id>/; then journal.json, listing the
operations, is written atomically: that is the commit point. The operations are applied in order and the
folder removed. If the process dies in between, `roll_forward` (run whenever the dataset is next opened for
writing) applies the journal again: every operation is idempotent —
  put    txn/<id>/<n> -> PATH    done when the source is gone (it only ever moves once)
  move   SRC -> DEST              done when DEST exists (DEST is always a fresh place: a new slot, the trash)
  remove PATH                     done when PATH is gone
and a path is touched by at most one operation per transaction, so replaying never undoes a later step.
A transaction without a journal was never committed and is simply deleted."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from robotapp.dataset import layout
from robotapp.dataset.fsutil import atomic_write_json, fsync_path, remove_path, write_file


class Transaction:
    def __init__(self, root: Path, *, fsync: bool = True):
        self.root = Path(root)
        self.id = uuid.uuid4().hex[:12]
        self.dir = self.root / layout.TXN / self.id
        self.fsync = fsync
        self.ops: list[list[str]] = []
        self._touched: set[str] = set()
        self._n = 0

    def _claim(self, *paths: str) -> None:
        for p in paths:
            if p in self._touched:
                raise RuntimeError(f"transaction touches {p} twice")
            self._touched.add(p)

    def put(self, relpath: str, data: bytes | None) -> None:
        """Replace (or create) PATH with these bytes; None removes PATH."""
        if data is None:
            self.remove(relpath)
            return
        self._claim(relpath)
        self._n += 1
        src = self.dir / f"{self._n:04d}"
        write_file(src, data, fsync=self.fsync)
        self.ops.append(["put", src.relative_to(self.root).as_posix(), relpath])

    def new_file(self) -> Path:
        """A path inside the transaction folder to write a large file into (then `put_file` it)."""
        self._n += 1
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir / f"{self._n:04d}"

    def put_file(self, prepared: Path, relpath: str) -> None:
        """Replace (or create) PATH with a file written at `new_file()` (fsynced by the caller)."""
        self._claim(relpath)
        self.ops.append(["put", Path(prepared).relative_to(self.root).as_posix(), relpath])

    def move(self, src_rel: str, dest_rel: str) -> None:
        """Move a file or folder to a place that does not exist yet."""
        self._claim(src_rel, dest_rel)
        self.ops.append(["move", src_rel, dest_rel])

    def remove(self, relpath: str) -> None:
        self._claim(relpath)
        self.ops.append(["remove", relpath])

    def commit(self) -> None:
        if not self.ops:
            remove_path(self.dir)
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.dir / "journal.json", {"ops": self.ops}, fsync=self.fsync)
        apply_ops(self.root, self.ops, fsync=self.fsync)
        remove_path(self.dir)

    def abort(self) -> None:
        remove_path(self.dir)


def apply_ops(root: Path, ops: list[list[str]], *, fsync: bool = True) -> None:
    dirs: set[Path] = set()
    for op in ops:
        kind = op[0]
        if kind == "put":
            src, dest = root / op[1], root / op[2]
            if src.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
                dirs.add(dest.parent)
        elif kind == "move":
            src, dest = root / op[1], root / op[2]
            if not dest.exists() and src.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                if src.is_dir():
                    shutil.move(src, dest)
                else:
                    os.replace(src, dest)
                dirs.update({dest.parent, src.parent})
        elif kind == "remove":
            path = root / op[1]
            if path.exists():
                remove_path(path)
                dirs.add(path.parent)
        else:
            raise RuntimeError(f"unknown transaction operation {op!r}")
    if fsync:
        for d in dirs:
            if d.exists():
                fsync_path(d)


def roll_forward(root: Path, *, fsync: bool = True) -> list[str]:
    """Finish committed transactions, drop uncommitted ones; plain-words notes of what was done."""
    notes = []
    base = Path(root) / layout.TXN
    if not base.is_dir():
        return notes
    for d in sorted(base.iterdir()):
        journal = d / "journal.json"
        if journal.is_file():
            try:
                ops = json.loads(journal.read_text())["ops"]
            except (OSError, ValueError, KeyError):
                ops = None
            if ops is not None:
                apply_ops(Path(root), ops, fsync=fsync)
                notes.append(f"finished an interrupted change to the dataset ({len(ops)} file operations)")
        remove_path(d)
    return notes
