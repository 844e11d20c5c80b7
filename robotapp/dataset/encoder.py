"""One encoder thread per camera, inside the encoder process (encoder_pool.py).

Frames arrive numbered by their index in the episode, each in a slot of the shared frame buffer; a frame the
control loop had to drop (all slots busy) leaves a gap that is filled by repeating the previous image, so the
video always has exactly one frame per recorded data row (timestamps stay true) and the drop is counted. A slot
is released as soon as its image is in the codec. Image stats are accumulated here too. Control messages (end
of episode, cancel) are never dropped."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robotapp.dataset.fsutil import fsync_path, remove_path
from robotapp.dataset.stats import ImageStats, Stats
from robotapp.dataset.video import VideoFileWriter, VideoSettings

FRAME, END, CANCEL, STOP, PAUSE, RESUME = range(6)
DONE, ENCODED, ENCODE_NS = range(3)  # columns of the shared counters, one row per camera


@dataclass
class EncodedVideo:
    key: str
    path: Path
    frames: int = 0
    filled: int = 0  # frames repeated because the control loop had dropped them
    stats: Stats | None = None
    error: str | None = None
    encode_s: float = 0.0


class CameraEncoder:
    def __init__(self, cam: int, key: str, fps: int, height: int, width: int, settings: VideoSettings,
                 slots: np.ndarray, counters: np.ndarray, report: Callable[[int, str, EncodedVideo], None],
                 *, fsync: bool = True):
        self.cam, self.key, self.fps, self.height, self.width = cam, key, fps, height, width
        self.settings, self.fsync = settings, fsync
        self.slots, self.counters, self.report = slots, counters, report
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.running = threading.Event()
        self.running.set()
        self.thread = threading.Thread(target=self._run, name=f"encoder-{key}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as e:  # noqa: BLE001 - a bug must not leave save_episode waiting forever
            failure = f"camera {self.key}: the encoder stopped ({type(e).__name__}: {e})"
            while True:
                kind, tok, path, _, _ = self.q.get()
                if kind == FRAME:
                    self.counters[self.cam, DONE] += 1
                elif kind == END:
                    self.report(self.cam, tok, EncodedVideo(self.key, Path(path), error=failure))
                elif kind == STOP:
                    return

    def _loop(self) -> None:
        token = None
        writer: VideoFileWriter | None = None
        stats = ImageStats()
        last: np.ndarray | None = None
        filled, t_enc, error = 0, 0.0, None
        cancelled: set[str] = set()

        def reset():
            nonlocal writer, stats, last, filled, error, t_enc
            writer, stats, last, filled, error, t_enc = None, ImageStats(), None, 0, None, 0.0

        def put(img: np.ndarray) -> None:
            nonlocal t_enc
            t0 = time.perf_counter_ns()
            writer.write(img)
            stats.add(img)
            dt = time.perf_counter_ns() - t0
            t_enc += dt / 1e9
            self.counters[self.cam, ENCODE_NS] += dt
            self.counters[self.cam, ENCODED] += 1

        while True:
            kind, tok, path, arg, slot = self.q.get()
            if kind == STOP:
                if writer is not None:
                    _close_quietly(writer)
                return
            if kind == FRAME:
                self.running.wait()
                try:
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
                    img = self.slots[slot]
                    try:
                        if writer is None:
                            writer = VideoFileWriter(path, self.fps, self.height, self.width, self.settings)
                        while writer.frames < arg:  # frames dropped before this one: repeat the last image
                            put(last if last is not None else img)
                            filled += 1
                        if writer.frames == arg:
                            put(img)
                            last = img.copy()
                    except Exception as e:  # noqa: BLE001 - reported with the episode
                        error = f"camera {self.key}: encoding failed ({e})"
                finally:
                    self.counters[self.cam, DONE] += 1  # the slot is free again
            elif kind == CANCEL:
                cancelled.add(tok)
                if tok == token:
                    if writer is not None:
                        _close_quietly(writer)
                        remove_path(writer.path)
                        with contextlib.suppress(OSError):  # the last camera out removes the episode folder
                            writer.path.parent.rmdir()
                    reset()
                    token = None
            elif kind == END:
                result = EncodedVideo(self.key, Path(path))
                if tok != token:  # every frame of the episode was dropped: start it now
                    reset()
                    token = tok
                try:
                    if error is None:
                        if writer is None:
                            writer = VideoFileWriter(path, self.fps, self.height, self.width, self.settings)
                        blank = last if last is not None else np.zeros((self.height, self.width, 3), np.uint8)
                        while writer.frames < arg:
                            put(blank)
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
                if error is not None and writer is not None:
                    _close_quietly(writer)
                reset()
                token = None
                self.report(self.cam, tok, result)


def _close_quietly(writer: VideoFileWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
