"""The calibration wizard's engine: calibration.CalibrationProcedure driven on its own thread by commands from a
window (record the middle pose, finish, cancel), sampling the joints at 20 Hz while the person sweeps them, so
the window can draw live range bars from `status()` without touching the bus.

The file is written through calibrate_and_save: only after the procedure succeeded and the motors took the new
values. On the virtual rig the window can also ask the scripted hand to place the middle pose and do the sweep;
like the CLI's --auto, the hand puts wrist_roll a little off its middle, which carries that joint's sweep across
the encoder's 0/4095 point, so the wrap warning and its fix are seen working."""

from __future__ import annotations

import copy
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

from calibration.calibrate_arm import calibrate_and_save
from calibration.doctor import RangeRow, range_report
from calibration.procedure import CalibrationError, CalibrationProcedure, CalibrationResult, JointRange
from hardware.arms.units import MAX_RES
from robotapp.core.rig_opener import OpenArm, is_virtual_rig, open_arm
from robotapp.services.setup_runner import FlowCancelled

SAMPLE_HZ = 20.0
AUTO_SWEEP_HZ = 100.0  # the scripted hand's poses per second: a sweep of six joints takes ~3 s
VIRTUAL_MIDDLE_ERROR = {"wrist_roll": 0.12}  # fraction of the range, as `robotapp calibrate --auto`


@dataclass
class CalibrationStatus:
    step: str  # opening, middle, sweeping, saved, failed, cancelled
    arm_id: str = ""
    ranges: list[JointRange] = field(default_factory=list)
    hint: str = ""  # why finish was refused (keep sweeping), or what to do now
    notes: list[str] = field(default_factory=list)  # what was corrected (the wrap fix)
    report: list[RangeRow] = field(default_factory=list)
    path: Path | None = None
    error: str = ""
    auto_sweeping: bool = False
    virtual: bool = False


def wrap_warning(r: JointRange) -> str:
    """The live warning for a joint whose sweep crossed the encoder's 0/4095 point, or ''."""
    if r.wraps or r.low < 0 or r.high > MAX_RES:
        seen = f" ({r.wraps}x)" if r.wraps else ""
        return (f"{r.name} crossed the encoder's 0/4095 point{seen}: its homing offset will be re-centred when "
                f"you finish")
    return ""


def calibrated_ranges(arm) -> list[JointRange]:
    """The saved ranges with the joints where they are now, in the encoder frame the new offsets give (a wrap
    the finish corrected is no longer a wrap here)."""
    raw = arm.read_raw()
    return [JointRange(n, arm.calibration[n].range_min, arm.calibration[n].range_max, int(raw[k]))
            for k, n in enumerate(arm.names)]


class CalibrationRun:
    def __init__(self, rig: str, role: str, *, arm_id: str | None = None, port: str | None = None,
                 profile: str | None = None, drive_modes: dict[str, int] | None = None):
        self._open_args = dict(rig=rig if port is None else "manual", role=role, port=port, profile=profile,
                               arm_id=arm_id)
        self._drive_modes = drive_modes
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._status = CalibrationStatus("opening", virtual=is_virtual_rig(rig) and port is None)
        self._opened: OpenArm | None = None
        self._thread = threading.Thread(target=self._run, name="calibration", daemon=True)
        self._thread.start()

    # -- commands from the window -----------------------------------------------------------------------------
    def record_middle(self) -> None:
        self._commands.put("middle")

    def finish(self) -> None:
        self._commands.put("finish")

    def cancel(self) -> None:
        self._commands.put("cancel")

    def auto_middle(self) -> None:
        """Virtual rig: the scripted hand puts the arm in its middle pose and records it."""
        self._commands.put("auto_middle")

    def auto_sweep(self) -> None:
        """Virtual rig: the scripted hand sweeps every joint end to end (the bars fill as it goes)."""
        self._commands.put("auto_sweep")

    def status(self) -> CalibrationStatus:
        with self._lock:
            return copy.deepcopy(self._status)

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the thread -------------------------------------------------------------------------------------------
    def _set(self, **changes) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self._status, k, v)

    def _run(self) -> None:
        try:
            self._opened = open_arm(**self._open_args, configure=False, load_saved=False)
            self._set(arm_id=self._opened.arm.arm_id)
            path, result = calibrate_and_save(self._opened.arm, self._opened.calibration_file, self._drive,
                                              self._drive_modes)
            arm = self._opened.arm
            self._set(step="saved", notes=list(result.notes), path=path, report=range_report(arm), hint="",
                      ranges=calibrated_ranges(arm))
        except FlowCancelled:
            self._set(step="cancelled", hint="")
        except Exception as e:
            self._set(step="failed", error=" ".join(str(e).split()) or type(e).__name__)
        finally:
            if self._opened is not None:
                self._opened.close()

    def _command(self, timeout: float | None) -> str | None:
        try:
            cmd = self._commands.get(timeout=timeout)
        except queue.Empty:
            return None
        if cmd == "cancel":
            raise FlowCancelled("cancelled")
        return cmd

    def _drive(self, proc: CalibrationProcedure) -> CalibrationResult:
        proc.prepare()
        self._set(step="middle", hint="Move the arm so every joint is in the middle of its range, then record it.")
        virtual = self._opened.virtual
        while True:
            cmd = self._command(None)
            if cmd == "auto_middle" and virtual is not None:
                virtual.pose({n: 0.5 + VIRTUAL_MIDDLE_ERROR.get(n, 0.0) for n in virtual.profile.names})
                break
            if cmd == "middle":
                break
        proc.record_middle()
        self._set(step="sweeping", ranges=copy.deepcopy(proc.ranges),
                  hint="Move every joint through its whole range, one joint at a time, then finish.")
        poses = None
        while True:
            cmd = self._command(1.0 / (AUTO_SWEEP_HZ if poses else SAMPLE_HZ))
            if cmd == "auto_sweep" and virtual is not None:
                poses = iter(virtual.sweep_poses())
            if poses is not None:
                pose = next(poses, None)
                if pose is None:
                    poses = None
                else:
                    virtual.pose(pose)
            ranges = proc.sample()
            self._set(ranges=copy.deepcopy(ranges), auto_sweeping=poses is not None)
            if cmd == "finish":
                try:
                    return proc.finish()
                except CalibrationError as e:
                    self._set(hint=str(e))
