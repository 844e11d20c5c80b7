"""The doctor for a window: motor health of both arms, their calibrated ranges and the leader->follower mirror
test, run on a thread on arms of its own, with the results as rows (not text) for tables. The order of checks
is the CLI doctor's (flows.doctor): the mirror test runs only when nothing else is wrong, because a follower
with a dead or uncalibrated motor would be asked to move anyway."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from calibration.doctor import HealthRow, MirrorRow, RangeRow, health_table, mirror_test, range_report
from robotapp.core.rig_opener import OpenArm, is_virtual_rig, open_arm
from robotapp.setup import flows
from robotapp.setup.virtual_ops import parse_injections

SETTLE_S = 0.5  # per mirror pose: the follower reaches the leader's reading


@dataclass
class DoctorReport:
    state: str = "running"  # running, done, failed
    step: str = "opening the arms"
    health: dict[str, list[HealthRow]] = field(default_factory=dict)  # by arm id
    ranges: dict[str, list[RangeRow]] = field(default_factory=dict)
    mirror: list[MirrorRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # plain words: what was skipped and why
    problems: int = 0
    error: str = ""


class DoctorRun:
    def __init__(self, rig: str, inject: str | None = None):
        self.rig = rig
        self._faults = parse_injections(inject) if inject else None  # bad text raises here, in the caller
        if self._faults and not is_virtual_rig(rig):
            raise ValueError("Inject: breaking servos on purpose needs the virtual rig")
        self._lock = threading.Lock()
        self._report = DoctorReport()
        self._thread = threading.Thread(target=self._run, name="doctor", daemon=True)
        self._thread.start()

    def status(self) -> DoctorReport:
        with self._lock:
            r = self._report
            return DoctorReport(r.state, r.step, dict(r.health), dict(r.ranges), list(r.mirror), list(r.notes),
                                r.problems, r.error)

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _update(self, **changes) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self._report, k, v)

    def _run(self) -> None:
        arms: list[OpenArm] = []
        try:
            arms.append(open_arm(self.rig, "leader", configure=False, handshake=False))
            arms.append(open_arm(self.rig, "follower", configure=False, handshake=False,
                                 virtual_faults=self._faults))
            self._check(*arms)
            self._update(state="done", step="done")
        except Exception as e:
            self._update(state="failed", error=" ".join(str(e).split()) or type(e).__name__)
        finally:
            for a in arms:
                a.close()

    def _check(self, leader: OpenArm, follower: OpenArm) -> None:
        problems, health, ranges, notes = 0, {}, {}, []
        for opened in (leader, follower):
            arm = opened.arm
            self._update(step=f"motor health of {arm.arm_id}")
            rows = health_table(arm.bus)
            health[arm.arm_id] = rows
            problems += sum(1 for r in rows if r.problem)
            self._update(health=dict(health), problems=problems)
            if arm.calibration is None:
                notes.append(f"{arm.arm_id} is not calibrated: calibrate it first")
                problems += 1
                continue
            if any(r.problem.startswith("not answering") for r in rows):
                notes.append(f"{arm.arm_id}: ranges not read while a motor is not answering")
                continue
            arm.configure()  # the file's offsets into the motors before reading ranges
            ranges[arm.arm_id] = range_report(arm)
            problems += sum(1 for r in ranges[arm.arm_id] if r.problem)
            self._update(ranges=dict(ranges), problems=problems, notes=list(notes))
        if problems:
            notes.append("mirror test skipped: fix the problems above first")
        elif leader.virtual is None:
            notes.append("mirror test: needs the virtual rig here (on hardware, move the leader and watch the "
                         "Teleop page's joint plots)")
        else:
            self._update(step="mirror test: the follower copies the leader through 6 poses")
            mirror = mirror_test(leader.arm, follower.arm, flows.virtual_mirror_poses(leader),
                                 lambda: time.sleep(SETTLE_S))
            problems += sum(1 for r in mirror if r.problem)
            self._update(mirror=mirror)
        self._update(problems=problems, notes=notes)
