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
from robotapp.dataset.errors import DatasetError
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
        journal = self.dir / "journal.json"
        check_ops(self.root, self.ops, journal.relative_to(self.root).as_posix())
        atomic_write_json(journal, {"ops": self.ops}, fsync=self.fsync)
        apply_ops(self.root, self.ops, fsync=self.fsync)
        remove_path(self.dir)

    def abort(self) -> None:
        remove_path(self.dir)


def check_ops(root: Path, ops, source: str) -> None:
    """Every path of a journal stays inside the dataset (a journal found on disk is as untrusted as the rest of
    the dataset: a hostile one must not move or delete files elsewhere); new contents come from .robotapp/txn."""
    if not isinstance(ops, list):
        raise DatasetError(f"{source}: 'ops' is not a list of operations")
    arity = {"put": 3, "move": 3, "remove": 2}
    for n, op in enumerate(ops):
        if not isinstance(op, list) or not op or arity.get(op[0]) != len(op):
            raise DatasetError(f"{source}: operation {n} {op!r} is not one of put/move/remove with its paths")
        for rel in op[1:]:
            layout.inside(root, rel, f"operation {n} ({op[0]}) path {rel!r}", source)
        if op[0] == "put" and not op[1].startswith(layout.TXN + "/"):
            raise DatasetError(f"{source}: operation {n} puts {op[1]!r}, which is not a prepared file")


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
    layout.inside(root, layout.TXN, "the folder", layout.TXN)
    for d in sorted(base.iterdir()):
        layout.inside(root, d.relative_to(root).as_posix(), "this transaction folder", layout.TXN)
        journal = d / "journal.json"
        if journal.is_file():
            try:
                ops = json.loads(journal.read_text())["ops"]
            except (OSError, ValueError, KeyError, TypeError):
                ops = None
            if ops is not None:
                check_ops(Path(root), ops, journal.relative_to(root).as_posix())  # refuses before any step
                apply_ops(Path(root), ops, fsync=fsync)
                notes.append(f"finished an interrupted change to the dataset ({len(ops)} file operations)")
        remove_path(d)
    return notes
