"""A scripted person's hand on an emulated servo chain (`robotapp emulate --hand`): text commands move the joints
as a person moves a real leader, or any arm during calibration (torque off). A joint whose motor holds a
position under torque does not give way, as on a real servo; a current-limited spring (current-based position
mode under torque: the leader's gripper trigger) gives way and stays where the hand holds it until `release`.

Joints are named by servo id. Ids 1-6 have a Koch v1.1 arm's mechanical ranges (the virtual rig's); any other id
turns 180 degrees about encoder tick 2048."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from .arms import KOCH_MECHANICS, TICKS_PER_DEGREE, Mechanics
from .chain import ServoChain

KOCH_ORDER = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
SWEEP_SECONDS = 1.2  # per joint, as a person sweeps during calibration
DWELL_S = 0.15  # held at each end, so a sampler at 10 Hz or more sees the end
RATE_HZ = 100.0

COMMANDS = """\
hand commands, one a line on stdin (each answers one line that starts with "hand:"):
  pose ID=VALUE ... [in SECONDS]  move joints by hand: a VALUE with a decimal point is a fraction of the joint's
                                  mechanical range (0.0 one end, 0.5 the middle, 1.0 the other end), a whole number
                                  is encoder ticks; "in S" moves there smoothly over S seconds (default: at once)
  sweep [ID ...] [in SECONDS]     each joint in turn (default: all) to one end of its range, to the other, back to
                                  the middle: what calibration asks for (default 1.2 s a joint)
  release [ID ...]                let go (default: all): a spring-loaded joint returns to its goal
  unplug ID ... | all             pull a servo's cable out: it stops answering
  plug ID ... | all               plug it back in (a power-up: the servo reboots)
  show                            where each joint is, as a fraction of its range (* = torque on)
