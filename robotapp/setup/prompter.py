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
        """Ask for a physical step and wait until it is done."""
        self.say(instruction)
        if sys.stdin is None or not sys.stdin.isatty():
            raise RuntimeError(f"this step needs a person at the keyboard: {instruction}")
        input("  press Enter when done ")

    def until_enter(self) -> threading.Event:
        """An Event set when the user presses Enter (for live loops such as the calibration sweep)."""
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
