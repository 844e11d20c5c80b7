"""The session's worker: one background thread for slow jobs, run in order (closing a writer, moving an episode
to the trash, preparing the next virtual scene), so the control loop never waits on them."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from hardware.thread_priority import BACKGROUND, raise_priority


class SessionWorker:
    """One background thread for slow jobs, in order (saving episodes, preparing the next virtual scene)."""

    def __init__(self):
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._pending = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="session-worker", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], object]) -> Future:
        fut: Future = Future()
        with self._cond:
            self._pending += 1
        self._q.put((fn, fut))
        return fut

    def _run(self) -> None:
        raise_priority(BACKGROUND)  # it shares the interpreter with the control loop (thread_priority.py)
        while True:
            item = self._q.get()
            if item is None:
                return
            fn, fut = item
            try:
                fut.set_result(fn())
            except BaseException as e:
                fut.set_exception(e)
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=5.0)
