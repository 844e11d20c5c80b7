"""Telemetry of the control loop: per tick (work time, lateness against the deadline) and per episode (achieved
rate, tick-time percentiles, jitter, camera fps and dropped frames, bus retries and faults), with the plain-words
flags that mark an episode worth a second look."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

# An episode is flagged when it falls short of these (fractions of the target rates, milliseconds, the share of
# frames held because the loop came late).
MIN_RATE_FRACTION = 0.95
MAX_JITTER_P99_MS = 10.0
MAX_HELD_FRACTION = 0.02


@dataclass
class EpisodeTelemetry:
    episode_index: int
    seconds: float
    frames: int
    loop_hz: float
    target_hz: float
    tick_ms_p50: float
    tick_ms_p99: float
    jitter_ms_p99: float  # how late the loop woke up, 99th percentile
    missed_deadlines: int
    camera_fps: dict[str, float] = field(default_factory=dict)
    camera_dropped: dict[str, int] = field(default_factory=dict)  # not captured, repeated, or not encoded
    bus_retries: int = 0
    bus_faults: int = 0  # timeouts + CRC errors + corrupt packets + failed calls
    held_frames: int = 0  # frames of instants the loop missed, written as the last frame again
    wall_seconds: float = 0.0  # the episode's wall-clock span on the frame grid (frames = wall_seconds x fps)
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        cams = ", ".join(f"{n} {fps:.1f} fps/{self.camera_dropped.get(n, 0)} dropped"
                         for n, fps in self.camera_fps.items())
        held = f" ({self.held_frames} held)" if self.held_frames else ""
        text = (f"episode {self.episode_index}: {self.frames} frames{held} in {self.seconds:.1f} s, loop "
                f"{self.loop_hz:.1f} Hz (p99 tick {self.tick_ms_p99:.1f} ms, jitter p99 {self.jitter_ms_p99:.1f} ms)"
                + (f", {cams}" if cams else "") + f", bus retries {self.bus_retries}, faults {self.bus_faults}")
        return text + (f"  FLAGGED: {'; '.join(self.flags)}" if self.flags else "")


class TickRecorder:
    """Collects one episode's ticks; `finish()` turns them into EpisodeTelemetry."""

    def __init__(self, target_hz: float, fps: float, cameras: list[str], bus_stats: list, lockstep: bool = False):
        self.target_hz, self.fps = target_hz, fps
        self.lockstep = lockstep  # lock-step with the virtual world: wall-clock rates say nothing
        self._bus_stats = bus_stats
        self._bus0 = [s.as_dict() for s in bus_stats]
        self._work: list[float] = []
        self._late: list[float] = []
        self.missed = 0
        self.frames = 0
        self.held_frames = 0
        self._cams = {c: {"new": 0, "stale": 0, "last_seq": -1, "drops0": None} for c in cameras}
        self.t0: float | None = None
        self.t_last = 0.0

    def tick(self, t_wake: float, lateness: float, work: float, skipped: int) -> None:
        if self.t0 is None:
            self.t0 = t_wake
        self.t_last = t_wake
        self._work.append(work)
        self._late.append(max(0.0, lateness))
        self.missed += skipped

    def frame(self, camera_seqs: dict[str, int], camera_drops: dict[str, int]) -> None:
        """A recorded frame: per camera, was its image new since the last frame, and the camera's drop counter."""
        self.frames += 1
        for name, seq in camera_seqs.items():
            c = self._cams[name]
            if c["drops0"] is None:
                c["drops0"] = camera_drops.get(name, 0)
            c["drops_now"] = camera_drops.get(name, 0)
            if seq == c["last_seq"]:
                c["stale"] += 1  # the camera had no new image: the frame repeats the last one
            else:
                c["new"] += 1
            c["last_seq"] = seq

    def held(self, n: int) -> None:
        """n frames written for instants the loop missed: the last frame again (not a camera's fault)."""
        self.frames += n
        self.held_frames += n

    def finish(self, episode_index: int, encoder_drops: dict[str, int] | None = None,
               wall_seconds: float | None = None) -> EpisodeTelemetry:
        span = self.t_last - self.t0 if self.t0 is not None else 0.0  # first to last tick
        seconds = span + 1.0 / self.target_hz if self.t0 is not None else 0.0
        work = np.array(self._work or [0.0]) * 1e3
        late = np.array(self._late or [0.0]) * 1e3
        bus_now = [s.as_dict() for s in self._bus_stats]
        delta = {k: sum(n[k] - b[k] for n, b in zip(bus_now, self._bus0, strict=True)) for k in bus_now[0]} \
            if bus_now else {}
        cam_fps, cam_drop = {}, {}
        for name, c in self._cams.items():
            cam_fps[name] = c["new"] / seconds if seconds > 0 else 0.0
            captured = c.get("drops_now", 0) - (c["drops0"] or 0)
            cam_drop[name] = int(c["stale"] + captured + (encoder_drops or {}).get(name, 0))
        t = EpisodeTelemetry(
            episode_index=episode_index, seconds=seconds, frames=self.frames,
            loop_hz=(len(self._work) - 1) / span if span > 0 else 0.0, target_hz=self.target_hz,
            tick_ms_p50=float(np.percentile(work, 50)), tick_ms_p99=float(np.percentile(work, 99)),
            jitter_ms_p99=float(np.percentile(late, 99)), missed_deadlines=self.missed,
            camera_fps=cam_fps, camera_dropped=cam_drop, bus_retries=int(delta.get("retries", 0)),
            bus_faults=int(sum(delta.get(k, 0) for k in ("timeouts", "crc_errors", "corrupt", "failures"))),
            held_frames=self.held_frames, wall_seconds=seconds if wall_seconds is None else float(wall_seconds))
        t.flags = flags_for(t, self.fps, self.lockstep)
        return t


def too_many_held(frames: int, held: int) -> bool:
    """More than MAX_HELD_FRACTION of an episode's frames held: worth recording again."""
    return frames > 0 and held > MAX_HELD_FRACTION * frames


def flags_for(t: EpisodeTelemetry, fps: float, lockstep: bool = False) -> list[str]:
    flags = []
    if not lockstep and t.loop_hz < MIN_RATE_FRACTION * t.target_hz:
        flags.append(f"control loop ran at {t.loop_hz:.1f} Hz, below {t.target_hz:g} Hz")
    if not lockstep and t.jitter_ms_p99 > MAX_JITTER_P99_MS:
        flags.append(f"loop jitter p99 {t.jitter_ms_p99:.1f} ms")
    for name, f in t.camera_fps.items():
        if not lockstep and f < MIN_RATE_FRACTION * fps:
            flags.append(f"camera '{name}' delivered {f:.1f} fps, below {fps:g}")
        if t.camera_dropped.get(name):
            flags.append(f"camera '{name}' dropped {t.camera_dropped[name]} frames")
    if t.bus_faults:
        flags.append(f"{t.bus_faults} bus faults")
    if too_many_held(t.frames, t.held_frames):
        flags.append(f"{t.held_frames} of {t.frames} frames ({100 * t.held_frames / t.frames:.0f}%) held: the control "
                     f"loop came late (the computer was busy); re-record this episode")
    return flags
