"""Waiting on session events without sleeping: subscribe, then wait on a threading.Event."""

from __future__ import annotations

import threading

from robotapp.core.events import Event, Kind

_MISSING = object()


class EventWaiter:
    def __init__(self, session):
        self.events: list[Event] = []
        self._cond = threading.Condition()
        session.events.subscribe(self._on)

    def _on(self, e: Event) -> None:
        with self._cond:
            self.events.append(e)
            self._cond.notify_all()

    def wait(self, kind: Kind, timeout: float = 30.0, count: int = 1, **fields) -> Event:
        """The count-th event of `kind` whose fields equal `fields`, e.g. wait(Kind.MODE, reason=Reason.ALIGNED)."""
        def found():
            hits = [e for e in self.events
                    if e.kind == kind and all(getattr(e, k, _MISSING) == v for k, v in fields.items())]
            return hits[count - 1] if len(hits) >= count else None
        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no {kind!r} event with {fields} within {timeout} s; got "
                                     f"{[(e.kind, e.message) for e in self.events]}")
            return found()

    def kinds(self) -> list[Kind]:
        with self._cond:
            return [e.kind for e in self.events]
