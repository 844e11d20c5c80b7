"""The Camera interface and the machinery every camera shares.

One producer per camera (a reader thread, or an external pusher) publishes frames; any number of consumers
(control loop, recorder, GUI preview) read the newest one. The latest frame sits behind a Condition and the lock
is held only for a pointer swap, so `read_latest` never waits on a capture. Published images are made read-only:
consumers share one array, and a consumer drawing on it would corrupt everyone else's view.
"""

from __future__ import annotations

import itertools
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hardware.thread_priority import BACKGROUND, raise_priority


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # HxWx3 uint8 RGB, read-only
    t_capture: float  # time.monotonic() seconds when the image was taken
    seq: int  # increases by one per published frame of this camera object, across reconnects


@dataclass(frozen=True)
class CameraStats:
    fps: float  # frames delivered per second over the last FPS_WINDOW_S seconds (0 when stalled)
    frames: int  # frames published since the camera object was made
    # Frames the source should have produced that we failed to get (failed grabs, skipped deadlines). A frame
    # overwritten before anybody read it is NOT a drop: consumers take the newest frame by design.
    drops: int
    reconnects: int  # times the camera came back after an error
    error: str | None  # the current error, None when healthy


class CameraError(Exception):
    """A camera problem; the one-line message starts with "camera '<name>'"."""

    def __init__(self, message: str, *, camera: str):
        super().__init__(" ".join(message.split()))  # one line, whatever the detail contained
        self.camera = camera


class Camera(ABC):
    FPS_WINDOW_S = 1.0

    def __init__(self, name: str, source_label: str = ""):
        self.name = name
        self.source_label = source_label
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._seq = -1
        self._error: str | None = None
        self._connected = False
        self._frames = self._drops = self._reconnects = 0
        self._arrivals: deque[float] = deque(maxlen=4096)  # publish times, for the fps window
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def label(self) -> str:
        return f"camera '{self.name}'" + (f" ({self.source_label})" if self.source_label else "")

    def camera_error(self, detail: str) -> CameraError:
        return CameraError(f"{self.label} {detail}", camera=self.name)

    # -- lifecycle (subclasses) -------------------------------------------------------------------------------

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def disconnect(self) -> None: ...

    def __enter__(self) -> Camera:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"

    # -- consumer side ----------------------------------------------------------------------------------------

    def read_latest(self, timeout: float | None = None) -> Frame:
        """The newest frame, immediately when there is one. With `timeout`, wait that long for the first frame;
        raises CameraError when not connected, in the error state, or (still) without a frame."""
        with self._cond:
            self._raise_if_unusable()
            if self._latest is not None:
                return self._latest
            if timeout is not None:
                self._cond.wait_for(lambda: self._latest is not None or self._error or not self._connected,
                                    timeout)
                self._raise_if_unusable()
                if self._latest is not None:
                    return self._latest
            waited = f" after waiting {timeout:g} s" if timeout is not None else ""
            raise self.camera_error(f"has no frame yet{waited}")

    def wait_new(self, after_seq: int, timeout: float, *, through_errors: bool = False) -> Frame:
        """Block until a frame with seq > after_seq exists and return the newest one. Raises CameraError on
        timeout, and at once in the error state unless `through_errors` (then it waits for a recovery)."""
        def ready() -> bool:
            newer = self._latest is not None and self._latest.seq > after_seq
            return newer or not self._connected or (bool(self._error) and not through_errors)

        with self._cond:
            self._cond.wait_for(ready, timeout)
            if self._latest is not None and self._latest.seq > after_seq and not self._error:
                return self._latest
            self._raise_if_unusable()
            raise self.camera_error(f"delivered no frame after seq {after_seq} within {timeout:g} s")

    @property
    def stats(self) -> CameraStats:
        now = time.monotonic()
        with self._cond:
            # newest first, stopping at the window's edge: ~fps items, not the whole history (the control loop
            # asks every tick; scanning all 4096 arrivals took 8% of the interpreter under load)
            recent = list(itertools.takewhile(lambda t: t >= now - self.FPS_WINDOW_S, reversed(self._arrivals)))
            recent.reverse()
            span = recent[-1] - recent[0] if len(recent) >= 2 else 0.0
            fps = (len(recent) - 1) / span if span > 0 else 0.0
            return CameraStats(fps, self._frames, self._drops, self._reconnects, self._error)

    @property
    def drops(self) -> int:
        """Frames the source should have produced that we failed to get (the cheap part of `stats`)."""
        with self._cond:
            return self._drops

    @property
    def is_connected(self) -> bool:
        return self._connected and self._error is None

    def _raise_if_unusable(self) -> None:  # caller holds the lock
        if not self._connected:
            raise self.camera_error("is not connected")
        if self._error is not None:
            raise CameraError(self._error, camera=self.name)  # a fresh exception: no traceback pile-up

    # -- producer side ----------------------------------------------------------------------------------------

    def _publish(self, image: np.ndarray, t_capture: float) -> Frame:
        image.flags.writeable = False
        now = time.monotonic()
        with self._cond:
            if self._error is not None:
                self._reconnects += 1
                self._error = None
            self._seq += 1
            self._frames += 1
            frame = Frame(image, t_capture, self._seq)
            self._latest = frame
            self._arrivals.append(now)
            self._cond.notify_all()
        return frame

    def _count_drops(self, n: int = 1) -> None:
        with self._cond:
            self._drops += n

    def _set_error(self, detail: str | CameraError) -> None:
        with self._cond:
            self._error = str(detail if isinstance(detail, CameraError) else self.camera_error(detail))
            self._cond.notify_all()

    def _set_connected(self, connected: bool) -> None:
        with self._cond:
            self._connected = connected
            if not connected:
                self._error = None
                self._latest = None  # a frame from before a disconnect must not pass for a fresh one
            self._cond.notify_all()

    def _start_thread(self, target: Callable[[], None]) -> None:
        self._stop.clear()
        def run() -> None:
            raise_priority(BACKGROUND)  # it shares the interpreter with the control loop (thread_priority.py)
            target()
        self._thread = threading.Thread(target=run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()

    def _stop_thread(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
