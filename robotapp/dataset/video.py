"""Video files with PyAV: encoder settings, one writer per file, decoding a window of frames sequentially or
one frame at a time, frame counts and the stream info lerobot stores in info.json.

Default encoding is lerobot's: AV1 through libsvtav1, crf 30, keyframe every 2 frames, preset 12, yuv420p.
We add svtav1-params "hierarchical-levels=2:lookahead=0": same bitstream format, but the encoder holds ~12 frames
instead of ~50 at a time, so the flush at episode end takes tens of milliseconds. h264 (libx264, crf 30,
preset veryfast, zerolatency) is the fast option for weak machines."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner on stderr at every file otherwise

import av  # noqa: E402
import numpy as np  # noqa: E402

from robotapp.dataset.errors import DatasetError  # noqa: E402

CODECS = {"av1": "libsvtav1", "h264": "libx264"}


@dataclass(frozen=True)
class VideoSettings:
    codec: str = "av1"
    crf: int = 30
    gop: int = 2
    preset: int | str | None = None  # av1: 0..13 (12); h264: x264 preset name ("veryfast")
    pix_fmt: str = "yuv420p"
    threads: int | None = None  # encoder threads per camera; None lets the codec choose

    def __post_init__(self):
        if self.codec not in CODECS:
            raise DatasetError(f"video codec {self.codec!r} is not supported (choose {' or '.join(CODECS)})")

    def encoder(self) -> tuple[str, dict[str, str]]:
        name = CODECS[self.codec]
        opts = {"crf": str(self.crf), "g": str(self.gop)}
        if self.codec == "av1":
            opts["preset"] = str(12 if self.preset is None else self.preset)
            params = "hierarchical-levels=2:lookahead=0"
            if self.threads:
                params += f":lp={self.threads}"
            opts["svtav1-params"] = params
        else:
            opts["preset"] = str(self.preset or "veryfast")
            opts["tune"] = "zerolatency"
            if self.threads:
                opts["threads"] = str(self.threads)
        return name, opts


def _real_time_threads() -> set[int]:
    """This process's threads under a real-time policy (FIFO or RR)."""
    found = set()
    if not hasattr(os, "sched_getscheduler"):
        return found
    with contextlib.suppress(OSError):
        for tid in map(int, os.listdir("/proc/self/task")):
            with contextlib.suppress(OSError):
                if os.sched_getscheduler(tid) & ~getattr(os, "SCHED_RESET_ON_FORK", 0) in (os.SCHED_FIFO,
                                                                                             os.SCHED_RR):
                    found.add(tid)
    return found


def keep_normal_scheduling(before: set[int]) -> None:
    """libsvtav1 run as root puts the thread that opens an encoder, and every worker thread it starts, at
    SCHED_FIFO 99 (a whole test process, or the app's encoder process, would then starve the machine and the
    control loop): threads that became real-time since `before` go back to the normal policy. Threads that were
    real-time already (the control loop and its helpers, hardware/thread_priority.py) keep it."""
    for tid in _real_time_threads() - before:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))