A joint whose motor has torque on in a position mode holds against the hand and is not moved."""


def mechanics_for(motor_id: int) -> Mechanics:
    if 1 <= motor_id <= len(KOCH_ORDER):
        return Mechanics(*KOCH_MECHANICS[KOCH_ORDER[motor_id - 1]])
    return Mechanics(180.0, 2048)


class HandError(ValueError):
    pass


class Hand:
    def __init__(self, chain: ServoChain, out: Callable[[str], None] = print, stop: threading.Event | None = None):
        self.chain, self.out = chain, out
        self.stop = stop or threading.Event()
        self.mechanics = {s.id: mechanics_for(s.id) for s in chain.servos}

    def power_up_at_middle(self) -> None:
        """Every joint in the middle of its range, then a power-up (the reading folds into one turn there)."""
        with self.chain.lock:
            now = self.chain.clock()
            for s in self.chain.servos:
                s.move_by_hand(self.mechanics[s.id].ticks(0.5), now)
                s.reboot(now)

    # ------------------------------------------------------------------ commands
    def command(self, line: str) -> None:
        """Run one command line and answer it with one "hand:" line."""
        words = line.split()
        if not words:
            return
        verb, args = words[0].lower(), words[1:]
        try:
            handler = {"pose": self._pose, "sweep": self._sweep, "release": self._release, "unplug": self._unplug,
                       "plug": self._plug, "show": self._show, "help": lambda _: COMMANDS}.get(verb)
            if handler is None:
                raise HandError(f"unknown command {verb!r}; commands: pose, sweep, release, unplug, plug, show, help")
            answer = handler(args)
        except HandError as e:
            answer = f"error: {e}"
        for k, text in enumerate(answer.splitlines()):
            self.out(("hand: " if k == 0 else "  ") + text)

    def _pose(self, args: list[str]) -> str:
        args, seconds = _split_in(args, default=0.0)
        if not args:
            raise HandError("pose needs ID=VALUE, e.g. pose 1=0.5 6=0.8")
        targets = {}
        for a in args:
            ident, sep, value = a.partition("=")
            motor_id = self._id(ident)
            if not sep:
                raise HandError(f"{a!r}: expected ID=VALUE, e.g. {motor_id}=0.5")
            targets[motor_id] = self._ticks(motor_id, value)
        blocked = self._move(targets, seconds)
        moved = " ".join(f"{i}={self.fraction(i):.3f}" for i in targets if i not in blocked)
        return f"posed {moved or 'nothing'}" + _blocked(blocked)

    def _sweep(self, args: list[str]) -> str:
        args, seconds = _split_in(args, default=SWEEP_SECONDS)
        ids = [self._id(a) for a in args] or sorted(self.mechanics)
        blocked: set[int] = set()
        for i in ids:
            m = self.mechanics[i]
            here = self.fraction(i)
            legs = [(0.0, seconds * here / 2), (None, DWELL_S), (1.0, seconds / 2), (None, DWELL_S),
                    (0.5, seconds / 4)]
            for fraction, duration in legs:
                if self.stop.is_set():
                    raise HandError("stopped")
                if fraction is None:
                    self.stop.wait(duration)
                    continue
                blocked |= self._move({i: m.ticks(fraction)}, duration)
                if i in blocked:
                    break
        swept = ",".join(str(i) for i in ids if i not in blocked)
        return f"swept {swept or 'nothing'}" + _blocked(blocked)

    def _release(self, args: list[str]) -> str:
        ids = [self._id(a) for a in args] or sorted(self.mechanics)
        with self.chain.lock:
            for i in ids:
                self.chain.servo(i).release()
        return "released " + ",".join(map(str, ids))

    def _unplug(self, args: list[str]) -> str:
        for i in self._ids_or_all(args, "unplug"):
            self.chain.unplug(i)
        return "plugged in: " + (",".join(str(s.id) for s in self.chain.servos if s.plugged) or "none")

    def _plug(self, args: list[str]) -> str:
        for i in self._ids_or_all(args, "plug"):
            if not self.chain.servo(i).plugged:
                self.chain.replug(i)
        return "plugged in: " + (",".join(str(s.id) for s in self.chain.servos if s.plugged) or "none")

    def _show(self, args: list[str]) -> str:
        if args:
            raise HandError("show takes no arguments")
        return " ".join(f"{s.id}={self.fraction(s.id):.3f}{'*' if s.torque_on else ''}" for s in self.chain.servos)

    # ------------------------------------------------------------------ helpers
    def fraction(self, motor_id: int) -> float:
        """Where the joint is, as a fraction of its mechanical range."""
        m = self.mechanics[motor_id]
        with self.chain.lock:
            s = self.chain.servo(motor_id)
            s.update(self.chain.clock())
            actual = s.actual
        return 0.5 + (actual - m.middle_ticks) / (m.span_degrees * TICKS_PER_DEGREE)

    def _move(self, targets: dict[int, float], seconds: float) -> set[int]:
        """Move joints from where they are to `targets` (ticks) in a straight line over `seconds`; returns the ids a
        motor under torque held against the hand."""
        with self.chain.lock:
            start = {i: self.chain.servo(i).actual for i in targets}
        blocked: set[int] = set()
        t0 = time.monotonic()
        steps = max(1, round(seconds * RATE_HZ))
        for k in range(1, steps + 1):
            if k > 1 and self.stop.wait(max(0.0, t0 + k / RATE_HZ - time.monotonic())):
                break
            a = k / steps
            with self.chain.lock:
                now = self.chain.clock()
                for i, goal in targets.items():
                    if i not in blocked and not self.chain.servo(i).hand_move(start[i] + a * (goal - start[i]), now):
                        blocked.add(i)
        return blocked

    def _id(self, text: str) -> int:
        if not text.isdigit() or int(text) not in self.mechanics:
            raise HandError(f"no servo with id {text!r} here; ids: {', '.join(map(str, sorted(self.mechanics)))}")
        return int(text)

    def _ids_or_all(self, args: list[str], verb: str) -> list[int]:
        if not args:
            raise HandError(f"{verb} needs servo ids, or all")
        return sorted(self.mechanics) if args == ["all"] else [self._id(a) for a in args]

    def _ticks(self, motor_id: int, value: str) -> float:
        m = self.mechanics[motor_id]
        lo, hi = m.ticks(0.0), m.ticks(1.0)
        try:
            ticks = m.ticks(float(value)) if "." in value else float(int(value))
        except ValueError:
            raise HandError(f"{motor_id}={value}: not a number (a fraction like 0.5, or whole encoder ticks)") from None
        if not lo - 0.5 <= ticks <= hi + 0.5:
            raise HandError(f"{motor_id}={value} is past the joint's mechanical stop: its range is 0.0..1.0, "
                            f"encoder ticks {lo:.0f}..{hi:.0f}")
        return ticks


def _split_in(args: list[str], default: float) -> tuple[list[str], float]:
    """Takes a trailing 'in SECONDS' off the arguments."""
    if len(args) >= 2 and args[-2].lower() == "in":
        if not re.fullmatch(r"\d+(\.\d*)?", args[-1]):
            raise HandError(f"in {args[-1]}: expected seconds, e.g. in 1.5")
        return args[:-2], float(args[-1])
    return args, default


def _blocked(ids: set[int]) -> str:
    return f"; not moved, its motor holds it (torque on): {','.join(map(str, sorted(ids)))}" if ids else ""
