"""DatasetWriter: records episodes into a LeRobot v3.0 dataset while the control loop runs.

The producer (the control loop) calls add_frame / save_episode / discard_episode. add_frame validates the
frame, copies the vectors into preallocated arrays and each image into a free slot of the encoder process's
shared buffer (encoder_pool.py; no free slot is a counted drop), so it returns in a fraction of a millisecond
and never waits. Video is encoded while the episode is recorded, in that separate process (one thread per
camera), away from the control loop's GIL. save_episode only swaps buffers and queues the work for the
committer thread, which stages the episode (frames, flushed videos, fsync, then its record: durable), publishes
it (publish.py), then runs queued extra-metadata updates, in order; `EpisodeResult.wait()` returns when the
episode is in the dataset. No parquet writer is ever left open: every parquet file is written whole, and a crash
leaves at worst a staging folder that `recover` finishes or discards.
"""

from __future__ import annotations

import datetime as _dt
import queue
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hardware.thread_priority import BACKGROUND, raise_priority
from policies.frame_keys import ACTION_KEY
from robotapp.dataset import layout
from robotapp.dataset.encoder_pool import EncoderPool
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.features import normalize_features, observation_keys, vector_keys
from robotapp.dataset.fsutil import DatasetLock, atomic_write_json, remove_path, write_file
from robotapp.dataset.meta import Meta, check_compatible, extras_bytes, load_meta, new_info
from robotapp.dataset.publish import (
    RECORD,
    SAVING,
    STAGED_DATA,
    StagedEpisode,
    publish,
    record_json,
    staged_data_bytes,
)
from robotapp.dataset.recovery import recover, wait_for_encoders
from robotapp.dataset.results import EpisodeResult, WriterStats
from robotapp.dataset.txn import Transaction
from robotapp.dataset.unused import clear_unused, is_unused_dataset
from robotapp.dataset.video import VideoSettings


class _Buffer:
    def __init__(self, dims: dict[str, tuple[int, str]], cap: int = 1024):
        self.n = 0
        self.arrays = {k: np.empty((cap, d), dtype=dt) for k, (d, dt) in dims.items()}
        self.task_ids = np.empty(cap, dtype=np.int32)
        self.tasks: dict[str, int] = {}

    def reserve(self) -> None:
        if self.n == len(self.task_ids):
            cap = 2 * self.n
            self.arrays = {k: np.resize(v, (cap, v.shape[1])) for k, v in self.arrays.items()}
            self.task_ids = np.resize(self.task_ids, cap)


@dataclass
class _Job:
    kind: str  # "episode" | "extra"
    result: EpisodeResult | None = None
    token: str = ""
    buffer: _Buffer | None = None
    videos: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    episode_index: int = -1


