"""The emulator's scripted hand (`robotapp emulate --hand`) and the stdin that drives the real-rig prompts without
a TTY: the hand moves backdrivable joints only, holds a spring-loaded one until released, sweeps each joint end
to end; the setup prompts, record's keys and eval's s/f marks read lines from a pipe."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading

import pytest

from hardware.motors.tables import MODE_CURRENT_POSITION, MODE_EXTENDED_POSITION
from hardware.virtual.chain import ServoChain
from hardware.virtual.hand import Hand, mechanics_for


@pytest.fixture
def hand():
    chain = ServoChain({i: "xl330-m077" for i in range(1, 7)})
    lines: list[str] = []
    h = Hand(chain, lines.append)
    h.power_up_at_middle()
    h.lines = lines
    return h


def answer(hand: Hand, command: str) -> str:
    hand.lines.clear()
    hand.command(command)
    assert hand.lines and hand.lines[0].startswith("hand: "), hand.lines
    return hand.lines[0].removeprefix("hand: ")


def test_pose_by_fraction_and_by_ticks(hand):
    assert answer(hand, "show") == "1=0.500 2=0.500 3=0.500 4=0.500 5=0.500 6=0.500"
    assert answer(hand, "pose 1=0.25 3=0.9") == "posed 1=0.250 3=0.900"
    m = mechanics_for(2)
    assert answer(hand, f"pose 2={round(m.ticks(0.75))}").startswith("posed 2=0.75")
    # the reading a bus sees moved by the same amount (homing offset 0 after the power-up)
    s = hand.chain.servo(1)
    assert abs(s.get("Present_Position") - (mechanics_for(1).ticks(0.25) - s.turn_base)) <= 1


def test_a_motor_under_torque_holds_against_the_hand(hand):
    s = hand.chain.servo(1)
    s.set("Operating_Mode", MODE_EXTENDED_POSITION)
    s.set("Goal_Position", s.get("Present_Position"))
    s.set("Torque_Enable", 1)
    assert answer(hand, "pose 1=0.8 2=0.7") == "posed 2=0.700; not moved, its motor holds it (torque on): 1"
    assert abs(hand.fraction(1) - 0.5) < 0.01
    assert answer(hand, "show").startswith("1=0.500* 2=0.700 ")


def test_a_spring_gives_way_while_held_and_returns_when_released(hand):
    s = hand.chain.servo(6)
    s.set("Operating_Mode", MODE_CURRENT_POSITION)
    s.set("Goal_Current", 100)
    s.set("Goal_Position", s.get("Present_Position"))
    s.set("Torque_Enable", 1)
    assert answer(hand, "pose 6=0.9") == "posed 6=0.900"
    s.update(hand.chain.clock() + 0.5)
    assert abs(hand.fraction(6) - 0.9) < 1e-6  # held against the spring
    assert 0 < abs(s.get("Present_Current")) <= 100  # pushing back with at most Goal_Current
    assert answer(hand, "release 6") == "released 6"
    s.update(hand.chain.clock() + 1.0)
    assert abs(hand.fraction(6) - 0.5) < 0.02  # the spring took it back to its goal


def test_sweep_reaches_both_ends_and_returns_to_the_middle(hand):
    seen = []
    real_move = hand.chain.servo(5).hand_move
    hand.chain.servo(5).hand_move = lambda ticks, now: (seen.append(ticks), real_move(ticks, now))[1]
    assert answer(hand, "sweep 5 in 0.2") == "swept 5"
    m = mechanics_for(5)
    assert min(seen) == pytest.approx(m.ticks(0.0)) and max(seen) == pytest.approx(m.ticks(1.0))
    assert hand.fraction(5) == pytest.approx(0.5)


def test_unplug_and_plug(hand):
    assert answer(hand, "unplug 2 3") == "plugged in: 1,4,5,6"
    assert answer(hand, "plug all") == "plugged in: 1,2,3,4,5,6"


@pytest.mark.parametrize("command, error", [
    ("pose 9=0.5", "no servo with id '9' here; ids: 1, 2, 3, 4, 5, 6"),
    ("pose 1=1.5", "1=1.5 is past the joint's mechanical stop: its range is 0.0..1.0"),
    ("pose 1", "'1': expected ID=VALUE"),
    ("pose 1=half", "1=half: not a number"),
    ("pose 1=0.5 in soon", "in soon: expected seconds"),
    ("wave", "unknown command 'wave'"),
    ("unplug", "unplug needs servo ids, or all"),
])
def test_bad_commands_answer_one_error_line(hand, command, error):
    assert answer(hand, command).startswith(f"error: {error}")
    assert len(hand.lines) == 1


def test_emulate_help_lists_the_hand_commands():
    out = subprocess.run([sys.executable, "-m", "robotapp", "emulate", "--help"], capture_output=True, text=True,
                         timeout=60).stdout
    assert "--hand" in out and "pose ID=VALUE" in out and "sweep [ID ...]" in out


def test_setup_prompts_read_lines_from_a_pipe(monkeypatch):
    from robotapp.setup.prompter import Prompter

    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    p = Prompter()
    p.wait("Move the arm to the middle.")  # one line: done
    with pytest.raises(RuntimeError, match="stdin ended before it was done: Put it back."):
        p.wait("Put it back.")


def test_eval_marks_read_one_line_per_episode(monkeypatch, capsys):
    from robotapp.cli.cmd_eval import PersonJudge

    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\ns\nf dropped it\n"))
    judge = PersonJudge()
    assert judge.outcome(0) == ("success", "")  # "yes" is refused, the next line counts
    assert judge.outcome(1) == ("fail", "dropped it")
    with pytest.raises(RuntimeError, match="episode 3 has no mark: stdin ended"):
        judge.outcome(2)
    out = capsys.readouterr().out
    assert "episode 1: mark it, one line: s (success), f (fail) or p (partial)" in out
    assert "please start with s, f or p" in out


def test_session_keys_come_from_a_pipe(monkeypatch):
    from robotapp.terminal.tty import KeyReader

    r, w = os.pipe()
    monkeypatch.setattr(sys, "stdin", os.fdopen(r))
    keys, done = [], threading.Event()
    reader = KeyReader(lambda ch: (keys.append(ch), ch == "q" and done.set())).start()
    try:
        assert reader.active and not reader.tty
        os.write(w, b"n\nr\nq\n")
        assert done.wait(5.0)
        assert keys == ["n", "r", "q"]
    finally:
        os.close(w)
        reader.stop()
