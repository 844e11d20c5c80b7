"""The metadata files of a dataset, loaded into one `Meta` and written back as bytes.

info.json is the commit point: lerobot and our reader take total_episodes from it, so every other file is
replaced first (tasks, episode rows, stats, our extras) and info.json last. Rows of meta/episodes beyond
total_episodes (a crash between those replacements) are ignored by both readers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotapp.dataset import layout
from robotapp.dataset import stats as st
from robotapp.dataset.datafile import table_bytes
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.features import DEFAULT_FEATURES, normalize_features, schema_mismatch, video_keys
from robotapp.dataset.fsutil import json_bytes

REQUIRED_INFO = ("codebase_version", "fps", "features", "total_episodes", "total_frames", "data_path")


def load_info(root: Path) -> dict:
    """meta/info.json, validated: every later path and count is computed from it."""
    root = Path(root)
    path = root / layout.INFO
    if not root.is_dir():
        if root.exists():
            raise DatasetError(f"{root} is a file, not a dataset folder")
        raise DatasetError(f"dataset folder {root} does not exist")
    if not path.is_file():
        raise DatasetError(f"{path} is missing: {root} is not a LeRobot dataset")
    layout.inside(root, layout.INFO, "the file", str(path))
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path} cannot be read as JSON ({e})") from None
    validate_info(info, str(path))
    return info


V21_HINT = ("convert it with lerobot: python -m lerobot.datasets.v30.convert_dataset_v21_to_v30 "
            "--repo-id=<user/name> --root=<folder>")


def validate_info(info, source: str) -> None:
    """Raise a one-line DatasetError naming `source` and the field for anything our readers and writers could
    not trust: version, fps, counts, features, path templates."""
    if not isinstance(info, dict):
        raise DatasetError(f"{source} is not a JSON object")
    missing = [k for k in REQUIRED_INFO if k not in info]
    if missing:
        raise DatasetError(f"{source} has no '{missing[0]}'")
    version = info["codebase_version"]
    if version != layout.CODEBASE_VERSION:
        if isinstance(version, str) and version.startswith("v2"):
            raise DatasetError(f"{source}: codebase_version is {version!r}: this is a LeRobot {version} dataset "
                               f"and robotapp reads v3.0; {V21_HINT}")
        raise DatasetError(f"{source}: codebase_version is {version!r}, expected {layout.CODEBASE_VERSION!r}")
    if not _is_int(info["fps"]) or info["fps"] <= 0:
        raise DatasetError(f"{source}: 'fps' is {info['fps']!r}, not a positive integer")
    for key in ("total_episodes", "total_frames"):
        if not _is_int(info[key]) or info[key] < 0:
            raise DatasetError(f"{source}: '{key}' is {info[key]!r}, not a count (an integer >= 0)")
    if "chunks_size" in info and (not _is_int(info["chunks_size"]) or info["chunks_size"] <= 0):
        raise DatasetError(f"{source}: 'chunks_size' is {info['chunks_size']!r}, not a positive integer")
    try:
        normalize_features(info["features"], with_defaults=False)
    except DatasetError as e:
        raise DatasetError(f"{source}: 'features': {e}") from None
    absent = [k for k in DEFAULT_FEATURES if k not in info["features"]]
    if absent:
        raise DatasetError(f"{source}: 'features' has no bookkeeping feature '{absent[0]}'")
    layout.check_template("data_path", info["data_path"], source)
    if info.get("video_path") is not None:
        layout.check_template("video_path", info["video_path"], source)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_tasks(root: Path) -> list[str]:
    """Task strings by task_index from meta/tasks.parquet (a pandas frame indexed by the task string)."""
    path = Path(root) / layout.TASKS
    if not path.is_file():
        return []
    layout.inside(root, layout.TASKS, "the file", str(path))
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as e:
        raise DatasetError(f"{path} cannot be read ({e})") from None
    col = "task" if "task" in table.column_names else None
    pmeta = (table.schema.metadata or {}).get(b"pandas")
    if col is None and pmeta:
        idx = json.loads(pmeta).get("index_columns") or []
        if idx and isinstance(idx[0], str):
            col = idx[0]
    if col is None or "task_index" not in table.column_names:
        raise DatasetError(f"{path} has no task strings with a task_index column")
    names = table.column(col).to_pylist()
    order = table.column("task_index").to_pylist()
    tasks = [""] * len(names)
    for name, i in zip(names, order, strict=True):
        if not isinstance(name, str) or not _is_int(i):
            raise DatasetError(f"{path}: task {name!r} with task_index {i!r} is not a string with an integer")
        if not 0 <= i < len(names):
            raise DatasetError(f"{path}: task_index {i} out of range for {len(names)} tasks")
        tasks[i] = name
    return tasks


def tasks_bytes(tasks: list[str]) -> bytes:
    """meta/tasks.parquet as pandas writes it (lerobot reads it with pandas.read_parquet)."""
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()),
                      "__index_level_0__": pa.array(tasks, pa.large_string())})
    pandas_meta = {
        "index_columns": ["__index_level_0__"],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object",
                            "metadata": {"encoding": "UTF-8"}}],
        "columns": [{"name": "task_index", "field_name": "task_index", "pandas_type": "int64",
                     "numpy_type": "int64", "metadata": None},
                    {"name": None, "field_name": "__index_level_0__", "pandas_type": "unicode",
                     "numpy_type": "object", "metadata": None}],
        "attributes": {}, "creator": {"library": "pyarrow", "version": pa.__version__}, "pandas_version": "2.2.3",
    }
    table = table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})
    return table_bytes(table)


def read_episode_rows(root: Path, features: Mapping | None = None) -> list[dict]:
    """Every row of meta/episodes, in file order; with `features`, each row is checked (validate_row)."""
    root = Path(root)
    files = sorted((root / layout.EPISODES_DIR).glob("*/*.parquet"))
    rows: list[dict] = []
    for f in files:
        rel = f.relative_to(root).as_posix()
        layout.inside(root, rel, "the file", rel)
        try:
            part = pq.read_table(f).to_pylist()
        except (OSError, pa.ArrowException) as e:
            raise DatasetError(f"episode metadata {f} cannot be read ({e})") from None
        if features is not None:
            for row in part:
                validate_row(row, len(rows), features, rel)
                rows.append(row)
        else:
            rows += part
    return rows


ROW_INTS = ("episode_index", "length", "data/chunk_index", "data/file_index", "dataset_from_index",
            "dataset_to_index")


def validate_row(row: dict, i: int, features: Mapping, source: str) -> None:
    """One episode row: the columns our readers use, with the types they assume (paths are built from the
    chunk and file indexes, frames are sliced by the dataset indexes)."""
    where = f"{source}: episode {i}"
    cols = list(ROW_INTS)
    for k in video_keys(features):
        cols += [f"videos/{k}/chunk_index", f"videos/{k}/file_index"]
    for col in cols:
        if col not in row:
            raise DatasetError(f"{where}: the column '{col}' is missing")
        if not _is_int(row[col]) or row[col] < 0:
            raise DatasetError(f"{where}: '{col}' is {row[col]!r}, not an integer >= 0")
    for k in video_keys(features):
        for col in (f"videos/{k}/from_timestamp", f"videos/{k}/to_timestamp"):
            v = row.get(col)
            if not isinstance(v, int | float) or isinstance(v, bool) or not np.isfinite(v) or v < 0:
                raise DatasetError(f"{where}: '{col}' is {v!r}, not a time in seconds >= 0")
    tasks = row.get("tasks")
    if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
        raise DatasetError(f"{where}: 'tasks' is {tasks!r}, not a list of task strings")


def episodes_table(rows: list[dict], base: pa.Table | None = None) -> pa.Table:
    """The meta/episodes table; with `base` holding the first len(base) rows already, only the rest is built
    (recording appends one row per episode: rebuilding 1000 rows would take longer than the episode's save)."""
    done = base.num_rows if base is not None else 0
    ordered = []
    for r in rows[done:]:
        r = dict(r)
        r["meta/episodes/chunk_index"], r["meta/episodes/file_index"] = 0, 0
        head = {k: r.pop(k) for k in ("episode_index", "tasks", "length", "data/chunk_index", "data/file_index",
                                      "dataset_from_index", "dataset_to_index")}
        tail = {k: r.pop(k) for k in ("meta/episodes/chunk_index", "meta/episodes/file_index")}
        vids = {k: r.pop(k) for k in [k for k in r if k.startswith("videos/")]}
        ordered.append({**head, **vids, **r, **tail})
    if base is None:
        return pa.Table.from_pylist(ordered)
    if not ordered:
        return base
    try:
        more = pa.Table.from_pylist(ordered, schema=base.schema)
    except (pa.ArrowException, KeyError, TypeError, ValueError):
        return pa.Table.from_pylist(base.to_pylist() + ordered)
    return pa.concat_tables([base, more])


def read_extras(root: Path) -> dict[int, dict]:
    path = Path(root) / layout.EXTRAS
    out: dict[int, dict] = {}
    if not path.is_file():
        return out
    layout.inside(root, layout.EXTRAS, "the file", str(path))
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            out[int(rec["episode_index"])] = rec
        except (ValueError, KeyError, TypeError):
            raise DatasetError(f"{path} line {n} is not a JSON record with an episode_index") from None
    return out


def extras_bytes(extras: list[dict]) -> bytes:
    lines = [json.dumps({**e, "episode_index": i}, ensure_ascii=False, default=_jsonable) for i, e in
             enumerate(extras)]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


@dataclass
class Meta:
    """Everything but the frames: info, tasks, episode rows (lerobot's columns), stats, our extras."""

    root: Path
    info: dict
    tasks: list[str] = field(default_factory=list)
    episodes: list[dict] = field(default_factory=list)
    stats: dict | None = None
    extras: list[dict] = field(default_factory=list)
    table: pa.Table | None = None  # meta/episodes as last written, for the first table.num_rows episodes
    _dirs: dict[str, str] = field(default_factory=dict, repr=False, compare=False)  # layout.inside's cache

    @property
    def fps(self) -> int:
        return int(self.info["fps"])

    @property
    def features(self) -> dict:
        return self.info["features"]

    @property
    def robot_type(self) -> str | None:
        return self.info.get("robot_type")

    @property
    def video_keys(self) -> list[str]:
        return video_keys(self.features)

    @property
    def total_frames(self) -> int:
        return int(self.episodes[-1]["dataset_to_index"]) if self.episodes else 0

    @property
    def chunks_size(self) -> int:
        return int(self.info.get("chunks_size", layout.DEFAULT_CHUNKS_SIZE))

    def task_index(self, task: str, *, add: bool = True) -> int:
        try:
            return self.tasks.index(task)
        except ValueError:
            if not add:
                raise
            self.tasks.append(task)
            return len(self.tasks) - 1

    def used_slots(self) -> list[tuple[int, int]]:
        slots = []
        for r in self.episodes:
            slots.append((int(r["data/chunk_index"]), int(r["data/file_index"])))
            for k in self.video_keys:
                slots.append((int(r[f"videos/{k}/chunk_index"]), int(r[f"videos/{k}/file_index"])))
        return slots

    def data_path(self, row: dict) -> Path:
        rel = layout.data_relpath(self.info, int(row["data/chunk_index"]), int(row["data/file_index"]))
        return layout.inside(self.root, rel, f"its data file {rel}", f"episode {row['episode_index']}", self._dirs)

    def video_path(self, row: dict, key: str) -> Path:
        rel = layout.video_relpath(self.info, key, int(row[f"videos/{key}/chunk_index"]),
                                   int(row[f"videos/{key}/file_index"]))
        return layout.inside(self.root, rel, f"its {key} video {rel}", f"episode {row['episode_index']}",
                             self._dirs)

    def episode_stats(self, i: int) -> dict[str, st.Stats]:
        return st.unflatten(self.episodes[i])

    def refresh_totals(self, added_stats: dict | None = None) -> None:
        """Recompute info totals and splits, and the aggregated stats: from every episode row, or, when one
        episode was appended, by folding its stats into the current ones (the same numbers, in O(1))."""
        n = len(self.episodes)
        self.info["total_episodes"] = n
        self.info["total_frames"] = self.total_frames
        self.info["total_tasks"] = len(self.tasks)
        self.info["splits"] = {"train": f"0:{n}"} if n else {}
        if added_stats is not None:
            self.stats = st.aggregate([self.stats, added_stats]) if self.stats else added_stats
        else:
            per_ep = [self.episode_stats(i) for i in range(n)]
            self.stats = st.aggregate(per_ep) if per_ep else None

    def files(self) -> list[tuple[str, bytes | None]]:
        """(relative path, content) of every metadata file in commit order; None means "remove"."""
        out: list[tuple[str, bytes | None]] = [(layout.TASKS, tasks_bytes(self.tasks))]
        main = layout.EPISODES_FILE.format(chunk_index=0, file_index=0)
        for extra in sorted((self.root / layout.EPISODES_DIR).glob("*/*.parquet")):
            rel = extra.relative_to(self.root).as_posix()
            if rel != main:
                out.append((rel, None))
        if self.episodes:
            self.table = episodes_table(self.episodes, self.table if self.table is not None and
                                        self.table.num_rows <= len(self.episodes) else None)
        out.append((main, table_bytes(self.table) if self.episodes else None))
        out.append((layout.STATS, json_bytes(st.to_json(self.stats)) if self.stats else None))
        out.append((layout.EXTRAS, extras_bytes(self.extras)))
        out.append((layout.INFO, json_bytes(self.info)))
        return out


def load_meta(root: Path) -> Meta:
    """The committed state, validated (info, episode rows, every file path they lead to): rows beyond info's
    total_episodes are dropped."""
    root = Path(root)
    info = load_info(root)
    total = int(info["total_episodes"])
    rows = read_episode_rows(root, info["features"])
    if len(rows) < total:
        raise DatasetError(f"{root / layout.EPISODES_DIR} has {len(rows)} episode rows but {root / layout.INFO} "
                           f"says {total} episodes")
    rows = rows[:total]
    stats_path = root / layout.STATS
    try:
        if stats_path.is_file():
            layout.inside(root, layout.STATS, "the file", str(stats_path))
            stats = st.from_json(json.loads(stats_path.read_text()))
        else:
            stats = None
    except (ValueError, TypeError, AttributeError) as e:
        raise DatasetError(f"{stats_path} cannot be read as stats JSON ({e})") from None
    extras_by_ep = read_extras(root)
    extras = [{k: v for k, v in extras_by_ep.get(i, {}).items() if k != "episode_index"} for i in range(total)]
    meta = Meta(root=root, info=info, tasks=read_tasks(root), episodes=rows, stats=stats, extras=extras)
    if (root / layout.PRIVATE).exists():  # our lock, staging and trash live there
        layout.inside(root, layout.PRIVATE, "the folder", layout.PRIVATE)
    for row in rows:
        meta.data_path(row)
        for key in meta.video_keys:
            meta.video_path(row, key)
    return meta


def new_info(fps: int, features: dict, robot_type: str | None, *, chunks_size: int = layout.DEFAULT_CHUNKS_SIZE,
             data_mb: int = 100, video_mb: int = 200) -> dict:
    return {
        "codebase_version": layout.CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": 0,
        "total_frames": 0,
        "total_tasks": 0,
        "chunks_size": chunks_size,
        "data_files_size_in_mb": data_mb,
        "video_files_size_in_mb": video_mb,
        "fps": int(fps),
        "splits": {},
        "data_path": layout.DATA_PATH,
        "video_path": layout.VIDEO_PATH if video_keys(features) else None,
        "features": features,
    }


# What earlier versions of this app wrote as robot_type (the arm profile's name) for robots lerobot names otherwise.
_EARLIER_ROBOT_TYPES = {"koch-v1.1-follower": "koch_follower", "koch-v1.1-leader": "koch_leader"}


def same_robot_type(a: str | None, b: str | None) -> bool:
    """Whether two datasets' (or a dataset's and a rig's) robot types name the same robot."""
    return _EARLIER_ROBOT_TYPES.get(a, a) == _EARLIER_ROBOT_TYPES.get(b, b)


def check_compatible(meta: Meta, *, fps: int | None = None, features: Mapping | None = None,
                     robot_type: str | None = None, what: str = "the recording") -> None:
    """One-line DatasetError naming the first mismatch between a dataset and what is about to join it."""
    if fps is not None and int(fps) != meta.fps:
        raise DatasetError(f"fps mismatch: dataset {meta.root} is {meta.fps} fps, {what} is {fps} fps")
    if robot_type is not None and not same_robot_type(robot_type, meta.robot_type):
        raise DatasetError(f"robot type mismatch: dataset {meta.root} is {meta.robot_type!r}, "
                           f"{what} is {robot_type!r}")
    if features is not None:
        problem = schema_mismatch(meta.features, normalize_features(features))
        if problem:
            raise DatasetError(f"features mismatch with dataset {meta.root}: {problem}")
