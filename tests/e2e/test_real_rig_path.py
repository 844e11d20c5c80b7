"""The README's "On real hardware" path from a terminal, end to end on the real-rig code paths: two `robotapp
emulate --hand` processes stand in for the two USB adapters (real Dynamixel bytes on a pty each), a saved rig
config points at their ports, and every step is the command a person with real arms runs, driven through stdin
without a TTY: calibrate both arms (the emulator's hand puts each arm in the middle pose and sweeps it), teleop
(the hand moves the leader, the follower's emulated servos follow), record 2 episodes, check the dataset, replay
an episode, train a tiny policy, evaluate it for 2 episodes marked s and f on stdin."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hardware.arms import load_profile

RIG = "koch"


class Proc:
    """A robotapp command with its stdin a pipe and its output read line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], stdin=subprocess.PIPE):
        self.args = args
        self.p = subprocess.Popen([sys.executable, "-m", "robotapp", *args], stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, env=env, bufsize=1)
        self.lines: list[str] = []
        self.seen = 0  # lines already looked at by expect()
        self.eof = False
        self._cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.p.stdout:
            with self._cv:
                self.lines.append(line.rstrip("\n"))
                self._cv.notify_all()
        with self._cv:
            self.eof = True
            self._cv.notify_all()

    @property
    def output(self) -> str:
        with self._cv:
            return "\n".join(self.lines)

    def expect(self, pattern: str, timeout: float = 60.0) -> re.Match:
        """The first line after the last one expect() looked at that matches `pattern`."""
        rx, deadline = re.compile(pattern), time.monotonic() + timeout
        with self._cv:
            while True:
                while self.seen < len(self.lines):
                    self.seen += 1
                    m = rx.search(self.lines[self.seen - 1])
                    if m:
                        return m
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    why = "it ended" if self.eof else f"{timeout:.0f} s passed"
                    pytest.fail(f"`robotapp {' '.join(self.args)}`: no line matching {pattern!r} ({why}); "
                                f"output:\n" + "\n".join(self.lines))
                self._cv.wait(left)

    def send(self, line: str) -> None:
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def finish(self, timeout: float = 120.0) -> str:
        """Waits for the command to end by itself; asserts exit code 0; returns all its output."""
        if self.p.stdin:
            self.p.stdin.close()
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            pytest.fail(f"`robotapp {' '.join(self.args)}` still running after {timeout:.0f} s:\n{self.output}")
        with self._cv:
            self._cv.wait_for(lambda: self.eof, timeout=10)
        assert rc == 0, f"`robotapp {' '.join(self.args)}` exited {rc}:\n{self.output}"
        return self.output

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()


def run(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 120.0) -> str:
    proc = Proc(args, env)
    if stdin:
        proc.p.stdin.write(stdin)
    return proc.finish(timeout)


class Hand:
    """The emulator of one arm, and its scripted hand."""

    def __init__(self, profile: str, env: dict[str, str], started: list[Hand]):
        prof = load_profile(profile)
        motors = ",".join(f"{j.id}:{j.model}" for j in prof.joints)
        self.emu = Proc(["emulate", "--motors", motors, "--baud", str(prof.baudrate), "--hand"], env)
        started.append(self)
        self.port = self.emu.expect(r"^port: (/dev/\S+)$", 30).group(1)
        self.emu.expect(r"^hand: ready")

    def do(self, command: str, answer: str, timeout: float = 60.0) -> re.Match:
        self.emu.send(command)
        return self.emu.expect(r"^hand: " + answer, timeout)

    def pose(self) -> dict[int, float]:
        """Where each joint is, as a fraction of its mechanical range."""
        m = self.do("show", r"(1=.*)")
        return {int(i): float(f) for i, f in re.findall(r"(\d+)=([\d.-]+)", m.group(1))}


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")


