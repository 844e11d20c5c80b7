"""Waiting on session events without sleeping: subscribe, then wait on a threading.Event."""

from __future__ import annotations

import threading

from robotapp.core.events import Event


class EventWaiter:
    def __init__(self, session):
        self.events: list[Event] = []
        self._cond = threading.Condition()
        session.events.subscribe(self._on)

    def _on(self, e: Event) -> None:
        with self._cond:
            self.events.append(e)
            self._cond.notify_all()

    def wait(self, kind: str, timeout: float = 30.0, match: str = "", count: int = 1) -> Event:
        def found():
            hits = [e for e in self.events if e.kind == kind and match in e.message]
            return hits[count - 1] if len(hits) >= count else None
        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no {kind!r} event matching {match!r} within {timeout} s; got "
                                     f"{[(e.kind, e.message) for e in self.events]}")
            return found()

    def kinds(self) -> list[str]:
        with self._cond:
            return [e.kind for e in self.events]