class VideoFileWriter:
    """Encodes RGB frames into one mp4; frame i gets pts i in a 1/fps time base (timestamp i / fps)."""

    def __init__(self, path: Path, fps: int, height: int, width: int, settings: VideoSettings):
        name, opts = settings.encoder()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), "w", format="mp4")
        try:
            self.stream = self.container.add_stream(name, rate=fps, options=opts)
            self.stream.width, self.stream.height = width, height
            self.stream.pix_fmt = settings.pix_fmt
            self.stream.time_base = Fraction(1, fps)
        except Exception:
            self.container.close()
            raise
        self.frames = 0

    def write(self, image: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self.frames
        before = _real_time_threads() if self.frames == 0 else None
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        if before is not None:  # the codec opened at the first frame, with its worker threads
            keep_normal_scheduling(before)
        self.frames += 1

    def close(self) -> None:
        try:
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()


def open_video(path: Path):
    if not Path(path).is_file():
        raise DatasetError(f"video file {path} is missing")
    try:
        container = av.open(str(path))
        stream = container.streams.video[0]
    except (av.FFmpegError, IndexError) as e:
        raise DatasetError(f"video file {path} cannot be opened ({e})") from None
    stream.thread_type = "AUTO"
    return container, stream


def iter_window(path: Path, from_ts: float, length: int, fps: int, size: tuple[int, int] | None = None,
                ) -> Iterator[tuple[int, np.ndarray]]:
    """(i, HxWx3 uint8) for the frames of a window [from_ts, from_ts + length / fps), decoded in order."""
    container, stream = open_video(path)
    h, w = size if size else (None, None)
    try:
        if from_ts > 0:
            container.seek(int(from_ts / stream.time_base), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            i = round((float(frame.pts * stream.time_base) - from_ts) * fps)
            if i < 0:
                continue
            if i >= length:
                break
            yield i, frame.to_ndarray(format="rgb24", width=w, height=h) if size else frame.to_ndarray(
                format="rgb24")
    except av.FFmpegError as e:
        raise DatasetError(f"video file {path} cannot be decoded ({e})") from None
    finally:
        container.close()


def decode_window(path: Path, from_ts: float, length: int, fps: int, size: tuple[int, int] | None = None,
                  *, what: str = "") -> np.ndarray:
    """All frames of a window as [length, H, W, 3] uint8; a DatasetError names the frames that are missing."""
    out: np.ndarray | None = None
    seen = np.zeros(length, dtype=bool)
    for i, img in iter_window(path, from_ts, length, fps, size):
        if out is None:
            out = np.empty((length, *img.shape), dtype=np.uint8)
        out[i] = img
        seen[i] = True
    if not seen.all():
        missing = np.flatnonzero(~seen)
        raise DatasetError(f"{what or path}: video has {int(seen.sum())} of {length} frames "
                           f"(first missing frame {int(missing[0])}) in {path}")
    return out


def count_frames(path: Path, from_ts: float = 0.0, to_ts: float | None = None, fps: int | None = None,
                 *, decode: bool = False) -> int:
    """Frames whose timestamp lies in [from_ts, to_ts), by demuxing packets (fast) or decoding them (thorough)."""
    container, stream = open_video(path)
    half = 0.5 / fps if fps else 1e-4
    n = 0
    try:
        if from_ts > 0:
            container.seek(int(from_ts / stream.time_base), stream=stream, backward=True, any_frame=False)
        source = container.decode(stream) if decode else container.demux(stream)
        for item in source:
            if item.pts is None:
                continue
            t = float(item.pts * stream.time_base)
            if t < from_ts - half:
                continue
            if to_ts is not None and t >= to_ts - half:
                break
            n += 1
    except av.FFmpegError as e:
        raise DatasetError(f"video file {path} cannot be {'decoded' if decode else 'read'} ({e})") from None
    finally:
        container.close()
    return n


def video_info(path: Path) -> dict:
    """The per-camera 'info' block lerobot keeps in info.json."""
    container, stream = open_video(path)
    try:
        return {
            "video.height": stream.height,
            "video.width": stream.width,
            "video.codec": stream.codec_context.codec.canonical_name if stream.codec_context else "unknown",
            "video.pix_fmt": stream.pix_fmt or stream.codec_context.pix_fmt,
            "video.is_depth_map": False,
            "video.fps": int(stream.base_rate or stream.average_rate or 0),
            "video.channels": 3,
            "has_audio": len(container.streams.audio) > 0,
        }
    finally:
        container.close()


class FrameCursor:
    """Random access into one video file: decodes forward when the next request is just ahead, seeks
    (to the keyframe before) otherwise. Keeps the file open between calls."""

    FORWARD_S = 1.0  # decode forward rather than seek when the target is at most this far ahead

    def __init__(self, path: Path, fps: int):
        self.path = Path(path)
        self.fps = fps
        self.container, self.stream = open_video(self.path)
        self._frames: Iterator | None = None
        self._last_t: float | None = None
        self._last_img: np.ndarray | None = None
        self._half = 0.5 / fps

    def get(self, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
        if self._last_t is not None and abs(self._last_t - t) < self._half and self._last_img is not None \
                and (size is None or self._last_img.shape[:2] == tuple(size)):
            return self._last_img
        if self._frames is None or self._last_t is None or not (self._last_t < t <= self._last_t + self.FORWARD_S):
            self.container.seek(int(max(0.0, t) / self.stream.time_base), stream=self.stream, backward=True,
                                any_frame=False)
            self._frames = self.container.decode(self.stream)
        h, w = size if size else (None, None)
        try:
            for frame in self._frames:
                if frame.pts is None:
                    continue
                ft = float(frame.pts * self.stream.time_base)
                if ft < t - self._half:
                    continue
                if ft > t + self._half:
                    break
                img = frame.to_ndarray(format="rgb24", width=w, height=h) if size else frame.to_ndarray(
                    format="rgb24")
                self._last_t, self._last_img = ft, img
                return img
        except av.FFmpegError as e:
            raise DatasetError(f"video file {self.path} cannot be decoded at {t:.3f} s ({e})") from None
        self._frames, self._last_t = None, None
        raise DatasetError(f"video file {self.path} has no frame at {t:.3f} s")

    def close(self) -> None:
        self.container.close()