def test_real_rig_path_on_emulated_arms(tmp_path: Path):
    t0 = time.monotonic()
    home = tmp_path / "home"
    env = {**os.environ, "ROBOTAPP_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    hands: list[Hand] = []
    try:
        leader = Hand("koch-v1.1-leader", env, hands)
        follower = Hand("koch-v1.1-follower", env, hands)
        # --- the rig config, its arms on the emulators' ports
        out = run(["rig", "new", RIG, "--leader", leader.port, "--follower", follower.port], env)
        assert f"saved rig '{RIG}'" in out, out

        # --- calibrate both arms: the middle pose, Enter; the sweep, Enter
        for role, hand in (("leader", leader), ("follower", follower)):
            cal = Proc(["calibrate", "--rig", RIG, "--arm", role], env)
            cal.expect(r"Move the arm so every joint is in the middle")
            cal.expect(r"press Enter when done")
            hand.do("pose 1=0.5 2=0.5 3=0.5 4=0.5 5=0.52 6=0.5", r"posed 1=0\.500")
            cal.send("")
            cal.expect(r"Now move every joint through its whole range")
            hand.do("sweep", r"swept 1,2,3,4,5,6$")
            cal.send("")
            out = cal.finish(60)
            assert re.search(rf"calibration written to .*koch-{role}\.json", out), out
            assert (home / "calibration" / f"koch-{role}.json").is_file()

        # --- teleop: the leader starts 21 degrees off the follower, so --align moves the follower onto it first
        leader.do("pose 1=0.62", r"posed 1=0\.620")
        tele = Proc(["teleop", "--rig", RIG, "--align", "--seconds", "8"], env, stdin=subprocess.DEVNULL)
        tele.expect(r"aligned: teleop", 30)
        leader.do("pose 1=0.35 2=0.6 3=0.4 in 0.5", r"posed 1=0\.350 2=0\.600 3=0\.400")
        wait_until(lambda: all(abs(follower.pose()[i] - f) < 0.02 for i, f in ((1, 0.35), (2, 0.6), (3, 0.4))),
                   6, "the follower's emulated joints 1-3 following the leader to 0.35, 0.6, 0.4")
        lead, fol = leader.pose(), follower.pose()
        assert all(abs(lead[i] - fol[i]) < 0.03 for i in range(1, 7)), (lead, fol)
        out = tele.finish(30)
        assert re.search(r"teleop ended: loop [\d.]+ Hz", out), out

        # --- record 2 episodes while the hand moves the leader
        ds = tmp_path / "data" / "wave"
        rec = Proc(["record", "--rig", RIG, "--dataset", str(ds), "--task", "wave the arm", "--episodes", "2",
                    "--episode-time", "2", "--reset-time", "0.5", "--warmup-time", "0.5", "--align"], env,
                   stdin=subprocess.DEVNULL)
        for k in range(4):
            leader.emu.send(f"pose 1={0.3 if k % 2 else 0.7} 4={0.4 if k % 2 else 0.6} in 1.2")
        out = rec.finish(90)
        assert re.search(rf"saved 2 episode\(s\) to {re.escape(str(ds))} \(2 in the dataset\)", out), out

        # --- look at the dataset
        assert run(["dataset", "check", str(ds)], env).strip().endswith(f"{ds}: clean")
        info = run(["dataset", "info", str(ds)], env)
        assert re.search(r"\b2 episodes\b", info), info

        # --- replay episode 1 on the follower
        out = run(["replay", "--rig", RIG, "--dataset", str(ds), "--episode", "1"], env)
        m = re.search(r"replayed (\d+)/(\d+) frames of episode 1; follower vs recorded state: mean error ([\d.]+)", out)
        assert m and m.group(1) == m.group(2) and float(m.group(3)) < 3.0, out

        # --- train a tiny policy (CPU, a few steps)
        out = run(["train", "--dataset", str(ds), "--policy", "act", "--steps", "4", "--batch-size", "4",
                   "--out", str(tmp_path / "run"), "--save-every", "0", "--no-progress"], env, timeout=180)
        policy = re.search(r"trained 4 steps .*; policy: (\S+)", out)
        assert policy, out

        # --- evaluate it for 2 episodes, marked s and f on stdin
        out = run(["eval", "--policy", policy.group(1), "--rig", RIG, "--episodes", "2", "--episode-time", "1"], env,
                  stdin="s\nf reached past the cube\n")
        assert out.count("mark it, one line: s (success), f (fail) or p (partial)") == 2, out
        assert re.search(r"episode 2/2: fail \(reached past the cube\)", out), out
        assert re.search(r"^success: 1/2 \(rate 50\.0%, 95% CI \[", out, re.M), out
    finally:
        for hand in hands:
            hand.emu.stop()
    for hand in hands:
        assert "stopped after" in hand.emu.output, hand.emu.output
    print(f"real-rig path on emulated arms: {time.monotonic() - t0:.0f} s")
