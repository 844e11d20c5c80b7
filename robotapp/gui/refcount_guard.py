"""A guard against a PySide6 bug: 6.12.0 on Python 3.11 drops one reference to None on every call of a Qt method
that returns nothing (setText, update, start, processEvents...), and one to True on every signal emit(). Python
3.12 made None, True and False immortal, which hides the bug there; on 3.11 a window making thousands of such
calls a second aborts with "none_dealloc: deallocating None" within a minute or two.

The real fix is a dependency pin (PySide6-Essentials != 6.12.0). Until then, where the bug is measured at import,
a daemon thread keeps the counts of None, True and False topped up by holding extra references in a list (8 bytes each; a busy window
costs a few tens of MB an hour). Where the bug is absent this does nothing."""

from __future__ import annotations

import sys
import threading

FLOOR = 2_000_000  # top up when None's count falls below this
CHUNK = 2_000_000  # references added per top-up (16 MB)
SINGLETONS = (None, True, False)
_bank: list[object] = []
_thread: threading.Thread | None = None


def bug_present() -> bool:
    if sys.version_info >= (3, 12):
        return False  # None is immortal: its count cannot reach zero
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(200):
        probe.setObjectName("probe")  # returns nothing
    return sys.getrefcount(None) - before < -150


def _top_up() -> None:
    for obj in SINGLETONS:
        if sys.getrefcount(obj) < FLOOR:
            _bank.extend([obj] * CHUNK)


def _run(stop: threading.Event, period: float) -> None:
    while not stop.wait(period):
        _top_up()


def install(period: float = 0.5) -> bool:
    """Start the guard if the bug is present (idempotent). Returns whether it runs."""
    global _thread
    if _thread is not None:
        return True
    if not bug_present():
        return False
    _top_up()
    _thread = threading.Thread(target=_run, args=(threading.Event(), period), name="none-refcount-guard",
                               daemon=True)
    _thread.start()
    return True