class DatasetWriter:
    """Use DatasetWriter.create(...) for a new dataset or DatasetWriter.open(...) to record more episodes."""

    def __init__(self, meta: Meta, lock: DatasetLock, settings: VideoSettings, *, queue_frames: int | None,
                 fsync: bool, recovery_notes: list[str]):
        self.root = meta.root
        self._meta = meta
        self._lock_file = lock
        self.settings = settings
        self.fsync = fsync
        self.recovery_notes = recovery_notes
        self.errors: list[str] = []
        feats = meta.features
        self._vec_keys = vector_keys(feats)
        self._obs_vec = [k for k in self._vec_keys if k != ACTION_KEY]
        self._dims = {k: (int(feats[k]["shape"][0]), feats[k]["dtype"]) for k in self._vec_keys}
        self._cams = {k: tuple(feats[k]["shape"]) for k in meta.video_keys}
        self._obs_keys = set(observation_keys(feats))
        self._cam_index = {k: i for i, k in enumerate(self._cams)}
        self._cam_keys = list(self._cams)
        qf = queue_frames if queue_frames is not None else default_queue_frames(meta.fps, self._cams.values())
        self._pool = EncoderPool(meta.root, [(k, s[0], s[1]) for k, s in self._cams.items()], meta.fps, settings,
                                 queue_frames=qf, fsync=fsync) if self._cams else None
        self._lock = threading.Lock()
        self._closed = False
        self._next_index = len(meta.episodes)
        self._pending = 0
        self._failed: str | None = None
        self._results: dict[int, EpisodeResult] = {}  # episodes saved by this writer, by the index announced
        self._made_folders: list[Path] | None = None  # create(remove_if_unused=True): the folders it made
        self.removed = False  # closed without an episode, it removed the dataset it created (remove_if_unused)
        self._new_episode()
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._committer = threading.Thread(target=self._commit_loop, name="dataset-committer", daemon=True)
        self._committer.start()

    # -- opening ---------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, root: str | Path, *, fps: int, features: Mapping, robot_type: str | None,
               codec: str = "av1", crf: int = 30, gop: int = 2, preset: int | str | None = None,
               encoder_threads: int | None = None, queue_frames: int | None = None,
               fsync: bool = True,
               chunks_size: int = layout.DEFAULT_CHUNKS_SIZE, replace_unused: bool = False,
               remove_if_unused: bool = False) -> DatasetWriter:
        """A new, empty dataset at root (which must not exist or be empty).

        replace_unused: a folder holding an unused dataset (created, never an episode: unused.py) counts as
        empty; its files are replaced. remove_if_unused: if this writer closes without having saved an episode,
        it removes what it created (the folders it made, root included; in a folder that was there, only its
        own files), so a failed or stopped first recording leaves nothing that blocks the next one."""
        root = Path(root)
        if root.exists() and not (root.is_dir() and (not any(root.iterdir()) or
                                                     (replace_unused and is_unused_dataset(root)))):
            raise DatasetError(f"cannot create a dataset at {root}: the folder exists and is not empty "
                               f"(use DatasetWriter.open to add episodes to a dataset)")
        if not isinstance(fps, int) or fps <= 0:
            raise DatasetError(f"fps must be a positive integer, got {fps!r}")
        settings = VideoSettings(codec, crf, gop, preset, threads=encoder_threads)
        feats = normalize_features(features)
        made = _missing_folders(root)
        root.mkdir(parents=True, exist_ok=True)
        lock = DatasetLock(root).acquire(what="create it")
        try:
            if replace_unused and is_unused_dataset(root):  # under the lock: no recorder is writing into it
                wait_for_encoders(root)  # one that was killed may have left its encoder process a moment
                clear_unused(root, keep_lock=True)
            atomic_write_json(root / layout.INFO, new_info(fps, feats, robot_type, chunks_size=chunks_size),
                              fsync=fsync)
            meta = load_meta(root)
        except BaseException:
            lock.release()
            raise
        writer = cls(meta, lock, settings, queue_frames=queue_frames, fsync=fsync, recovery_notes=[])
        writer._made_folders = made if remove_if_unused else None
        return writer

    @classmethod
    def open(cls, root: str | Path, *, fps: int | None = None, features: Mapping | None = None,
             robot_type: str | None = None, codec: str | None = None, crf: int = 30, gop: int = 2,
             preset: int | str | None = None, encoder_threads: int | None = None,
             queue_frames: int | None = None, fsync: bool = True) -> DatasetWriter:
        """Resume recording into an existing dataset: finishes or discards an interrupted episode first
        (see recovery_notes), then checks that fps, features and robot type match what is given."""
        root = Path(root)
        if not (root / layout.INFO).is_file():
            raise DatasetError(f"no dataset at {root} (meta/info.json is missing)")
        lock = DatasetLock(root).acquire(what="record into it")
        try:
            notes = recover(root, fsync=fsync)
            meta = load_meta(root)
            check_compatible(meta, fps=fps, features=features, robot_type=robot_type)
            if codec is None:
                infos = [meta.features[k].get("info", {}).get("video.codec") for k in meta.video_keys]
                codec = "h264" if "h264" in infos else "av1"
            settings = VideoSettings(codec, crf, gop, preset, threads=encoder_threads)
        except BaseException:
            lock.release()
            raise
        return cls(meta, lock, settings, queue_frames=queue_frames, fsync=fsync,
                   recovery_notes=notes)

    # -- the control loop's side -----------------------------------------------------------------------------
    def _new_episode(self) -> None:
        self._buf = _Buffer(self._dims)
        self._token = f"{self._next_index:06d}-{uuid.uuid4().hex[:8]}"
        stage = self.root / layout.STAGING / self._token
        self._paths = {k: str(stage / f"{k}.mp4") for k in self._cams}
        self._ep_drops = dict.fromkeys(self._cams, 0)

    def add_frame(self, observation: Mapping[str, np.ndarray], action: np.ndarray, task: str) -> int:
        """Append one frame to the current episode; returns its frame index. Never waits on the encoders."""
        with self._lock:
            if self._closed or self._failed:
                raise DatasetError(self._refusal("add_frame"))
            if not isinstance(task, str) or not task:
                raise DatasetError(f"add_frame: task must be a non-empty string, got {task!r}")
            if len(observation) != len(self._obs_keys) or not self._obs_keys.issuperset(observation):
                raise DatasetError(_key_problem(observation, self._obs_keys))
            buf = self._buf
            values = {ACTION_KEY: action, **{k: observation[k] for k in self._obs_vec}}
            vecs = {}
            for key, v in values.items():
                a = np.asarray(v)
                if a.shape != (self._dims[key][0],):
                    raise DatasetError(f"add_frame: '{key}' has shape {a.shape}, expected ({self._dims[key][0]},)")
                if (self._dims[key][1] == "bool") != (a.dtype == np.bool_):
                    want = "bool (np.array([True]))" if self._dims[key][1] == "bool" else "numbers"
                    raise DatasetError(f"add_frame: '{key}' is {a.dtype}, expected {want}")
                vecs[key] = a
            images = {}
            for key, shape in self._cams.items():
                img = observation[key]
                if not isinstance(img, np.ndarray) or img.shape != shape or img.dtype != np.uint8:
                    got = f"{img.dtype} {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
                    raise DatasetError(f"add_frame: camera '{key}' image is {got}, expected uint8 {shape} RGB")
                images[key] = img
            buf.reserve()
            i = buf.n
            for key, a in vecs.items():
                buf.arrays[key][i] = a
            tid = buf.tasks.get(task)
            if tid is None:
                tid = buf.tasks[task] = len(buf.tasks)
            buf.task_ids[i] = tid
            buf.n = i + 1
            if images:
                for cam in self._pool.submit(self._token, i, [(self._cam_index[k], self._paths[k], img)
                                                              for k, img in images.items()]):
                    self._ep_drops[self._cam_keys[cam]] += 1
            return i

    def save_episode(self, extra: Mapping | None = None) -> EpisodeResult:
        """End the current episode and save it in the background; returns at once."""
        with self._lock:
            if self._closed or self._failed:
                raise DatasetError(self._refusal("save_episode"))
            n = self._buf.n
            if n == 0:
                raise DatasetError("save_episode: the episode has no frames (call add_frame first)")
            result = EpisodeResult(self._next_index, n, list(self._buf.tasks), dict(self._ep_drops),
                                   time.monotonic())
            videos = {k: self._pool.end_episode(c, self._token, self._paths[k], n) for k, c in
                      self._cam_index.items()}
            job = _Job("episode", result, self._token, self._buf, videos, dict(extra or {}), self._next_index)
            self._results[self._next_index] = result
            self._next_index += 1
            self._pending += 1
            self._new_episode()
        self._jobs.put(job)
        return result

    def discard_episode(self) -> int:
        """Drop the frames of the current episode (re-record); returns how many were dropped."""
        with self._lock:
            n = self._buf.n
            if self._pool:
                self._pool.cancel_episode(self._token)
            self._new_episode()
        return n

    def write_episode_extra(self, episode_index: int, extra: Mapping) -> None:
        """Merge our own metadata (telemetry, notes...) into meta/robotapp/episodes.jsonl for an episode that
        is saved or being saved. Applied in the background, after the episode itself."""
        if not 0 <= episode_index < self._next_index:
            raise DatasetError(f"write_episode_extra: episode {episode_index} does not exist "
                               f"({self._next_index} episodes)")
        self._jobs.put(_Job("extra", self._results.get(episode_index), extra=dict(extra),
                            episode_index=episode_index))

    # -- state ---------------------------------------------------------------------------------------------
    @property
    def fps(self) -> int:
        return self._meta.fps

    @property
    def features(self) -> dict:
        return self._meta.features

    @property
    def num_episodes(self) -> int:
        """Episodes saved so far, including those still being made durable."""
        return self._next_index

    @property
    def stats(self) -> WriterStats:
        p, cams = self._pool, self._cam_index
        return WriterStats(self._buf.n, len(self._meta.episodes), self._pending,
                           {k: p.dropped[c] for k, c in cams.items()}, dict(self._ep_drops),
                           {k: p.backlog(c) for k, c in cams.items()}, {k: p.encoded(c) for k, c in cams.items()},
                           {k: p.encode_s(c) for k, c in cams.items()}, list(self.errors))

    def wait_durable(self, timeout: float | None = None) -> bool:
        """Wait until every saved episode and extra update is on disk; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._jobs.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return False
            with self._jobs.all_tasks_done:
                self._jobs.all_tasks_done.wait(0.05 if deadline is None else max(0.0, min(0.05, deadline -
                                                                                           time.monotonic())))
        return True

    def close(self) -> None:
        """Discard an unsaved episode, finish the saved ones, stop the threads and release the dataset (and
        remove it when create(remove_if_unused=True) made it and no episode was saved: see `removed`)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._pool:
                self._pool.cancel_episode(self._token)
        self._jobs.put(None)
        self._committer.join()
        if self._pool:
            self._pool.close()
        remove_path(self.root / layout.STAGING / self._token)
        unused = (self._made_folders is not None and not self._results and not self._meta.episodes
                  and is_unused_dataset(self.root))
        if unused:
            clear_unused(self.root, keep_lock=False)
            self.removed = True
        self._lock_file.release()
        if unused:
            for folder in self._made_folders:  # the dataset's own first, then the parents it needed
                try:
                    folder.rmdir()  # only ever an empty folder
                except OSError:
                    break

    def _refusal(self, what: str) -> str:
        if self._closed:
            return f"{what}: the writer is closed"
        return f"{what}: the writer stopped after an error ({self._failed}); close it and open the dataset again"

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- committer thread ----------------------------------------------------------------------------------
    def _commit_loop(self) -> None:
        raise_priority(BACKGROUND)  # it shares the interpreter with the control loop (thread_priority.py)
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if job.kind == "episode":
                    self._commit_episode(job)
                else:
                    self._commit_extra(job)
            except Exception as e:  # noqa: BLE001 - reported on the result and in .errors
                msg = f"{type(e).__name__}: {e}" if not isinstance(e, DatasetError) else str(e)
                self.errors.append(f"episode {job.episode_index}: {msg}")
                if job.kind == "episode":
                    # later episodes take its place; the writer takes no new ones (they would be misnumbered)
                    self._failed = self._failed or f"episode {job.episode_index} was not saved: {msg}"
                    job.result.error = msg
                    job.result._done.set()
            finally:
                if job is not None and job.kind == "episode":
                    self._pending -= 1
                self._jobs.task_done()

    def _commit_episode(self, job: _Job) -> None:
        res, buf, n = job.result, job.buffer, job.result.length
        stage = self.root / layout.STAGING / job.token
        vectors = {k: buf.arrays[k][:n] for k in self._vec_keys}
        staged = StagedEpisode(stage, job.token, n, list(buf.tasks), buf.task_ids[:n].copy(), vectors,
                               extra=dict(job.extra))
        try:
            stage.mkdir(parents=True, exist_ok=True)
            (stage / SAVING).touch()
            write_file(stage / STAGED_DATA, staged_data_bytes(vectors, staged.task_ids), fsync=self.fsync)
            for key, fut in job.videos.items():
                enc = fut.result()
                if enc.error:
                    raise DatasetError(enc.error)
                if enc.frames != n:
                    raise DatasetError(f"camera {key}: video has {enc.frames} frames, episode has {n}")
                staged.video_stats[key] = enc.stats
            staged.extra.setdefault("dropped_frames", res.dropped_frames)
            staged.extra.setdefault("recorded_at", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
            atomic_write_json(stage / RECORD, record_json(staged), fsync=self.fsync)
        except BaseException:
            remove_path(stage)
            raise
        res.staged_s = time.monotonic() - res.ended_at
        self._meta = publish(self.root, self._meta, staged, fsync=self.fsync)
        res.durable_s = time.monotonic() - res.ended_at
        res.episode_index = len(self._meta.episodes) - 1  # differs from the announced one after a failure
        res._done.set()

    def _commit_extra(self, job: _Job) -> None:
        ep = job.episode_index
        if job.result is not None:  # saved by this writer: follow it to its final index
            if job.result.error:
                raise DatasetError(f"episode {ep} was not saved, its extra metadata is dropped")
            ep = job.result.episode_index
        if ep >= len(self._meta.episodes):
            raise DatasetError(f"episode {ep} was not saved, its extra metadata is dropped")
        meta = self._meta
        extras = [dict(e) for e in meta.extras]
        extras[ep].update(job.extra)
        txn = Transaction(self.root, fsync=self.fsync)
        txn.put(layout.EXTRAS, extras_bytes(extras))
        txn.commit()
        meta.extras = extras


def _missing_folders(root: Path) -> list[Path]:
    """The folders that making root would create, root first."""
    made, folder = [], root
    while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
        made.append(folder)
        folder = folder.parent
    return made


def default_queue_frames(fps: int, shapes) -> int:
    """Slots per camera: 4 s of frames, but at most 64 MB of shared buffer per camera and at least 1 s."""
    frame_bytes = max((h * w * 3 for h, w, _ in shapes), default=1)
    return max(fps, min(4 * fps, (64 << 20) // frame_bytes))


def _key_problem(observation: Mapping, expected: set[str]) -> str:
    extra = sorted(set(observation) - expected)
    if extra:
        return f"add_frame: unknown feature '{extra[0]}' (the dataset has {', '.join(sorted(expected))})"
    missing = sorted(expected - set(observation))
    return f"add_frame: observation is missing '{missing[0]}'"
