"""DatasetReader: episodes, frames and stats of a LeRobot v3.0 dataset (ours or lerobot's).

Frames (vectors and indexes) are loaded once from the data files into numpy arrays indexed by the global
`index`. Images come from the videos: `decode_episode_video` is the sequential fast path (one pass over an
episode's window, optionally resized by swscale while converting), `frame` / `get_item` do random access through
a small cache of open files that decodes forward when the next request is just ahead. Images are HxWx3 uint8
RGB (lerobot hands out float CHW in [0, 1]; the training pipeline converts). `get_item` follows lerobot's
delta_timestamps rules: offsets become frame offsets, are clamped to the episode, and "<key>_is_pad" marks the
clamped ones."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robotapp.dataset import layout
from robotapp.dataset.datafile import frame_columns, read_data
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.fsutil import DatasetLock
from robotapp.dataset.meta import load_info, load_meta
from robotapp.dataset.recovery import recover
from robotapp.dataset.video import FrameCursor, decode_window

TOLERANCE_S = 1e-4


@dataclass(frozen=True)
class EpisodeInfo:
    index: int
    length: int
    tasks: list[str]
    dataset_from_index: int
    dataset_to_index: int
    data_file: Path
    videos: dict[str, tuple[Path, float, float]]  # key -> (file, from_timestamp, to_timestamp)


class DatasetReader:
    def __init__(self, root: str | Path, *, recover_if_needed: bool = True, max_open_videos: int = 16):
        self.root = Path(root)
        load_info(self.root)  # a clear error when the folder or info.json is missing
        self.recovery_notes: list[str] = []
        if recover_if_needed and _needs_recovery(self.root):
            lock = DatasetLock(self.root)
            if lock.try_acquire():
                try:
                    self.recovery_notes = recover(self.root)
                finally:
                    lock.release()
        self._meta = load_meta(self.root)
        m = self._meta
        self.episodes = [
            EpisodeInfo(i, int(r["length"]), list(r["tasks"]), int(r["dataset_from_index"]),
                        int(r["dataset_to_index"]), m.data_path(r),
                        {k: (m.video_path(r, k), float(r[f"videos/{k}/from_timestamp"]),
                             float(r[f"videos/{k}/to_timestamp"])) for k in m.video_keys})
            for i, r in enumerate(m.episodes)]
        self._starts = np.array([e.dataset_from_index for e in self.episodes], dtype=np.int64)
        self._data: dict[str, np.ndarray] | None = None
        self._cursors: OrderedDict[Path, FrameCursor] = OrderedDict()
        self._max_open = max_open_videos

    # -- metadata ----------------------------------------------------------------------------------------------
    @property
    def info(self) -> dict:
        return self._meta.info

    @property
    def fps(self) -> int:
        return self._meta.fps

    @property
    def features(self) -> dict:
        return self._meta.features

    @property
    def robot_type(self) -> str | None:
        return self._meta.robot_type

    @property
    def video_keys(self) -> list[str]:
        return self._meta.video_keys

    @property
    def tasks(self) -> list[str]:
        return list(self._meta.tasks)

    @property
    def num_episodes(self) -> int:
        return len(self.episodes)

    @property
    def num_frames(self) -> int:
        return self._meta.total_frames

    @property
    def stats(self) -> dict[str, dict[str, np.ndarray]]:
        return self._meta.stats or {}

    def episode_stats(self, ep: int) -> dict[str, dict[str, np.ndarray]]:
        self._episode(ep)
        return self._meta.episode_stats(ep)

    def extra(self, ep: int) -> dict:
        """Our own per-episode metadata (meta/robotapp/episodes.jsonl): uuid, recorded_at, dropped_frames and
        whatever the recorder stored (telemetry)."""
        self._episode(ep)
        return dict(self._meta.extras[ep])

    def _episode(self, ep: int) -> EpisodeInfo:
        if not isinstance(ep, int | np.integer) or not 0 <= ep < len(self.episodes):
            raise DatasetError(f"episode {ep} does not exist in {self.root} ({len(self.episodes)} episodes)")
        return self.episodes[int(ep)]

    # -- frames ----------------------------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        if self._data is None:
            self._data = self._load_data()
        return self._data

    def _load_data(self) -> dict[str, np.ndarray]:
        feats, total = self.features, self.num_frames
        cols = frame_columns(feats)
        parts: dict[str, list[np.ndarray]] = {k: [] for k in cols}
        for path in dict.fromkeys(e.data_file for e in self.episodes):
            arrays = read_data(path, feats)
            for k in cols:
                parts[k].append(arrays[k])
        if not self.episodes:
            return {k: np.zeros((0, *([] if feats[k]["shape"] == [1] else feats[k]["shape"])),
                                dtype=feats[k]["dtype"]) for k in cols}
        data = {k: np.concatenate(v) for k, v in parts.items()}
        idx = data["index"]
        if len(idx) != total or not np.array_equal(idx, np.arange(total)):
            keep = idx < total
            order = np.argsort(idx[keep], kind="stable")
            if keep.sum() != total or not np.array_equal(idx[keep][order], np.arange(total)):
                raise DatasetError(f"data files of {self.root} do not hold frames 0..{total - 1} exactly once "
                                   f"(run `robotapp dataset check {self.root}`)")
            data = {k: v[keep][order] for k, v in data.items()}
        for v in data.values():
            v.flags.writeable = False  # episode_data hands out views of this cache
        return data

    def episode_data(self, ep: int) -> dict[str, np.ndarray]:
        """Every frame column of one episode: action, observation.state, timestamp, frame_index, index, ..."""
        e = self._episode(ep)
        return {k: v[e.dataset_from_index:e.dataset_to_index] for k, v in self._arrays().items()}

    def decode_episode_video(self, ep: int, key: str, size: tuple[int, int] | None = None) -> np.ndarray:
        """All frames of one camera for one episode, [T, H, W, 3] uint8, resized to size=(h, w) if given."""
        e = self._episode(ep)
        if key not in e.videos:
            raise DatasetError(f"'{key}' is not a camera of {self.root} (cameras: {', '.join(self.video_keys)})")
        path, t0, _ = e.videos[key]
        return decode_window(path, t0, e.length, self.fps, size, what=f"episode {ep} {key}")

    def episode_of(self, index: int) -> int:
        if not 0 <= index < self.num_frames:
            raise DatasetError(f"frame {index} does not exist in {self.root} ({self.num_frames} frames)")
        return int(np.searchsorted(self._starts, index, side="right") - 1)

    def frame(self, index: int, size: tuple[int, int] | None = None) -> dict:
        """One frame with its images decoded (random access)."""
        return self.get_item(index, None, size=size)

    def get_item(self, index: int, delta_timestamps: Mapping[str, Sequence[float]] | None = None, *,
                 size: tuple[int, int] | None = None) -> dict:
        """lerobot's __getitem__: the frame, plus for each key in delta_timestamps the values at those time
        offsets (clamped to the episode, stacked) and "<key>_is_pad"."""
        index = int(index)
        ep = self.episode_of(index)
        e = self.episodes[ep]
        data = self._arrays()
        item: dict = {k: v[index] for k, v in data.items()}
        deltas = self.delta_indices(delta_timestamps or {})
        for key in self.video_keys:
            if key not in deltas:
                item[key] = self._image(e, key, index, size)
        for key, offs in deltas.items():
            want = index + np.asarray(offs, dtype=np.int64)
            q = np.clip(want, e.dataset_from_index, e.dataset_to_index - 1)
            item[f"{key}_is_pad"] = (want < e.dataset_from_index) | (want >= e.dataset_to_index)
            if key in e.videos:
                item[key] = np.stack([self._image(e, key, int(i), size) for i in q])
            else:
                item[key] = data[key][q]
        item["task"] = self._meta.tasks[int(item["task_index"])]
        return item

    def delta_indices(self, delta_timestamps: Mapping[str, Sequence[float]]) -> dict[str, list[int]]:
        """Frame offsets for time offsets (each must be a multiple of 1/fps within lerobot's 1e-4 s)."""
        out = {}
        for key, ts in delta_timestamps.items():
            if key not in self.features:
                raise DatasetError(f"delta_timestamps: unknown feature '{key}'")
            idx = []
            for t in ts:
                k = round(t * self.fps)
                if abs(t * self.fps - k) / self.fps > TOLERANCE_S:
                    raise DatasetError(f"delta_timestamps['{key}']: {t} s is not a multiple of 1/{self.fps} s")
                idx.append(k)
            out[key] = idx
        return out

    def _image(self, e: EpisodeInfo, key: str, index: int, size) -> np.ndarray:
        path, t0, _ = e.videos[key]
        cursor = self._cursors.get(path)
        if cursor is None:
            cursor = self._cursors[path] = FrameCursor(path, self.fps)
            if len(self._cursors) > self._max_open:
                self._cursors.popitem(last=False)[1].close()
        else:
            self._cursors.move_to_end(path)
        return cursor.get(t0 + (index - e.dataset_from_index) / self.fps, size)

    def close(self) -> None:
        for c in self._cursors.values():
            c.close()
        self._cursors.clear()

    def __enter__(self) -> DatasetReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self.num_frames


def _needs_recovery(root: Path) -> bool:
    private = root / layout.PRIVATE
    return any((private / d).is_dir() and any((private / d).iterdir()) for d in ("staging", "txn"))
