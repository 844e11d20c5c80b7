"""`robotapp dataset check PATH`: info, episodes, data and videos verified against each other.

Read-only. Each problem is one line "<kind>: <where>: <what is wrong>", the kind being a stable name
(info-invalid, data-unreadable, video-frames, ...) so scripts and tests can tell problems apart. Videos are
decoded to count their frames (a frame that does not decode is a problem); --quick only counts packets."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotapp.dataset import layout
from robotapp.dataset import stats as st
from robotapp.dataset.datafile import column_to_numpy, frame_columns
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.meta import read_episode_rows, read_tasks, validate_info, validate_row
from robotapp.dataset.recovery import check_pending
from robotapp.dataset.video import count_frames, open_video

TS_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Problem:
    kind: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.what}"


class _Checker:
    def __init__(self, root: Path, quick: bool):
        self.root, self.quick = root, quick
        self.problems: list[Problem] = []

    def add(self, kind: str, where: str, what: str) -> None:
        self.problems.append(Problem(kind, where, what))

    def rel(self, p: Path) -> str:
        try:
            return Path(p).relative_to(self.root).as_posix()
        except ValueError:
            return str(p)

    def run(self) -> list[Problem]:
        if not self.root.is_dir():
            self.add("dataset-missing", str(self.root), "this is a file, not a dataset folder" if
                     self.root.exists() else "the folder does not exist")
            return self.problems
        info = self.info()
        if info is None:
            return self.problems
        self.features, self.fps = info["features"], int(info["fps"])
        self.video_keys = [k for k, ft in self.features.items() if ft.get("dtype") == "video"]
        empty = not info["total_episodes"] and not list((self.root / layout.EPISODES_DIR).glob("*/*.parquet"))
        self.tasks = [] if empty and not (self.root / layout.TASKS).exists() else self.check_tasks()
        rows = [] if empty else self.check_episodes(info)
        if rows is None:
            return self.problems
        self.check_data(info, rows)
        self.check_videos(info, rows)
        self.check_stats(info, rows)
        self.check_leftovers(info, rows)
        return self.problems

    # -- info ------------------------------------------------------------------------------------------------
    def info(self) -> dict | None:
        path = self.root / layout.INFO
        if not path.is_file():
            self.add("info-missing", layout.INFO, "the file is missing; this is not a LeRobot dataset")
            return None
        try:
            layout.inside(self.root, layout.INFO, "the file", layout.INFO)
            info = json.loads(path.read_text())
        except ValueError as e:  # a DatasetError too
            self.add("info-invalid", layout.INFO, f"not valid JSON ({e})" if not isinstance(e, DatasetError)
                     else str(e))
            return None
        try:
            validate_info(info, layout.INFO)
        except DatasetError as e:
            what = str(e).removeprefix(f"{layout.INFO}: ")
            self.add("features-invalid" if what.startswith("'features'") else "info-invalid", layout.INFO, what)
            return None
        return info

    def path(self, rel: str, where: str) -> Path | None:
        """A file named by the metadata, or None (and a problem) when it would lead outside the dataset."""
        try:
            return layout.inside(self.root, rel, f"the file {rel}", where)
        except DatasetError as e:
            self.add("path-unsafe", where, str(e).removeprefix(f"{where}: "))
            return None

    def check_tasks(self) -> list[str]:
        if not (self.root / layout.TASKS).is_file():
            self.add("tasks-missing", layout.TASKS, "the file is missing")
            return []
        try:
            tasks = read_tasks(self.root)
        except DatasetError as e:
            self.add("tasks-invalid", layout.TASKS, str(e))
            return []
        if len(set(tasks)) != len(tasks):
            self.add("tasks-invalid", layout.TASKS, "the same task string appears twice")
        return tasks

    # -- episodes --------------------------------------------------------------------------------------------
    def check_episodes(self, info: dict) -> list[dict] | None:
        if not list((self.root / layout.EPISODES_DIR).glob("*/*.parquet")):
            if info["total_episodes"]:
                self.add("episodes-missing", layout.EPISODES_DIR, "no episode metadata file, but info.json "
                                                                  f"says {info['total_episodes']} episodes")
            return None
        try:
            rows = read_episode_rows(self.root)
        except DatasetError as e:
            self.add("episodes-unreadable", layout.EPISODES_DIR, str(e))
            return None
        for i, r in enumerate(rows):
            try:
                validate_row(r, i, self.features, layout.EPISODES_DIR)
            except DatasetError as e:
                self.add("episodes-invalid", layout.EPISODES_DIR, str(e).removeprefix(f"{layout.EPISODES_DIR}: "))
                return None
        if len(rows) != info["total_episodes"]:
            self.add("episode-count", layout.INFO, f"total_episodes is {info['total_episodes']} but "
                                                   f"meta/episodes has {len(rows)} episodes")
        total = sum(int(r["length"]) for r in rows)
        if total != info["total_frames"]:
            self.add("episode-count", layout.INFO, f"total_frames is {info['total_frames']} but the episodes "
                                                   f"add up to {total} frames")
        if info.get("total_tasks", len(self.tasks)) != len(self.tasks):
            self.add("episode-count", layout.INFO, f"total_tasks is {info.get('total_tasks')} but "
                                                   f"meta/tasks.parquet has {len(self.tasks)} tasks")
        start = 0
        for i, r in enumerate(rows):
            where = f"episode {i}"
            if int(r["episode_index"]) != i:
                self.add("episode-index", where, f"its row says episode_index {r['episode_index']} "
                                                 f"(rows must be numbered 0..{len(rows) - 1} in order)")
            if int(r["dataset_from_index"]) != start or \
                    int(r["dataset_to_index"]) - int(r["dataset_from_index"]) != int(r["length"]):
                self.add("episode-range", where, f"dataset_from_index..to_index is {r['dataset_from_index']}.."
                                                 f"{r['dataset_to_index']}, expected {start}..{start + int(r['length'])}"
                                                 f" (length {r['length']})")
            start += int(r["length"])
            for t in r["tasks"] or []:
                if t not in self.tasks:
                    self.add("task-index", where, f"its task {t!r} is not in meta/tasks.parquet")
        return rows

    # -- frames ----------------------------------------------------------------------------------------------
    def check_data(self, info: dict, rows: list[dict]) -> None:
        files: dict[Path, list[int]] = {}
        for i, r in enumerate(rows):
            p = self.path(layout.data_relpath(info, r["data/chunk_index"], r["data/file_index"]), f"episode {i}")
            if p is not None:
                files.setdefault(p, []).append(i)
        order = sorted(files)
        firsts = [files[p][0] for p in order]
        if firsts != sorted(firsts):
            self.add("file-order", "data/", "data files sorted by path are not in episode order (lerobot reads "
                                            "frames by position)")
        cols = frame_columns(self.features)
        for path, eps in files.items():
            where = self.rel(path)
            if not path.is_file():
                for i in eps:
                    self.add("data-missing", f"episode {i}", f"its data file {where} is missing")
                continue
            try:
                table = pq.read_table(path)
            except (OSError, pa.ArrowException) as e:
                self.add("data-unreadable", where, f"the parquet file cannot be read ({e})")
                continue
            arrays = {}
            for c in cols:
                if c not in table.column_names:
                    self.add("data-columns", where, f"the column '{c}' is missing")
                    continue
                try:
                    arrays[c] = column_to_numpy(table.column(c), self.features[c])
                except (ValueError, pa.ArrowException) as e:
                    self.add("data-columns", where, f"the column '{c}' does not match its feature "
                                                    f"{self.features[c]['dtype']}{self.features[c]['shape']} ({e})")
            if "episode_index" not in arrays:
                continue
            for i in eps:
                self.check_episode_frames(i, rows[i], arrays, where)

    def check_episode_frames(self, i: int, row: dict, arrays: dict, where: str) -> None:
        sel = arrays["episode_index"] == i
        n, length, ep = int(sel.sum()), int(row["length"]), f"episode {i}"
        if n != length:
            self.add("data-rows", ep, f"{where} has {n} frames of this episode, its length is {length}")
            return
        if "frame_index" in arrays and not np.array_equal(arrays["frame_index"][sel], np.arange(n)):
            self.add("frame-index", ep, f"frame_index in {where} is not 0..{n - 1}")
        if "index" in arrays:
            lo = int(row["dataset_from_index"])
            if not np.array_equal(arrays["index"][sel], np.arange(lo, lo + n)):
                self.add("index", ep, f"the index column in {where} is not {lo}..{lo + n - 1}")
        if "timestamp" in arrays and "frame_index" in arrays:
            expect = arrays["frame_index"][sel] / self.fps
            err = np.abs(arrays["timestamp"][sel].astype(np.float64) - expect)
            if err.size and err.max() > TS_TOLERANCE:
                k = int(np.argmax(err))
                self.add("timestamps", ep, f"timestamp of frame {k} is {float(arrays['timestamp'][sel][k]):.4f} s, "
                                           f"expected {expect[k]:.4f} s (frame_index / fps)")
        if "task_index" in arrays:
            t = arrays["task_index"][sel]
            if t.size and (t.min() < 0 or t.max() >= len(self.tasks)):
                self.add("task-index", ep, f"task_index {int(t.max() if t.max() >= len(self.tasks) else t.min())} "
                                           f"is not one of the {len(self.tasks)} tasks")
        for key in (k for k in arrays if self.features[k]["dtype"].startswith("float")):
            if not np.isfinite(arrays[key][sel]).all():
                self.add("values", ep, f"'{key}' holds NaN or infinite values")

    # -- videos ----------------------------------------------------------------------------------------------
    def check_videos(self, info: dict, rows: list[dict]) -> None:
        probed: dict[Path, bool] = {}
        for i, r in enumerate(rows):
            length = int(r["length"])
            for key in self.video_keys:
                ep = f"episode {i}"
                path = self.path(layout.video_relpath(info, key, r[f"videos/{key}/chunk_index"],
                                                      r[f"videos/{key}/file_index"]), ep)
                if path is None:
                    continue
                where = f"{key} ({self.rel(path)})"
                if not path.is_file():
                    self.add("video-missing", ep, f"video file {self.rel(path)} for {key} is missing")
                    continue
                if path not in probed:
                    probed[path] = self.probe(path, key)
                if not probed[path]:
                    continue
                t0, t1 = float(r[f"videos/{key}/from_timestamp"]), float(r[f"videos/{key}/to_timestamp"])
                if t0 < 0 or abs((t1 - t0) - length / self.fps) > TS_TOLERANCE + 0.5 / self.fps:
                    self.add("video-window", ep, f"{where} window {t0:.3f}..{t1:.3f} s does not span "
                                                 f"{length} frames at {self.fps} fps")
                try:
                    n = count_frames(path, t0, t0 + length / self.fps, self.fps, decode=not self.quick)
                except DatasetError as e:
                    self.add("video-unreadable", ep, f"{where}: {e}")
                    continue
                if n != length:
                    self.add("video-frames", ep, f"{where} has {n} {'packets' if self.quick else 'decoded frames'} "
                                                 f"in its window, the episode has {length} frames")

    def probe(self, path: Path, key: str) -> bool:
        try:
            container, stream = open_video(path)
        except DatasetError as e:
            self.add("video-unreadable", self.rel(path), str(e))
            return False
        h, w = self.features[key]["shape"][:2]
        if (stream.height, stream.width) != (h, w):
            self.add("video-shape", self.rel(path), f"frames are {stream.height}x{stream.width}, the feature "
                                                    f"{key} says {h}x{w}")
        container.close()
        return True

    # -- stats -----------------------------------------------------------------------------------------------
    def check_stats(self, info: dict, rows: list[dict]) -> None:
        path = self.path(layout.STATS, layout.STATS)
        if path is None:
            return
        if not path.is_file():
            if rows:
                self.add("stats-missing", layout.STATS, "the file is missing")
        else:
            try:
                stats = st.from_json(json.loads(path.read_text()))
            except (ValueError, AttributeError) as e:
                self.add("stats-invalid", layout.STATS, f"not valid stats JSON ({e})")
                stats = None
            if stats is not None:
                self.check_stat_block(stats, layout.STATS)
                total = sum(int(r["length"]) for r in rows)
                for key in frame_columns(self.features):
                    count = stats.get(key, {}).get("count")
                    if count is not None and int(np.asarray(count).sum()) != total:
                        self.add("stats-stale", layout.STATS, f"'{key}' stats count {int(np.asarray(count).sum())} "
                                                              f"frames, the dataset has {total}")
                        break
        for i, r in enumerate(rows):
            self.check_stat_block(st.unflatten(r), f"episode {i}")

    def check_stat_block(self, stats: dict, where: str) -> None:
        for key, ft in self.features.items():
            s = stats.get(key)
            if s is None:
                self.add("stats-missing", where, f"no stats for '{key}'")
                continue
            for name in st.STAT_KEYS:
                if name not in s:
                    self.add("stats-missing", where, f"'{key}' stats have no '{name}'")
                    break
                v = np.asarray(s[name], dtype=np.float64)
                want = (1,) if name == "count" else (3, 1, 1) if ft["dtype"] == "video" else tuple(ft["shape"])
                if v.shape != want:
                    self.add("stats-shape", where, f"'{key}' {name} has shape {v.shape}, expected {want}")
                    break
                if not np.isfinite(v).all():
                    self.add("stats-shape", where, f"'{key}' {name} holds NaN or infinite values")
                    break

    # -- leftovers -------------------------------------------------------------------------------------------
    def check_leftovers(self, info: dict, rows: list[dict]) -> None:
        refs = set()
        for r in rows:
            refs.add(self.root / layout.data_relpath(info, r["data/chunk_index"], r["data/file_index"]))
            for key in self.video_keys:
                refs.add(self.root / layout.video_relpath(info, key, r[f"videos/{key}/chunk_index"],
                                                          r[f"videos/{key}/file_index"]))
        try:
            on_disk = layout.files_on_disk(self.root)
        except DatasetError as e:
            self.add("path-unsafe", "data/, videos/", str(e))
            on_disk = []
        for p in on_disk:
            if p not in refs:
                self.add("orphan-file", self.rel(p), "no episode refers to this file (lerobot would still read "
                                                     "a stray data file and shift every frame after it)")
        try:
            check_pending(self.root)
        except DatasetError as e:
            self.add("path-unsafe", "pending recovery", str(e))
        for d in (layout.STAGING, layout.TXN):
            pending = [p for p in (self.root / d).glob("*")] if (self.root / d).is_dir() else []
            if pending:
                self.add("pending-recovery", d, f"{len(pending)} interrupted episode(s) or edit(s) wait to be "
                                                f"recovered: run `robotapp dataset recover {self.root}`")


def check_dataset(root: str | Path, *, quick: bool = False) -> list[Problem]:
    """Every problem found, in plain words; an empty list means the dataset is clean."""
    return _Checker(Path(root), quick).run()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="robotapp dataset check", description=__doc__.splitlines()[0])
    p.add_argument("path")
    p.add_argument("--quick", action="store_true", help="count video packets instead of decoding frames")
    args = p.parse_args(argv)
    return run_check(args.path, quick=args.quick)


def run_check(path: str | Path, *, quick: bool = False, out=None) -> int:
    out = out or sys.stdout
    problems = check_dataset(path, quick=quick)
    for prob in problems:
        print(prob, file=out)
    if problems:
        kinds = sorted({p.kind for p in problems})
        print(f"{len(problems)} problem(s) in {path} ({', '.join(kinds)})", file=out)
        return 1
    print(f"{path}: clean", file=out)
    return 0
