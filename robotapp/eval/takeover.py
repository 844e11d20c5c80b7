"""Take over and hand back while a policy runs (DAgger-style corrections).

`TakeoverSwitch` holds what the person (a key, a button) or the scripted corrector asks for; any thread may ask,
the policy source applies it on the control thread (evaluate.PolicySource), so a switch is one tick:

- take over: the policy's actions stop and the follower holds its last goal ("aligning") until the leader is
  within the align threshold of it; from then on the follower copies the leader ("human");
- hand back: the policy's plan and history are dropped (PolicyRunner.clear_plan) and it predicts again from the
  state then ("policy").

Every goal still goes through the follower's per-step clamp, so no switch can make it jump.

`ScriptedCorrector` stands in for the person on the virtual rig: it watches the world each tick, takes over
when the episode is going wrong (the cube not grasped by `grasp_by`, pushed away, or dropped outside the zone),
brings the leader onto the follower at a hand's pace, solves the task from there with the demonstrator, and
hands back when the demonstration ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import Enum

import numpy as np

GRASP_BY_S = 8.0  # an episode whose cube is not in the gripper by then is going wrong
PUSHED_M = 0.03  # the cube slid this far from its start without being lifted
ALIGN_S = 1.0  # the scripted hand brings the leader onto the follower in this long


class Control(Enum):
    POLICY = "policy"
    ALIGNING = "aligning"  # taken over: the follower holds until the leader is on it
    HUMAN = "human"


class TakeoverSwitch:
    """Requests from any thread; `control` is written by the control thread only."""

    def __init__(self, on_change: Callable[[Control], None] | None = None):
        self._lock = threading.Lock()
        self._human = False
        self._why = ""
        self.control = Control.POLICY
        self.on_change = on_change  # called on the control thread when who drives changes (keep it short)
        self.spans: list[tuple[int, int]] = []  # (first, last) frame of each taken-over span this episode

    def take_over(self, why: str = "taken over") -> None:
        with self._lock:
            self._human, self._why = True, why

    def hand_back(self) -> None:
        with self._lock:
            self._human = False

    def toggle(self) -> bool:
        """T: take over when the policy drives, hand back when the person does. Returns whether taken over."""
        with self._lock:
            self._human = not self._human
            self._why = "taken over" if self._human else self._why
            return self._human

    def wanted(self) -> tuple[bool, str]:
        with self._lock:
            return self._human, self._why

    def set_control(self, control: Control) -> None:
        """The control thread's: who drives from this tick on."""
        if control is not self.control:
            self.control = control
            if self.on_change is not None:
                self.on_change(control)

    def new_episode(self) -> None:
        with self._lock:
            self._human, self._why = False, ""
        self.control = Control.POLICY
        self.spans = []

    @property
    def taken_over(self) -> bool:
        return self.control is not Control.POLICY


class ScriptedCorrector:
    """The person's hand of a virtual-rig evaluation (see the module's text). `check(t)` runs on the control
    thread once per tick, t = the episode's seconds. auto=True: it takes over by itself when the episode goes
    wrong; auto=False: only when someone asks (T in the window), and a second T hands back at once."""

    def __init__(self, sim, switch: TakeoverSwitch, seed: int = 0, grasp_by: float = GRASP_BY_S,
                 max_takeovers: int = 1, auto: bool = True, realtime: bool = False):
        from hardware.virtual.demonstrator import Demonstrator

        self.sim, self.switch = sim, switch
        self.grasp_by, self.max_takeovers, self.auto, self.realtime = grasp_by, max_takeovers, auto, realtime
        self.demo = Demonstrator(sim.world, seed=seed)
        self.reasons: list[str] = []
        self._end: float | None = None
        self._t0 = 0.0
        self._lifted = False

    def new_episode(self) -> None:
        self.reasons, self._end, self._lifted = [], None, False

    def check(self, t: float) -> None:
        wanted, why = self.switch.wanted()
        if self._end is not None:  # correcting: hand back when the demonstration has been played
            if not wanted:  # handed back early (T again)
                self._end = None
                self.sim.set_leader_source(None)
            elif t - self._t0 >= self._end:
                self._end = None
                self.sim.set_leader_source(None)
                self.switch.hand_back()
            return
        if wanted:  # someone took over: the hand comes onto the follower and solves the task from there
            self._start(t, why or "taken over")
            return
        if self.auto and len(self.reasons) < self.max_takeovers:
            why = self.going_wrong(t)
            if why:
                self.switch.take_over(why)
                self._start(t, why)

    def going_wrong(self, t: float) -> str:
        """Why the episode needs a correction now, in plain words; "" while it is on track."""
        from hardware.virtual.world import CUBE_SIZE, TARGET_HALF, TARGET_XY

        world = self.sim.world
        with self.sim.lock:
            pos = world.cube_pose()[0]
            start = world.cube_start[0]
            held = world.cube_touching_gripper()
        lifted = pos[2] > CUBE_SIZE / 2 + 0.015
        self._lifted |= lifted
        if lifted or held:
            return ""
        in_zone = bool(np.all(np.abs(pos[:2] - TARGET_XY) <= TARGET_HALF))
        if in_zone:
            return ""
        if self._lifted:
            return "cube dropped outside the zone"
        if float(np.linalg.norm(pos[:2] - start[:2])) > PUSHED_M:
            return f"cube pushed {100 * PUSHED_M:.0f} cm away"
        if t >= self.grasp_by:
            return f"cube not grasped by {self.grasp_by:g} s"
        return ""

    def _start(self, t: float, why: str) -> None:
        from hardware.virtual.demonstrator import min_jerk

        self.reasons.append(why)
        with self.sim.lock:
            cube, target = self.sim.world.cube_pose(), self.sim.world.target_pose()
        q_leader, q_follower = self.sim.leader_angles(), self.sim.follower_angles()
        demo, ready = self.demo, threading.Event()

        def plan() -> None:  # ~0.1-0.2 s of IK
            demo.reset(cube, target, start_q=q_follower)
            ready.set()
        if self.realtime:  # never on the control thread in real time: a tick that long trips the watchdog
            threading.Thread(target=plan, name="corrector-plan", daemon=True).start()
        else:  # lock-step: the world waits, and the result does not depend on the machine's speed
            plan()
        self._t0, self._end = t, float("inf")  # the end is known once the demonstration starts
        started: list[float] = []

        def hand(s: float) -> np.ndarray:  # onto the follower at a hand's pace, then the demonstration
            if s < ALIGN_S:
                return q_leader + min_jerk(s / ALIGN_S) * (q_follower - q_leader)
            if not ready.is_set():  # still planning: the hand rests on the follower
                return q_follower.copy()
            if not started:
                started.append(s)
                self._end = s + demo.duration
            return demo.action(s - started[0])
        self.sim.set_leader_source(hand)
