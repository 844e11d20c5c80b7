"""DeadlineTimer: paces a loop (the session's control loop, camera readers, the physics thread) at a fixed rate."""

from __future__ import annotations

import threading
import time


class DeadlineTimer:
    """Ticks at start + k * period. Sleeping a fixed dt per loop would add the work time to every period and
    drift; deadlines do not. When a tick is late by a whole period or more, the ticks already missed are
    skipped (and reported) rather than fired in a burst."""

    def __init__(self, fps: float, start: float | None = None):
        self.period = 1.0 / fps
        self.start = time.monotonic() if start is None else start
        self.k = 0

    @property
    def tick_time(self) -> float:
        return self.start + self.k * self.period

    def wait_next(self, stop: threading.Event) -> int | None:
        """Sleep until the next tick; return how many ticks were skipped, or None if `stop` was set."""
        self.k += 1
        now = time.monotonic()
        skipped = 0
        if now >= self.tick_time + self.period:
            skipped = int((now - self.tick_time) / self.period)
            self.k += skipped
        if stop.wait(max(0.0, self.tick_time - now)):
            return None
        return skipped
