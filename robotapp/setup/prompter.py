"""How a setup flow asks for a physical action. A person at a terminal presses Enter; on the virtual rig a
VirtualOperator performs the action itself, so every flow runs end to end with no hardware."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


class Prompter:
    def say(self, text: str) -> None:
        print(text, flush=True)

    def wait(self, instruction: str, action: str | None = None) -> None:
        """Ask for a physical step and wait until it is done: Enter at a terminal; without one (a pipe, a script
        driving the command) a line on stdin. Stdin at its end refuses the step with one line."""
        self.say(instruction)
        if sys.stdin is not None and sys.stdin.isatty():
            input("  press Enter when done ")
            return
        self.say("  press Enter when done (no terminal: waiting for a line on stdin)")
        if sys.stdin is None or not sys.stdin.readline():
            raise RuntimeError(f"this step needs a person: stdin ended before it was done: {instruction}")

    def until_enter(self) -> threading.Event:
        """An Event set when the user presses Enter, or a line comes on stdin (for live loops such as the
        calibration sweep)."""
        done = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.readline(), done.set()), daemon=True).start()
        return done


class VirtualOperator(Prompter):
    """Plays the person: each named action is a callable that changes the virtual rig."""

    def __init__(self, actions: dict[str, Callable[[], None]] | None = None, out: Callable[[str], None] = print):
        self.actions = dict(actions or {})
        self.out = out
        self.log: list[str] = []

    def say(self, text: str) -> None:
        self.out(text)

    def wait(self, instruction: str, action: str | None = None) -> None:
        self.say(f"{instruction}  [virtual rig: done for you]")
        self.log.append(action or instruction)
        if action is not None:
            if action not in self.actions:
                raise RuntimeError(f"the virtual operator cannot do {action!r}")
            self.actions[action]()
