"""A corpus of hostile datasets: each case takes a copy of a clean dataset and makes its metadata point outside
the folder (templates, feature keys, episode rows, symlinks, trash entries, transaction journals, staged episodes)
or break the rules every open relies on (version, fps, truncated files).

Layout of one case: WORLD/ds is the dataset, WORLD/outside a folder beside it holding victim.txt (what a hostile
path would delete, move or overwrite) and copies of the dataset's own files (so that a followed path would "work").
`snapshot(WORLD)` records every file, folder and link, so a test can show that nothing changed anywhere."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from robotapp.dataset.trash import delete_episodes, list_trash

from . import synth

FRONT = "observation.images.front"
ALL = ("check", "info", "delete", "trim", "restore", "merge", "push", "record", "train", "replay")


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[Path, Path], None]  # (dataset, outside)
    needles: tuple[str, ...]  # every one appears in the error line
    commands: tuple[str, ...] = ALL  # the commands that must refuse it
    gui: bool = True  # the Dataset page refuses it too
    trash: bool = False  # built from the dataset with one episode in the trash
    extra: dict = field(default_factory=dict)


def make_base(root: Path, *, with_trash: bool = False) -> Path:
    synth.make_dataset(root, episodes=3, h=32, w=48, codec="h264", base_len=8)
    if with_trash:
        delete_episodes(root, [2])
    return root


def snapshot(world: Path) -> dict[str, str]:
    out = {}
    for top, dirs, files in os.walk(world):
        for name in dirs + files:
            p = Path(top) / name
            rel = p.relative_to(world).as_posix()
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha1(p.read_bytes()).hexdigest()
    return out


# -- small editors -------------------------------------------------------------------------------------------
def edit_info(fn):
    def mutate(ds: Path, outside: Path) -> None:
        path = ds / "meta/info.json"
        info = json.loads(path.read_text())
        fn(info, outside)
        path.write_text(json.dumps(info))
    return mutate


def edit_rows(fn):
    def mutate(ds: Path, outside: Path) -> None:
        path = ds / "meta/episodes/chunk-000/file-000.parquet"
        rows = pq.read_table(path).to_pylist()
        fn(rows)
        pq.write_table(pa.Table.from_pylist(rows), path)
    return mutate


def truncate(rel: str):
    def mutate(ds: Path, outside: Path) -> None:
        data = (ds / rel).read_bytes()
        (ds / rel).write_bytes(data[:len(data) // 2])
    return mutate


def link_out(rel: str):
    """Move ds/rel to outside/ and leave a symlink to it in its place: the dataset 'works', from elsewhere."""
    def mutate(ds: Path, outside: Path) -> None:
        dest = outside / Path(rel).name
        shutil.move(ds / rel, dest)
        os.symlink(dest, ds / rel)
    return mutate


def journal(ops):
    def mutate(ds: Path, outside: Path) -> None:
        d = ds / ".robotapp/txn/abc123"
        d.mkdir(parents=True)
        (d / "journal.json").write_text(json.dumps({"ops": ops(outside)}))
    return mutate


def rename_camera(new: str):
    def mutate(ds: Path, outside: Path) -> None:
        path = ds / "meta/info.json"
        info = json.loads(path.read_text())
        info["features"] = {new if k == FRONT else k: v for k, v in info["features"].items()}
        path.write_text(json.dumps(info))
    return mutate


def trash_record(fn):
    def mutate(ds: Path, outside: Path) -> None:
        entry = list_trash(ds)[0].path
        rec = json.loads((entry / "episode.json").read_text())
        fn(rec, outside)
        (entry / "episode.json").write_text(json.dumps(rec))
    return mutate


def trash_link_out(ds: Path, outside: Path) -> None:
    entry = list_trash(ds)[0].path
    dest = outside / entry.name
    shutil.move(entry, dest)
    os.symlink(dest, entry)


def staged_link_out(ds: Path, outside: Path) -> None:
    stage = outside / "stage"
    stage.mkdir()
    (stage / "episode.json").write_text(json.dumps({"length": 1, "tasks": ["x"]}))
    (ds / ".robotapp/staging").mkdir(parents=True, exist_ok=True)
    os.symlink(stage, ds / ".robotapp/staging/000009-abcdef12")


def _set(key, value):
    return edit_info(lambda info, out: info.__setitem__(key, value(out) if callable(value) else value))


CASES = [
    Case("data_path climbs out", _set("data_path", "../outside/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"),
         ("meta/info.json", "data_path", "outside the dataset")),
    Case("data_path absolute", _set("data_path", lambda out: f"{out}/file-{{file_index:03d}}.parquet"),
         ("meta/info.json", "data_path", "outside the dataset")),
    Case("data_path reads attributes", _set("data_path", "data/{chunk_index.__class__}/f.parquet"),
         ("meta/info.json", "data_path", "{chunk_index}")),
    Case("data_path giant width", _set("data_path", "data/{chunk_index:999999999}/f.parquet"),
         ("meta/info.json", "data_path")),
    Case("video_path climbs out", _set("video_path", "videos/{video_key}/../../../outside/{chunk_index}.mp4"),
         ("meta/info.json", "video_path", "outside the dataset")),
    Case("video_path absolute", _set("video_path", lambda out: f"{out}/{{video_key}}-{{file_index}}.mp4"),
         ("meta/info.json", "video_path", "outside the dataset")),
    Case("camera key climbs out", rename_camera("observation.images.x/../../outside"),
         ("meta/info.json", "observation.images.x/../../outside")),
    Case("camera key is dots", rename_camera(".."), ("meta/info.json", "'..'")),
    Case("episode row path as text", edit_rows(lambda rows: [r.update({"data/chunk_index": "../../x"}) for r in rows]),
         ("meta/episodes", "episode 0", "data/chunk_index")),
    Case("episode row negative file", edit_rows(lambda rows: rows[1].update({f"videos/{FRONT}/file_index": -1})),
         ("meta/episodes", "episode 1", "file_index")),
    Case("symlinked data folder", link_out("data/chunk-000"), ("data/chunk-000", "symlink")),
    Case("symlinked videos folder", link_out("videos"), ("videos", "symlink")),
    Case("symlinked video file", link_out(f"videos/{FRONT}/chunk-000/file-001.mp4"),
         ("file-001.mp4", "symlink")),
    Case("symlinked info.json", link_out("meta/info.json"), ("meta/info.json", "symlink")),
    Case("symlinked private folder", link_out(".robotapp"), (".robotapp", "symlink")),
    Case("journal deletes outside", journal(lambda out: [["remove", "../outside/victim.txt"]]),
         ("journal.json", "victim.txt", "outside the dataset")),
    Case("journal moves a file in", journal(lambda out: [["move", str(out / "victim.txt"), "data/stolen.parquet"]]),
         ("journal.json", "victim.txt", "outside the dataset")),
    Case("journal puts over outside", journal(lambda out: [["put", ".robotapp/txn/abc123/0001",
                                                             "../outside/victim.txt"]]),
         ("journal.json", "victim.txt", "outside the dataset")),
    Case("staged episode symlinked out", staged_link_out, ("staging", "symlink")),
    Case("trash video file climbs out", trash_record(
        lambda rec, out: rec["videos"][FRONT].update(file="../../../../outside/victim.txt")),
         ("episode.json", "victim.txt", "outside the dataset"), commands=("restore",), gui=False, trash=True),
    Case("trash entry symlinked out", trash_link_out, ("trash", "symlink"), commands=("info", "restore"),
         trash=True),
    Case("trash record garbage", trash_record(lambda rec, out: rec.update(length="lots")),
         ("episode.json", "length"), commands=("info", "restore"), trash=True),
    Case("codebase v2.1", _set("codebase_version", "v2.1"), ("meta/info.json", "v2.1", "convert")),
    Case("codebase unknown", _set("codebase_version", "v9.9"), ("meta/info.json", "codebase_version")),
    Case("fps zero", _set("fps", 0), ("meta/info.json", "fps")),
    Case("fps negative", _set("fps", -30), ("meta/info.json", "fps")),
    Case("fps a string", _set("fps", "30"), ("meta/info.json", "fps")),
    Case("features a list", _set("features", ["action"]), ("meta/info.json", "features")),
    Case("feature shape negative", edit_info(lambda info, out: info["features"]["action"].update(shape=[-6])),
         ("meta/info.json", "action", "shape")),
    Case("total_episodes a string", _set("total_episodes", "many"), ("meta/info.json", "total_episodes")),
    Case("info.json truncated", truncate("meta/info.json"), ("meta/info.json",)),
    Case("episodes file truncated", truncate("meta/episodes/chunk-000/file-000.parquet"), ("meta/episodes",)),
]


def build(case: Case, world: Path, clean: Path, clean_trash: Path) -> Path:
    """WORLD/ds (the hostile dataset) and WORLD/outside; returns WORLD/ds."""
    world.mkdir(parents=True, exist_ok=True)
    ds = world / "ds"
    shutil.copytree(clean_trash if case.trash else clean, ds, symlinks=True)
    outside = world / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("must survive")
    case.mutate(ds, outside)
    return ds
