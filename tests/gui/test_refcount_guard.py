"""PySide6 6.12.0 on Python 3.11 drops a reference to None per void Qt call; the guard must keep a busy window
alive. Without it, this many calls would take None's count (a few tens of thousands) through zero and abort."""

import sys

import pytest
from PySide6.QtCore import QObject

from robotapp.gui import refcount_guard

pytestmark = pytest.mark.skipif(not refcount_guard.bug_present(), reason="this PySide6 keeps None's count")


def test_a_busy_window_does_not_run_none_out_of_references():
    assert refcount_guard.install()
    probe = QObject()
    for _ in range(300_000):  # ~ five minutes of a busy window's void calls
        probe.setObjectName("x")
    assert sys.getrefcount(None) > refcount_guard.FLOOR // 2
