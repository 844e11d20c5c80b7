"""Real-time priority for the threads that keep time: granted where the system allows, else one line that says
how to allow it, printed once per process."""

import os
import threading

import pytest

from hardware import thread_priority


@pytest.fixture(autouse=True)
def fresh_hint(monkeypatch):
    monkeypatch.setattr(thread_priority, "_hint_given", False)
    monkeypatch.delenv("ROBOTAPP_REALTIME", raising=False)  # on by default


def test_turned_off_nothing_is_raised(monkeypatch):
    monkeypatch.setenv("ROBOTAPP_REALTIME", "0")
    monkeypatch.setattr(os, "sched_setscheduler", lambda *a: pytest.fail("asked for real-time priority"))
    assert thread_priority.raise_priority(thread_priority.CONTROL) is False


def test_a_refused_raise_says_once_how_to_allow_it(monkeypatch, capsys):
    def refuse(*a):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    assert thread_priority.raise_priority(thread_priority.CONTROL) is False
    assert thread_priority.raise_priority(thread_priority.DEVICE) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "setcap cap_sys_nice+ep" in err


@pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="no real-time scheduling on this system")
def test_a_granted_raise_makes_the_thread_real_time_and_not_its_children(capsys):
    seen = {}

    def body():
        seen["granted"] = thread_priority.raise_priority(thread_priority.DEVICE)
        me = threading.get_native_id()
        seen["policy"] = os.sched_getscheduler(me) & ~getattr(os, "SCHED_RESET_ON_FORK", 0)
        child = threading.Thread(target=lambda: seen.__setitem__(
            "child", os.sched_getscheduler(threading.get_native_id())))
        child.start()
        child.join()
    t = threading.Thread(target=body)
    t.start()
    t.join()
    if not seen["granted"]:
        pytest.skip("this system does not allow real-time priority (the hint was printed)")
    assert seen["policy"] == os.SCHED_FIFO
    assert seen["child"] == os.SCHED_OTHER  # threads it starts keep the normal priority
