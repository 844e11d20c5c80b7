"""Checked argparse types shared by every command line (`robotapp ...` and the training worker,
robotapp.cli.train_worker): a bad count, time, rate or size is refused while the arguments are parsed, in one line
that names the option, before anything starts."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable

SEED_MAX = 2**32 - 1  # numpy's legacy seeding and most tools take 32-bit seeds; torch takes more


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with errors on one line (`prog: error: argument --steps: ... (prog -h for help)`) instead of the
    usage block followed by the message; subparsers made from it inherit this, and open their --help with what
    the command does."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} -h` for help)\n")

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("action", _Commands)
        return super().add_subparsers(**kwargs)


class _Commands(argparse._SubParsersAction):
    """A command's one-line help (shown in its parent's list) is also its own --help's description, unless it
    has one: argparse would otherwise open `robotapp record --help` with the usage and options alone."""

    def add_parser(self, name, **kwargs):
        if kwargs.get("help") and not kwargs.get("description"):
            text = kwargs["help"][:1].upper() + kwargs["help"][1:]
            kwargs["description"] = text if text.endswith((".", "?", "!")) else text + "."
        return super().add_parser(name, **kwargs)


def integer(lo: int | None = None, hi: int | None = None, what: str | None = None) -> Callable[[str], int]:
    """A whole number within lo..hi (either end open when None)."""
    if what is None:
        what = ("a whole number" if lo is None and hi is None else
                f"a whole number from {lo} to {hi}" if lo is not None and hi is not None else
                "a positive whole number" if lo == 1 else
                "a whole number, 0 or more" if lo == 0 else
                f"a whole number of at least {lo}" if lo is not None else f"a whole number of at most {hi}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def number(lo: float | None = None, *, above: bool = False, what: str | None = None) -> Callable[[str], float]:
    """A finite number, at least lo (more than lo with above=True); nan and inf are refused."""
    if what is None:
        what = ("a finite number" if lo is None else f"a number more than {lo:g}" if above else
                f"a number, {lo:g} or more")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not math.isfinite(value) or (lo is not None and (value <= lo if above else value < lo)):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text.strip()}")
        return value

    parse.__name__ = "number"
    return parse


positive_int = integer(1)  # counts that must be at least one: episodes, steps, batch size, processes, fps
nonneg_int = integer(0)  # indices and counts that may be zero: an episode index, frames to cut, --save-every 0
seed = integer(0, SEED_MAX)
positive_float = number(0, above=True)  # times and rates: --episode-time, --hz, --minutes
nonneg_float = number(0)  # pauses that may be skipped: --reset-time 0, --warmup-time 0


def int_list(text: str) -> list[int]:
    """'0,3,7' -> [0, 3, 7]: indices (0 or more), at least one."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers like 0,3,7, got {text!r}") from None
    bad = [v for v in values if v < 0]
    if bad:
        raise argparse.ArgumentTypeError(f"{bad[0]} is negative: indices start at 0")
    return values


def size(text: str) -> list[int]:
    """'96x128' -> [96, 128] (height x width, both positive)."""
    try:
        h, w = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW like 96x128, got {text!r}") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"height and width must be positive, got {text!r}")
    return [h, w]


def setting(text: str) -> tuple[str, object]:
    """'chunk_size=50' -> ('chunk_size', 50): the value as JSON when it parses, else as text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value
