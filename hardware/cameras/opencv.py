"""OpenCVCamera: a V4L2/AVFoundation/DirectShow device, a network stream, or a video file, read by one thread.

The reader thread grabs, timestamps and converts to RGB, then publishes; consumers never touch the capture.
A device that stops delivering (unplugged cable, crashed driver) flips the camera into an error state with a
message saying so, and the thread retries opening it every `reconnect_interval` seconds. Files play at the
requested (else declared) fps so a recorded clip can stand in for a live camera in tests and demos.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from hardware.deadline_timer import DeadlineTimer

from .camera import Camera


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's WARN lines (one per failed open, e.g. every probed index): our errors say it better."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def fourcc_str(code: float) -> str:
    c = int(code)
    return "".join(chr((c >> 8 * i) & 0xFF) for i in range(4)).strip("\x00 ") if c > 0 else ""


def to_rgb(image: np.ndarray) -> np.ndarray:
    """A fresh RGB array (never the capture's own buffer, which the next read may reuse)."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class OpenCVCamera(Camera):
    # Consecutive failed grabs before we call the device gone: one bad USB transfer is a drop, five are not.
    FAILS_BEFORE_ERROR = 5
    DEFAULT_FILE_FPS = 30.0  # for files that declare no frame rate

    def __init__(self, name: str, index_or_path: int | str | Path, width: int | None = None,
                 height: int | None = None, fps: float | None = None, fourcc: str | None = None, *,
                 loop: bool = True, reconnect_interval: float = 1.0, backend: int = cv2.CAP_ANY):
        if isinstance(index_or_path, str) and index_or_path.isdigit():
            index_or_path = int(index_or_path)  # "2" from a command line or config file means index 2
        self.source: int | str = index_or_path if isinstance(index_or_path, int) else str(index_or_path)
        super().__init__(name, str(self.source))
        self.requested = {"width": width, "height": height, "fps": fps, "fourcc": fourcc}
        # Actual values, filled in by connect(): what the device agreed to, not what we asked for.
        self.width: int | None = None
        self.height: int | None = None
        self.fps: float | None = None
        self.fourcc: str = ""
        self.loop = loop
        self.reconnect_interval = reconnect_interval
        self.backend = backend
        self.is_file = False
        self._cap: cv2.VideoCapture | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the source and read one frame (so a camera that opens but never delivers fails here, and
        read_latest has a frame at once); then start the reader thread. Raises CameraError."""
        if self._connected:
            return
        self._cap, image, t = self._open_capture()
        self._set_connected(True)
        self._publish(image, t)
        self._start_thread(self._run)

    def disconnect(self) -> None:
        self._stop_thread()  # the thread releases the capture on its way out
        self._set_connected(False)

    # -- opening --------------------------------------------------------------------------------------------

    def _open_capture(self) -> tuple[cv2.VideoCapture, np.ndarray, float]:
        src = self.source
        if isinstance(src, str) and "://" not in src and not os.path.exists(src):
            raise self.camera_error("could not be opened: no such file or device")
        if isinstance(src, int) and sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{src}"):
            raise self.camera_error(f"could not be opened: /dev/video{src} does not exist")
        self.is_file = isinstance(src, str) and Path(src).is_file()
        with quiet_opencv():
            cap = cv2.VideoCapture(src, self.backend)
        if not cap.isOpened():
            cap.release()
            raise self.camera_error("could not be opened: busy, not a camera, or an unsupported format")
        try:
            self._configure(cap)
            got = self._grab(cap)
            if got is None:
                raise self.camera_error("opened but delivered no frame")
            image, t = got
            h, w = image.shape[:2]
            # After a reconnect the size must be what it was: consumers (the recorder) rely on it.
            want_w, want_h = self.requested["width"] or self.width, self.requested["height"] or self.height
            # A different size changes the dataset schema, so it is an error; fps and fourcc only change the
            # rate, which stats report, and drivers often misreport them anyway.
            if (want_w and want_w != w) or (want_h and want_h != h):
                raise self.camera_error(f"delivers {w}x{h}, not the requested {want_w or w}x{want_h or h}")
            self.width, self.height = w, h
            return cap, image, t
        except BaseException:
            cap.release()
            raise

    def _configure(self, cap: cv2.VideoCapture) -> None:
        req = self.requested
        if not self.is_file:
            if req["fourcc"]:  # before the size: V4L2 picks the sizes on offer per pixel format
                cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*req["fourcc"]))
            if req["width"]:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, req["width"])
            if req["height"]:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, req["height"])
            if req["fps"]:
                cap.set(cv2.CAP_PROP_FPS, req["fps"])
        declared = cap.get(cv2.CAP_PROP_FPS)
        if self.is_file:
            self.fps = req["fps"] or (declared if declared > 0 else self.DEFAULT_FILE_FPS)
        else:
            self.fps = declared if declared > 0 else None
        self.fourcc = fourcc_str(cap.get(cv2.CAP_PROP_FOURCC))

    def _grab(self, cap: cv2.VideoCapture) -> tuple[np.ndarray, float] | None:
        """One frame as (RGB image, t_capture), or None. Timestamped right after grab(), before retrieve()
        decodes it: that is closest to when the frame arrived."""
        if not cap.grab():
            return None
        t = time.monotonic()
        ok, image = cap.retrieve()
        if not ok or image is None:
            return None
        return to_rgb(image), t

    # -- reader thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        cap = self._cap
        # Files would otherwise play as fast as they decode; live sources are paced by the device itself.
        timer = DeadlineTimer(self.fps) if self.is_file and self.fps else None
        fails = 0
        try:
            while not self._stop.is_set():
                if cap is None:
                    cap, timer = self._try_reopen()
                    fails = 0
                    continue
                if timer is not None:
                    skipped = timer.wait_next(self._stop)
                    if skipped is None:
                        break
                    if skipped:  # we fell behind the file's clock: skip what a live camera would have lost
                        for _ in range(skipped):
                            cap.grab()
                        self._count_drops(skipped)
                got = self._grab(cap)
                if got is None and self.is_file:
                    if not self.loop:
                        self._set_error("reached the end of the video (loop=False)")
                        break
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    got = self._grab(cap)
                if got is not None:
                    fails = 0
                    self._publish(*got)
                    continue
                fails += 1
                self._count_drops()
                if fails >= self.FAILS_BEFORE_ERROR:
                    self._set_error(f"stopped delivering frames: unplugged? "
                                    f"(retrying every {self.reconnect_interval:g} s)")
                    cap.release()
                    cap = self._cap = None
                elif self._stop.wait(0.01):  # spread the retries so a short glitch does not count as a loss
                    break
        finally:
            if cap is not None:
                cap.release()
            self._cap = None

    def _try_reopen(self) -> tuple[cv2.VideoCapture | None, DeadlineTimer | None]:
        if self._stop.wait(self.reconnect_interval):
            return None, None
        try:
            cap, image, t = self._open_capture()
        except Exception:  # still gone; the error state keeps the first, clearer message
            return None, None
        self._cap = cap
        self._publish(image, t)  # clears the error state
        return cap, (DeadlineTimer(self.fps) if self.is_file and self.fps else None)
