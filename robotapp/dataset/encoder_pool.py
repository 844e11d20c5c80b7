"""The encoder process: video encoding runs in a child process, so it never competes with the control loop
for the GIL.

Encoding threads inside the recording process hold the GIL for short stretches (frame conversion, stats, muxing,
opening the codec); on a busy machine the OS deschedules them in the middle of one and the control loop, which
only needed a few microseconds, waits milliseconds. So the writer keeps one child process (started through
multiprocessing's forkserver, never a fork of the app) with one encoder thread per camera (encoder.py).

Frames travel through a shared buffer (an anonymous memfd mapped by both processes, so nothing leaks when a
process is killed): `queue_frames` slots per camera, used as a ring. `submit` reserves the next slot — if every
slot is still in use it counts a drop and returns, the control loop never waits — and hands the image to a
feeder thread, which copies it into the slot (~80 µs for 640x480, with the GIL released) and sends a few bytes
on a pipe. Images must not change after add_frame: read-only arrays (what hardware/cameras hands out) are
passed by reference, writable ones are copied first. The child frees a slot as soon as its image is in the
codec; shared counters carry "frames done" back. Results (frame counts, image stats, errors) come back on a second pipe.
The child dies with the recorder (it exits on the pipe's EOF and asks the kernel to kill it if its parent dies),
and holds .robotapp/encoders.lock while alive, so recovery after a crash waits until it is gone."""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import multiprocessing as mp
import os
import queue
import sys
import threading
from concurrent.futures import Future
from multiprocessing.reduction import DupFd
from pathlib import Path

import numpy as np

from hardware.thread_priority import BACKGROUND, raise_priority
from robotapp.dataset import encoder as enc
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.video import VideoSettings

ENCODER_NICE = 10  # the encoder process yields the CPU to the recorder
FEEDER_NICE = 5
_ctx = None


def _context():
    global _ctx
    if _ctx is None:
        _ctx = mp.get_context("forkserver")
        _ctx.set_forkserver_preload(["robotapp.dataset._encoder_server"])
    return _ctx


def _start_without_main(proc) -> None:
    """Start the child without multiprocessing re-importing the app's __main__ in it: the child needs nothing
    from there, and a script that records at import time (no `if __name__ == "__main__"` guard) would run
    again in the child."""
    main = sys.modules.get("__main__")
    saved = {a: getattr(main, a) for a in ("__file__", "__spec__") if main is not None and hasattr(main, a)}
    try:
        if "__file__" in saved:
            del main.__file__
        if "__spec__" in saved:
            main.__spec__ = None
        proc.start()
    finally:
        for attr, value in saved.items():
            setattr(main, attr, value)


