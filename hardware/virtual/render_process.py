"""The virtual cameras' renderer in a process of its own, as a real camera is a device of its own.

Rendering three MuJoCo cameras on the CPU (llvmpipe) holds the interpreter's lock for milliseconds at a time;
in the control loop's process that alone made the loop's jitter p99 8-11 ms (bench/record_under_load.py,
docs/benchmarks.md P7) where the same loop without cameras keeps 0.7 ms. Here the world's pose (qpos, a few
hundred bytes) goes to a child process that holds its own copy of the model, poses it, renders the cameras
that fell due into shared memory and says so; a thread of the parent copies the images out and pushes them
to the cameras with the instant the pose was taken.

One request is in flight at a time. A request made while one is in flight waits in a one-deep slot (a newer
one replaces it and the replaced frames count as the camera's drops, as a real camera's missed frames do).
The child is this project's own, started with `spawn`: nothing untrusted crosses the pipe.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import threading
import time
from collections.abc import Callable
from multiprocessing import shared_memory

import numpy as np

from hardware.thread_priority import DEVICE, raise_priority

START_TIMEOUT_S = 60.0  # a busy 2-core machine takes seconds to import mujoco and open a GL context


class RenderProcessError(RuntimeError):
    pass


def _child(conn, cameras: tuple[str, ...], width: int, height: int, shm_names: dict[str, str],
           arm: str = "koch") -> None:
    """Runs in the render process: pose, render, write, reply; until told to quit or the parent goes."""
    import mujoco

    from .world import World

    try:
        world = World(cameras=cameras, width=width, height=height, arm=arm)
        blocks = {n: shared_memory.SharedMemory(name=s) for n, s in shm_names.items()}
        views = {n: np.ndarray((height, width, 3), np.uint8, buffer=b.buf) for n, b in blocks.items()}
    except Exception as e:  # the parent names it in one line
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready",))
    m, d = world.model, world.data
    try:
        while True:
            try:
                msg = conn.recv()
            except EOFError:
                return
            if msg[0] == "quit":
                return
            _, seq, qpos, names = msg
            d.qpos[:] = qpos
            mujoco.mj_kinematics(m, d)
            mujoco.mj_camlight(m, d)
            for n in names:
                views[n][:] = world.render(n)
            conn.send(("done", seq))
    finally:
        del views
        for b in blocks.values():
            b.close()
        world.close()


class RenderProcess:
    """Parent side. `request(qpos, names, t)`; frames arrive through `deliver(name, image, t)` on a thread."""

    def __init__(self, cameras: tuple[str, ...], width: int, height: int,
                 deliver: Callable[[str, np.ndarray, float], None], on_drop: Callable[[str], None],
                 on_error: Callable[[str], None], arm: str = "koch"):
        self.cameras, self.width, self.height = tuple(cameras), width, height
        self._deliver, self._on_drop, self._on_error = deliver, on_drop, on_error
        size = width * height * 3
        self._shm = {n: shared_memory.SharedMemory(create=True, size=size) for n in self.cameras}
        self._views = {n: np.ndarray((height, width, 3), np.uint8, buffer=b.buf) for n, b in self._shm.items()}
        ctx = mp.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=_child, name="robotapp-render", daemon=True,
                                 args=(child_conn, self.cameras, width, height,
                                       {n: b.name for n, b in self._shm.items()}, arm))
        self._lock = threading.Lock()
        self._in_flight: tuple[int, tuple[str, ...], float] | None = None
        self._pending: tuple[np.ndarray, tuple[str, ...], float] | None = None
        self._seq = 0
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False
        self.error: str | None = None
        try:
            self._proc.start()
        finally:
            child_conn.close()

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Blocks until the child has its renderer (or says why it has none: RenderProcessError)."""
        if self._thread is not None:
            return
        if not self._conn.poll(timeout):
            self.close()
            raise RenderProcessError(f"the virtual cameras' render process did not start within {timeout:.0f} s")
        try:
            msg = self._conn.recv()
        except EOFError:
            msg = ("error", f"it exited with code {self._proc.exitcode}")
        if msg[0] != "ready":
            self.close()
            raise RenderProcessError(f"the virtual cameras' render process failed: {msg[1]}")
        self._thread = threading.Thread(target=self._receive, name="render-receiver", daemon=True)
        self._thread.start()

    def request(self, qpos: np.ndarray, names: tuple[str, ...], t_capture: float) -> None:
        with self._lock:
            if self._closed:
                return
            if self._in_flight is None:
                self._send(qpos, names, t_capture)
                return
            if self._pending is not None:
                # a camera in both was superseded before it was rendered: that frame was missed; one only in
                # the older request is rendered late, from the newer pose
                old = self._pending[1]
                for n in old:
                    if n in names:
                        self._on_drop(n)
                names = (*names, *(n for n in old if n not in names))
            self._pending = (np.array(qpos, copy=True), names, t_capture)

    def _send(self, qpos, names, t_capture) -> None:  # under the lock
        self._seq += 1
        self._in_flight = (self._seq, names, t_capture)
        try:
            self._conn.send(("render", self._seq, np.asarray(qpos, dtype=float), names))
        except (OSError, ValueError) as e:
            self._fail(f"lost the render process ({e})")

    def _receive(self) -> None:
        raise_priority(DEVICE)  # a camera's frames arrive whatever else the machine does; a copy per frame
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                with self._lock:
                    if not self._closed:
                        self._fail(f"the render process ended (exit code {self._proc.exitcode})")
                return
            if msg[0] != "done":
                with self._lock:
                    self._fail(str(msg[1]))
                return
            with self._lock:
                _, names, t_capture = self._in_flight
                images = {n: self._views[n].copy() for n in names}  # before the next request reuses the memory
                self._in_flight = None
                if self._pending is not None and not self._closed:
                    self._send(*self._pending)
                    self._pending = None
                self._idle.notify_all()
            for n, image in images.items():
                with contextlib.suppress(Exception):  # a camera disconnected meanwhile takes no frames
                    self._deliver(n, image, t_capture)

    def _fail(self, why: str) -> None:  # under the lock
        self.error = why
        self._in_flight = self._pending = None
        self._closed = True  # no more requests: the cameras are told once, and show it as their error
        self._idle.notify_all()
        with contextlib.suppress(Exception):
            self._on_error(f"virtual camera renderer: {why}")

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is in flight or pending (a reset's frame is out before the next step)."""
        end = time.monotonic() + timeout
        with self._lock:
            while self._in_flight is not None or self._pending is not None:
                left = end - time.monotonic()
                if left <= 0 or not self._idle.wait(left):
                    return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._shm is None:
                return
            self._closed = True
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(("quit",))
        self._proc.join(timeout=5.0)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=5.0)
        self._conn.close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._views.clear()
        for b in self._shm.values():
            with contextlib.suppress(Exception):
                b.close()
                b.unlink()
        self._shm = None
