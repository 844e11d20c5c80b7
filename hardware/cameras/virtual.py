"""VirtualCamera: frames from a renderer instead of a device, with the same threading and error behaviour as a
real camera, so everything above the Camera interface runs unchanged on the virtual rig.

Two modes:
- generated: its own thread calls `source(t)` at `fps` on a deadline timer (t = seconds since connect, on the
  tick grid, so frame k always shows the scene at k/fps); ticks missed because the renderer was slow are drops;
- push (source="push"): no thread; an external renderer (the MuJoCo world) calls `push(image)`.
A generated source that raises puts the camera in the error state and is retried every `reconnect_interval`
seconds, which is how fault injection can unplug a virtual camera.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import cv2
import numpy as np

from hardware.deadline_timer import DeadlineTimer

from .camera import Camera, CameraError, Frame

Source = Callable[[float], np.ndarray]


class ColorBarsPattern:
    """Colour bars, a black square bouncing across them and the frame number: motion, channel order and frame
    identity are visible at a glance and checkable in tests."""

    BARS_RGB = ((255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0),
                (0, 0, 255))

    def __init__(self, width: int, height: int, fps: float):
        self.width, self.height, self.fps = width, height, fps
        bars = np.zeros((height, width, 3), np.uint8)
        n = len(self.BARS_RGB)
        for i, color in enumerate(self.BARS_RGB):
            bars[:, i * width // n:(i + 1) * width // n] = color
        self._bars = bars
        self._side = max(4, min(width, height) // 5)
        self._scale = max(0.3, height / 240)

    def square_x(self, t: float) -> int:
        """Left edge of the square at time t: a triangle wave crossing the frame every 2 s."""
        phase = (t * 0.5) % 2.0
        return int((self.width - self._side) * (1.0 - abs(phase - 1.0)))

    def __call__(self, t: float) -> np.ndarray:
        img = self._bars.copy()
        x, y, s = self.square_x(t), (self.height - self._side) // 2, self._side
        cv2.rectangle(img, (x, y), (x + s - 1, y + s - 1), (0, 0, 0), thickness=-1)
        cv2.putText(img, str(round(t * self.fps)), (4, self.height - 6), cv2.FONT_HERSHEY_SIMPLEX, self._scale,
                    (0, 0, 0), thickness=max(1, round(2 * self._scale)), lineType=cv2.LINE_AA)
        return img


class VirtualCamera(Camera):
    def __init__(self, name: str, width: int = 320, height: int = 240, fps: float = 30.0,
                 source: Source | Literal["push"] | None = None, *, reconnect_interval: float = 1.0):
        self.push_mode = source == "push"
        super().__init__(name, "push" if self.push_mode else "virtual")
        if width <= 0 or height <= 0 or fps <= 0:
            raise ValueError(f"camera '{name}': width, height and fps must be positive, got {width}x{height} "
                             f"at {fps} fps")
        self.width, self.height, self.fps = width, height, float(fps)
        if not (source is None or self.push_mode or callable(source)):
            raise ValueError(f"camera '{name}': source must be a callable, 'push' or None, got {source!r}")
        self.source: Source | None = None
        if not self.push_mode:
            self.source = source if callable(source) else ColorBarsPattern(width, height, fps)
        self.reconnect_interval = reconnect_interval

    def connect(self) -> None:
        """Generated mode renders frame 0 here (a source that fails at once is a setup error: CameraError),
        then starts the thread. Push mode only opens the door for push()."""
        if self._connected:
            return
        if self.push_mode:
            self._set_connected(True)
            return
        t0 = time.monotonic()
        image = self._render(0.0)
        self._set_connected(True)
        self._publish(image, t0)
        self._start_thread(lambda: self._run(t0))

    def disconnect(self) -> None:
        self._stop_thread()
        self._set_connected(False)

    def push(self, image: np.ndarray, t_capture: float | None = None) -> Frame:
        """Publish an externally rendered frame (copied: renderers reuse their buffers)."""
        if not self.push_mode:
            raise self.camera_error("renders its own frames; push() needs source='push'")
        if not self._connected:
            raise self.camera_error("is not connected")
        return self._publish(self._checked(image), time.monotonic() if t_capture is None else t_capture)

    def missed(self, n: int = 1) -> None:
        """Push mode: the renderer could not deliver n frames that fell due (counted as drops)."""
        self._count_drops(n)

    def fail(self, detail: str) -> None:
        """Push mode: the renderer is gone; the camera shows it as its error."""
        self._set_error(self.camera_error(detail))

    def _checked(self, image: np.ndarray) -> np.ndarray:
        image = np.asarray(image)
        if image.shape != (self.height, self.width, 3) or image.dtype != np.uint8:
            raise self.camera_error(f"got an image of shape {image.shape} {image.dtype}, expected "
                             f"({self.height}, {self.width}, 3) uint8")
        return image.copy()

    def _render(self, t: float) -> np.ndarray:
        assert self.source is not None
        try:
            image = self.source(t)
        except Exception as e:
            raise self.camera_error(f"source failed: {type(e).__name__}: {e}") from e
        return self._checked(image)

    def _run(self, t0: float) -> None:
        timer = DeadlineTimer(self.fps, start=t0)
        while True:
            skipped = timer.wait_next(self._stop)
            if skipped is None:
                return
            if skipped:
                self._count_drops(skipped)
            t = timer.tick_time
            try:
                image = self._render(t - t0)
            except CameraError as e:
                self._set_error(e)
                if self._stop.wait(self.reconnect_interval):
                    return
                # Ticks while "unplugged" were never due, so they are not drops: rejoin the grid at now.
                timer.k = int((time.monotonic() - t0) / timer.period)
                continue
            self._publish(image, t)