def _layout(cams: list[tuple[str, int, int]], slots: int) -> tuple[int, list[int]]:
    """Bytes of the shared buffer and where each camera's slots start (after the counters)."""
    offset = 64 * ((len(cams) * 3 * 8 + 63) // 64)
    starts = []
    for _, h, w in cams:
        starts.append(offset)
        offset += slots * h * w * 3
    return offset, starts


def _views(buf, cams, slots):
    size, starts = _layout(cams, slots)
    counters = np.frombuffer(buf, dtype=np.int64, count=len(cams) * 3).reshape(len(cams), 3)
    frames = [np.frombuffer(buf, dtype=np.uint8, count=slots * h * w * 3, offset=s).reshape(slots, h, w, 3)
              for (_, h, w), s in zip(cams, starts, strict=True)]
    return counters, frames


class EncoderPool:
    """Parent side. Thread-safe for one producer (submit) plus save/discard calls from any thread."""

    def __init__(self, root: Path, cams: list[tuple[str, int, int]], fps: int, settings: VideoSettings, *,
                 queue_frames: int, fsync: bool = True, start_timeout: float = 60.0):
        self.keys = [c[0] for c in cams]
        self.slots = queue_frames
        size, _ = _layout(cams, queue_frames)
        fd = os.memfd_create("robotapp-frames")
        try:
            os.ftruncate(fd, size)
            self._mm = mmap.mmap(fd, size)
            ctx = _context()
            cmd_r, self._cmd = ctx.Pipe(duplex=False)
            self._res, res_w = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_child_main, name="dataset-encoders", daemon=True, args=(
                cmd_r, res_w, DupFd(fd), size, cams, queue_frames, fps, settings, fsync,
                str(Path(root) / ".robotapp" / "encoders.lock")))
            _start_without_main(self._proc)
        finally:
            os.close(fd)
        cmd_r.close()
        res_w.close()
        if not self._res.poll(start_timeout) or self._res.recv() != ("ready",):
            self._proc.kill()
            raise DatasetError("the video encoder process did not start")
        self._counters, self._frames = _views(self._mm, cams, queue_frames)
        self._sent = [0] * len(cams)
        self.dropped = [0] * len(cams)
        self._futures: dict[tuple[int, str], Future] = {}
        self._flock = threading.Lock()
        self._dead: str | None = None
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="encoder-feeder", daemon=True)
        self._feeder.start()
        self._listener = threading.Thread(target=self._listen, name="encoder-results", daemon=True)
        self._listener.start()

    # -- producer ----------------------------------------------------------------------------------------------
    def submit(self, token: str, index: int, frames: list[tuple[int, str, np.ndarray]]) -> list[int]:
        """Frame `index` of every camera as (camera, path, image); returns the cameras that dropped it.
        One hand-over to the feeder per call: waking it once per camera would bounce the GIL between it and
        the control loop."""
        batch, dropped = [], []
        for cam, path, image in frames:
            sent = self._sent[cam]
            if self._dead or sent - int(self._counters[cam, enc.DONE]) >= self.slots:
                self.dropped[cam] += 1
                dropped.append(cam)
                continue
            self._sent[cam] = sent + 1
            batch.append(((enc.FRAME, cam, token, path, index, sent % self.slots),
                          image.copy() if image.flags.writeable else image))
        if batch:
            self._outbox.put(batch)
        return dropped

    def end_episode(self, cam: int, token: str, path: str, length: int) -> Future:
        fut: Future = Future()
        with self._flock:
            self._futures[(cam, token)] = fut
        self._send((enc.END, cam, token, path, length, None))
        return fut

    def cancel_episode(self, token: str) -> None:
        for cam in range(len(self.keys)):
            self._send((enc.CANCEL, cam, token, None, None, None))

    def pause(self) -> None:
        """Stop taking frames out of the slots (tests: a stalled encoder, deterministically)."""
        self._send((enc.PAUSE, -1, None, None, None, None))

    def resume(self) -> None:
        self._send((enc.RESUME, -1, None, None, None, None))

    def _send(self, msg: tuple) -> None:
        self._outbox.put([(msg, None)])

    def _feed(self) -> None:
        """Copies images into their slots and sends every message, in order. Real-time below the loop where
        allowed (so no other program preempts it holding the interpreter lock); else at a slightly lower priority,
        so that waking it from add_frame does not preempt the control loop (measured: fewer calls over 1 ms)."""
        if not raise_priority(BACKGROUND):  # real-time below the loop: it cannot preempt the loop either way
            with contextlib.suppress(AttributeError, OSError):
                tid = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + FEEDER_NICE))
        while True:
            batch = self._outbox.get()
            if batch is None:
                return
            for msg, image in batch:
                if self._dead:
                    self._fail_if_end(msg)
                    continue
                if image is not None:
                    self._frames[msg[1]][msg[5]] = image
                try:
                    self._cmd.send(msg)
                except (OSError, ValueError):
                    self._dead = self._dead or "the video encoder process is gone"
                    self._fail_if_end(msg)

    def _fail_if_end(self, msg: tuple) -> None:
        if msg[0] == enc.END:
            with self._flock:
                fut = self._futures.pop((msg[1], msg[2]), None)
            if fut is not None and not fut.done():
                fut.set_result(enc.EncodedVideo(self.keys[msg[1]], Path(msg[3]), error=self._dead))

    # -- state -------------------------------------------------------------------------------------------------
    def backlog(self, cam: int) -> int:
        return self._sent[cam] - int(self._counters[cam, enc.DONE])

    def encoded(self, cam: int) -> int:
        return int(self._counters[cam, enc.ENCODED])

    def encode_s(self, cam: int) -> float:
        return int(self._counters[cam, enc.ENCODE_NS]) / 1e9

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def _listen(self) -> None:
        raise_priority(BACKGROUND)
        while True:
            try:
                cam, token, result = self._res.recv()
            except (EOFError, OSError):
                self._proc.join(5)
                self._dead = self._dead or f"the video encoder process stopped (exit code {self._proc.exitcode})"
                with self._flock:
                    pending, self._futures = self._futures, {}
                for (c, _), fut in pending.items():
                    if not fut.done():
                        fut.set_result(enc.EncodedVideo(self.keys[c], Path(), error=self._dead))
                return
            with self._flock:
                fut = self._futures.pop((cam, token), None)
            if fut is not None:
                fut.set_result(result)

    def close(self) -> None:
        self._send((enc.STOP, -1, None, None, None, None))
        self._outbox.put(None)
        self._feeder.join(30)
        self._proc.join(30)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._listener.join(5)
        self._cmd.close()
        self._res.close()
        del self._counters, self._frames
        with contextlib.suppress(BufferError):
            self._mm.close()


def _child_main(cmd, res, dupfd, size, cams, slots, fps, settings, fsync, lock_path) -> None:
    """The encoder process: dispatch commands to one encoder thread per camera until STOP or EOF."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG = SIGKILL
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, ENCODER_NICE)
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock_fd, fcntl.LOCK_EX)
    fd = dupfd.detach()
    buf = mmap.mmap(fd, size)
    os.close(fd)
    counters, frames = _views(buf, cams, slots)
    send_lock = threading.Lock()

    def report(cam: int, token: str, result: enc.EncodedVideo) -> None:
        with send_lock:
            res.send((cam, token, result))

    encoders = [enc.CameraEncoder(i, key, fps, h, w, settings, frames[i], counters, report, fsync=fsync)
                for i, (key, h, w) in enumerate(cams)]
    res.send(("ready",))
    while True:
        try:
            kind, cam, token, path, arg, slot = cmd.recv()
        except (EOFError, OSError):
            os._exit(0)  # the recorder is gone: stop writing at once
        if kind == enc.STOP:
            for e in encoders:
                e.q.put((enc.STOP, None, None, None, None))
            for e in encoders:
                e.thread.join()
            return
        if kind in (enc.PAUSE, enc.RESUME):
            for e in encoders:
                (e.running.clear if kind == enc.PAUSE else e.running.set)()
            continue
        encoders[cam].q.put((kind, token, path, arg, slot))
