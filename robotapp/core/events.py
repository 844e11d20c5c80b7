"""Events the session publishes (mode and phase changes, saved episodes, faults) for the CLI and the GUI.

Subscribers are called on the thread that publishes (often the control loop), so they must be quick: the GUI's
subscriber only queues the event for its timer. `drain()` is the polling alternative."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Event:
    kind: str  # mode, phase, episode_saved, episode_discarded, fault, estop, watchdog, info, error
    message: str  # one line in plain words, ready to show
    data: dict = field(default_factory=dict)
    t: float = field(default_factory=time.monotonic)


class EventBus:
    def __init__(self, keep: int = 1000):
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[Event], None]] = []
        self._queue: deque[Event] = deque(maxlen=keep)

    def subscribe(self, fn: Callable[[Event], None]) -> Callable[[], None]:
        """Call fn(event) for every event from now on; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)
        return unsubscribe

    def publish(self, kind: str, message: str, **data) -> Event:
        event = Event(kind, message, data)
        with self._lock:
            self._queue.append(event)
            subscribers = list(self._subscribers)
        for fn in subscribers:
            fn(event)
        return event

    def drain(self) -> list[Event]:
        """Events published since the last drain (oldest first)."""
        with self._lock:
            out = list(self._queue)
            self._queue.clear()
        return out
