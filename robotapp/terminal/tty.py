"""The terminal side of a running session: keys read from the TTY (n = next, r = re-record, q = stop; no
global keyboard hook, so it works over SSH, on Wayland and on macOS) and a live status line with rich. Without
a TTY (CI, a pipe) events are printed as plain lines, and the keys are the characters that come on stdin (a
script can send "n" or "q" through a pipe; stdin at its end, e.g. /dev/null, sends none)."""

from __future__ import annotations

import contextlib
import os
import queue
import select
import sys
import threading
import time
from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.text import Text

from robotapp.core.events import PROBLEMS, Event
from robotapp.core.modes import Snapshot


class KeyReader:
    """Calls on_key(char) for each key pressed in the controlling terminal (cbreak mode), or for each character
    but whitespace that comes on stdin when it is no terminal (a pipe), on its own thread."""

    def __init__(self, on_key: Callable[[str], None]):
        self.on_key = on_key
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.tty = sys.stdin is not None and sys.stdin.isatty()
        self.active = self.tty or _stdin_fd() is not None

    def start(self) -> KeyReader:
        """Start reading (again, after a stop())."""
        self._stop.clear()
        if self.active:
            self._thread = threading.Thread(target=self._run if self.tty else self._run_pipe, name="tty-keys",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        import termios
        import tty

        fd = sys.stdin.fileno()
        old = termios.tcgetattr(fd)
        try:
            tty.setcbreak(fd)
            while not self._stop.is_set():
                ready, _, _ = select.select([fd], [], [], 0.1)
                if ready:
                    ch = os.read(fd, 1).decode(errors="ignore")
                    if ch:
                        self.on_key(ch)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)

    def _run_pipe(self) -> None:
        fd = _stdin_fd()
        while fd is not None and not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            data = os.read(fd, 64).decode(errors="ignore")
            if not data:
                return  # end of stdin: no more keys
            for ch in data:
                if not ch.isspace() and not self._stop.is_set():
                    self.on_key(ch)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)


class PipeLines:
    """stdin as a pipe (a script): each line "t" is the T key, at once; the other lines wait, in order, for
    readline() (the marks). start()/stop() as a KeyReader's; reading goes on to the end of stdin."""

    def __init__(self, on_key):
        self.on_key, self._lines = on_key, queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="stdin-lines", daemon=True)

    def start(self) -> PipeLines:
        if not self._thread.is_alive() and self._thread.ident is None:
            self._thread.start()
        return self

    def stop(self) -> None:
        pass  # the reader ends with stdin; a line read after the run is not anyone's

    def _run(self) -> None:
        for line in sys.stdin if sys.stdin is not None else ():
            if line.strip().lower() == "t":
                self.on_key("t")
            else:
                self._lines.put(line)
        self._lines.put("")  # end of stdin

    def readline(self) -> str:
        line = self._lines.get()
        if line == "":
            self._lines.put("")  # every later read sees the end too
        return line


def _stdin_fd() -> int | None:
    try:
        return sys.stdin.fileno() if sys.stdin is not None else None
    except (OSError, ValueError):  # closed, or replaced by an object with no descriptor (a test runner's)
        return None


def block_view(every_s: float = 5.0) -> Callable[[str], None]:
    """Shows a block of lines that changes many times a second (the calibration's range bars): redrawn in place
    on a terminal; without one, printed at most every `every_s` seconds, so a log stays readable."""
    if sys.stdout.isatty():
        height = 0

        def redraw(text: str) -> None:
            nonlocal height
            clear = f"\x1b[{height}F\x1b[J" if height else ""
            sys.stdout.write(clear + text + "\n")
            sys.stdout.flush()
            height = text.count("\n") + 1
        return redraw
    last = [float("-inf")]

    def log(text: str) -> None:
        if time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            print(text, flush=True)
    return log


def status_text(snap: Snapshot) -> str:
    parts = [f"[{snap.mode.value}]"]
    if snap.phase:
        left = f" {snap.phase_remaining:4.1f}s" if snap.phase_remaining else ""
        parts.append(f"{snap.phase}{left}  saved {snap.episode}/{snap.episodes_target}")
    parts.append(f"loop {snap.loop_hz:5.1f} Hz  p99 {snap.tick_ms_p99:4.1f} ms")
    if snap.camera_fps:
        parts.append("  ".join(f"{n} {f:4.1f} fps" for n, f in snap.camera_fps.items()))
    if snap.message:
        parts.append(snap.message)
    return "  |  ".join(parts)


class StatusDisplay(contextlib.AbstractContextManager):
    """A live status line (TTY) above which events scroll; plain event lines otherwise."""

    def __init__(self, snapshot: Callable[[], Snapshot], keys_help: str = ""):
        self.snapshot = snapshot
        self.console = Console(stderr=False)
        self.live_ok = self.console.is_terminal
        self.keys_help = keys_help
        self._live: Live | None = None
        self._print_lock = threading.Lock()  # events arrive from several threads
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StatusDisplay:
        if self.live_ok:
            self._live = Live(Text(""), console=self.console, refresh_per_second=8, transient=True)
            self._live.__enter__()
            self._thread = threading.Thread(target=self._refresh, name="status-line", daemon=True)
            self._thread.start()
        return self

    def _refresh(self) -> None:
        while not self._stop.wait(0.125):
            line = status_text(self.snapshot())
            self._live.update(Text(line + (f"\n{self.keys_help}" if self.keys_help else "")))

    def event(self, e: Event) -> None:
        text = f"{e.kind}: {e.message}" if e.kind in PROBLEMS else e.message
        with self._print_lock:
            if self._live is not None:
                self._live.console.print(text, markup=False, highlight=False)
            else:
                print(text, flush=True)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._live is not None:
            self._live.__exit__(None, None, None)
