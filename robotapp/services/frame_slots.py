"""Camera frames from the control process to the window through shared memory (issue 19).

The control process owns the cameras; the window shows their newest frames. Each camera gets one shared block of
two image slots, each behind an int64 sequence number. The writer fills the slot it did not fill last (its number
set to -1 while it writes) and then tells the reader, in its next state message, which slot holds which frame.
The reader copies that slot out and checks the number before and after the copy: a frame overwritten during the
copy (the window held up for two publish periods) is skipped, never shown torn. Frames handed to the window are
its own copies, so nothing it keeps is ever rewritten."""

from __future__ import annotations

import contextlib
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory

import numpy as np

HEADER = 16  # two int64 sequence numbers, one per slot


class _Block:
    def __init__(self, shm: SharedMemory, shape: tuple[int, ...]):
        self.shm, self.shape = shm, tuple(shape)
        self.nbytes = int(np.prod(self.shape))
        self.seqs = np.ndarray((2,), np.int64, shm.buf, 0)
        self.slots = [np.ndarray(self.shape, np.uint8, shm.buf, HEADER + k * self.nbytes) for k in (0, 1)]

    def close(self) -> None:
        self.seqs = self.slots = None  # the views go first: a buffer with views alive cannot close
        with contextlib.suppress(Exception):
            self.shm.close()


class FrameWriter:
    """In the control process: publish(frames) copies the cameras' new frames into their blocks and returns what
    the reader needs, {camera: (block name, shape, slot, seq)}."""

    def __init__(self):
        self._blocks: dict[str, _Block] = {}
        self._next: dict[str, int] = {}
        self._sent: dict[str, tuple] = {}

    def publish(self, frames: dict[str, tuple[np.ndarray | None, int]]) -> dict[str, tuple]:
        for name in list(self._blocks):
            if name not in frames:
                self._drop(name)
        out = {}
        for name, (image, seq) in frames.items():
            if image is None or image.dtype != np.uint8:
                out[name] = None
                continue
            last = self._sent.get(name)
            if last is not None and last[3] == seq and last[1] == image.shape:
                out[name] = last  # no new frame: the slot still holds it
                continue
            block = self._block(name, image.shape)
            slot = self._next.get(name, 0)
            block.seqs[slot] = -1
            np.copyto(block.slots[slot], image)
            block.seqs[slot] = seq
            self._next[name] = 1 - slot
            out[name] = self._sent[name] = (block.shm.name, block.shape, slot, int(seq))
        return out

    def _block(self, name: str, shape: tuple[int, ...]) -> _Block:
        block = self._blocks.get(name)
        if block is None or block.shape != tuple(shape):
            self._drop(name)
            size = HEADER + 2 * int(np.prod(shape))
            block = self._blocks[name] = _Block(SharedMemory(create=True, size=size), shape)
            block.seqs[:] = -1
        return block

    def _drop(self, name: str) -> None:
        block = self._blocks.pop(name, None)
        self._sent.pop(name, None)
        self._next.pop(name, None)
        if block is not None:
            shm = block.shm
            block.close()
            with contextlib.suppress(Exception):
                shm.unlink()  # a reader still attached keeps its mapping until it lets go

    def close(self) -> None:
        for name in list(self._blocks):
            self._drop(name)


def _attach(name: str) -> SharedMemory:
    """Attach without registering the block with the resource tracker: the writer owns (and unlinks) it, and a
    second registration would have the tracker unlink it behind the writer's back (Python < 3.13 has no track=)."""
    register = resource_tracker.register
    resource_tracker.register = lambda *a, **k: None
    try:
        return SharedMemory(name=name)
    finally:
        resource_tracker.register = register


class FrameReader:
    """In the window's process: frames(meta) gives {camera: (RGB copy or None, seq)} as RigHost.frames() does."""

    def __init__(self):
        self._blocks: dict[str, _Block] = {}
        self._last: dict[str, tuple[np.ndarray | None, int]] = {}

    def frames(self, meta: dict[str, tuple | None]) -> dict[str, tuple[np.ndarray | None, int]]:
        out = {}
        for camera, entry in meta.items():
            if entry is None:
                out[camera] = (None, -1)
                continue
            name, shape, slot, seq = entry
            last = self._last.get(camera)
            if last is not None and last[1] == seq:
                out[camera] = last
                continue
            image = self._copy(name, shape, slot, seq)
            if image is not None:
                self._last[camera] = (image, seq)
            out[camera] = self._last.get(camera, (None, -1))
        return out

    def _copy(self, name: str, shape: tuple, slot: int, seq: int) -> np.ndarray | None:
        block = self._blocks.get(name)
        if block is None:
            try:
                block = self._blocks[name] = _Block(_attach(name), shape)
            except FileNotFoundError:
                return None  # replaced since (the camera reopened at another size): the next state names the new one
        if block.seqs[slot] != seq:
            return None
        image = block.slots[slot].copy()
        return image if block.seqs[slot] == seq else None

    def forget(self, keep: set[str]) -> None:
        """Let go of blocks the writer no longer names."""
        for name in [n for n in self._blocks if n not in keep]:
            self._blocks.pop(name).close()

    def close(self) -> None:
        self.forget(set())
        self._last.clear()
