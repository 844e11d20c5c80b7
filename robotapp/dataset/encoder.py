"""One encoder thread per camera, fed by the control loop through a bounded queue.

`submit` never blocks: when `queue_frames` frames are already waiting it counts a drop and returns. The
encoder numbers frames by their index in the episode, so a dropped frame leaves a gap that it fills by
repeating the previous image: the video always has exactly one frame per recorded data row (timestamps stay
true) and the drop is counted. Control messages (end of episode, cancel) are never dropped. The image stats
are accumulated here too, off the control thread. PyAV releases the GIL while encoding. The thread runs at a
lower priority (nice +10, inherited by the codec's worker threads) so encoding bursts never preempt the
control loop on a busy machine."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robotapp.dataset.fsutil import fsync_path, remove_path
from robotapp.dataset.stats import ImageStats, Stats
from robotapp.dataset.video import VideoFileWriter, VideoSettings

_FRAME, _END, _CANCEL, _STOP = range(4)


@dataclass
class EncodedVideo:
    key: str
    path: Path
    frames: int = 0
    filled: int = 0  # frames the encoder repeated because the queue had dropped them
    stats: Stats | None = None
    error: str | None = None
    encode_s: float = 0.0  # time spent encoding (for fps figures)
    finished_at: float = field(default_factory=time.monotonic)


class CameraEncoder:
    def __init__(self, key: str, fps: int, height: int, width: int, settings: VideoSettings, *,
                 queue_frames: int = 60, fsync: bool = True):
        self.key, self.fps, self.height, self.width = key, fps, height, width
        self.settings = settings
        self.fsync = fsync
        self.queue_frames = queue_frames
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._slots = threading.Semaphore(queue_frames)
        self.submitted = 0
        self.dropped = 0  # frames refused because the queue was full, since the encoder started
        self.encoded = 0  # frames written, since the encoder started (including repeated ones)
        self.encode_s = 0.0
        self._thread = threading.Thread(target=self._run, name=f"encoder-{key}", daemon=True)
        self._thread.start()

    # -- producer side (control loop) --------------------------------------------------------------------
    def submit(self, token: str, path: Path, index: int, image: np.ndarray) -> bool:
        if not self._slots.acquire(blocking=False):
            self.dropped += 1
            return False
        self.submitted += 1
        self._q.put((_FRAME, token, path, index, image))
        return True

    def end_episode(self, token: str, path: Path, length: int) -> Future:
        fut: Future = Future()
        self._q.put((_END, token, path, length, fut))
        return fut

    def cancel_episode(self, token: str) -> None:
        self._q.put((_CANCEL, token, None, None, None))

    def close(self) -> None:
        self._q.put((_STOP, None, None, None, None))
        self._thread.join()

    @property
    def backlog(self) -> int:
        return self.queue_frames - self._slots._value  # frames waiting (approximate, for display)

    # -- encoder thread ------------------------------------------------------------------------------------
    def _run(self) -> None:
        lower_priority(ENCODER_NICE)
        try:
            self._loop()
        except Exception as e:  # noqa: BLE001 - a bug must not leave save_episode waiting forever
            failure = f"camera {self.key}: the encoder stopped ({type(e).__name__}: {e})"
            while True:
                kind, _, path, _, extra = self._q.get()
                if kind == _FRAME:
                    self._slots.release()
                elif kind == _END:
                    extra.set_result(EncodedVideo(self.key, Path(path), error=failure))
                elif kind == _STOP:
                    return

    def _loop(self) -> None:
        token = None
        writer: VideoFileWriter | None = None
        stats = ImageStats()
        last: np.ndarray | None = None
        filled = 0
        error: str | None = None
        t_enc = 0.0
        cancelled: set[str] = set()

        def reset():
            nonlocal writer, stats, last, filled, error, t_enc
            writer, stats, last, filled, error, t_enc = None, ImageStats(), None, 0, None, 0.0

        def put(img: np.ndarray) -> None:
            nonlocal t_enc
            t0 = time.perf_counter()
            writer.write(img)
            dt = time.perf_counter() - t0
            t_enc += dt
            self.encode_s += dt
            self.encoded += 1

        while True:
            kind, tok, path, arg, extra = self._q.get()
            if kind == _STOP:
                if writer is not None:
                    _close_quietly(writer)
                return
            if kind == _FRAME:
                self._slots.release()
                if tok in cancelled:
                    continue
                if tok != token:
                    if writer is not None:  # an episode that was never ended: drop it
                        _close_quietly(writer)
                        remove_path(writer.path)
                    reset()
                    token = tok
                if error is not None:
                    continue
                try:
                    if writer is None:
                        writer = VideoFileWriter(path, self.fps, self.height, self.width, self.settings)
                    while writer.frames < arg:  # frames dropped before this one: repeat the last image
                        put(last if last is not None else extra)
                        stats.add(last if last is not None else extra)
                        filled += 1
                    if writer.frames == arg:
                        put(extra)
                        stats.add(extra)
                        last = extra
                except Exception as e:  # noqa: BLE001 - reported with the episode
                    error = f"camera {self.key}: encoding failed ({e})"
            elif kind == _CANCEL:
                cancelled.add(tok)
                if tok == token:
                    if writer is not None:
                        _close_quietly(writer)
                        remove_path(writer.path)
                        with contextlib.suppress(OSError):  # the last camera out removes the episode folder
                            writer.path.parent.rmdir()
                    reset()
                    token = None
            elif kind == _END:
                fut: Future = extra
                result = EncodedVideo(self.key, Path(path))
                if tok != token:  # every frame of the episode was dropped: start it now
                    reset()
                    token = tok
                try:
                    if error is None:
                        if writer is None:
                            writer = VideoFileWriter(path, self.fps, self.height, self.width, self.settings)
                        if writer.frames < arg:
                            blank = last if last is not None else np.zeros((self.height, self.width, 3), np.uint8)
                            while writer.frames < arg:
                                put(blank)
                                stats.add(blank)
                                filled += 1
                        t0 = time.perf_counter()
                        writer.close()
                        t_enc += time.perf_counter() - t0
                        if self.fsync:
                            fsync_path(writer.path)
                        result.frames = writer.frames
                        result.stats = stats.stats()
                except Exception as e:  # noqa: BLE001
                    error = f"camera {self.key}: finishing the video failed ({e})"
                result.filled, result.error, result.encode_s = filled, error, t_enc
                result.finished_at = time.monotonic()
                if error is not None and writer is not None:
                    _close_quietly(writer)
                reset()
                token = None
                fut.set_result(result)


ENCODER_NICE = 10


def lower_priority(nice: int) -> None:
    """Make the calling thread (and the threads it starts later, like the codec's own) yield the CPU to the
    control loop: background work must not preempt it. Linux only; elsewhere a no-op."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


def _close_quietly(writer: VideoFileWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
