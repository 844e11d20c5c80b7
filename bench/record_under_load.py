"""Recording on the virtual rig on a quiet machine, under a training run, and with the window open (issue 19).

The virtual rig records episodes with 3 cameras at 30 fps and the control loop at 90 Hz, (a) on a quiet machine,
(b) while a training run occupies every core, (c) as (b) with the window open on the Teleop page, its camera previews
and joint plots drawing.

    .venv/bin/python bench/record_under_load.py [--episodes 10] [--seconds 20] [--conditions a,b,c] [--quick]
        [--train-procs N] [--no-rt] [--markdown FILE] [--json FILE]

(b) and (c): the training run is the Train page's own (robotapp.jobs.training_job: `robotapp train --procs N` as a
separate process at the page's nice level) on a small dataset recorded first with `robotapp record --fast`; the
recording starts once it logs steps, and it is stopped (SIGTERM) when the recording ends. (c) runs the main window
on the real Qt event loop, with the app's heartbeat limit; the recording runs in the window's own session, in the
control process the app gives it (BENCH_HOST=inprocess: in the window's process instead), with the bench's scene (the demonstrator, then the leader resting until the
episode's time is up: every episode lasts --seconds, as in bench/record.py). Each condition runs in a fresh process.

Figures come from the telemetry stored with each episode (meta/robotapp/episodes.jsonl, read back through
DatasetReader.extra), watchdog trips from the session's events. Prints one table, a row per condition, with a mark per
target, and writes it as markdown (--markdown, default .bench/record_under_load.md) for docs/benchmarks.md.
--no-rt records without real-time thread priority (ROBOTAPP_REALTIME=0; it is on by default where allowed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("MUJOCO_GL", "egl")

HZ, FPS, WIDTH, HEIGHT = 90.0, 30, 320, 240
RESET_S, WARMUP_S = 1.0, 1.0
CONDITIONS = {
    "a": "quiet machine",
    "b": "training on every core",
    "c": "training on every core, window open and plotting",
}
LOADED = ("b", "c")
# The targets
QUIET_JITTER_MS, LOADED_JITTER_MS, LOADED_RATE, LOADED_HELD = 2.0, 4.0, 0.97, 0.005
FRAME_SLACK = 1.0
# How the emulated servos meet the bus: the app's default (in-process), or BENCH_TRANSPORT=pty to compare
TRANSPORT_OPTION = {"transport": os.environ["BENCH_TRANSPORT"]} if os.environ.get("BENCH_TRANSPORT") else {}
WAIT = threading.Event()  # never set: .wait(s) is an interruptible pause between polls


# ------------------------------------------------------------------------------------------------ one condition
def cpu_times() -> list[int] | None:
    """The machine's CPU time counters (/proc/stat's first line), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            return [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def cpu_share(t0: list[int] | None, t1: list[int] | None) -> dict | None:
    """Share of all cores busy between two cpu_times(), and the share at a nice level (the trainer's)."""
    if not t0 or not t1:
        return None
    d = [b - a for a, b in zip(t0, t1, strict=False)]
    total = sum(d[:8]) or 1  # user nice system idle iowait irq softirq steal
    return {"busy": 1 - (d[3] + d[4]) / total, "nice": d[1] / total}


def drive(session, rig, plan, timeout: float) -> dict:
    """Record `plan` in `session` (the bench's scene, aligning the follower first) and wait until it is over;
    the session's events and the machine's CPU share over the recording."""
    from record import LongDemo

    from robotapp.core.events import EpisodeDiscarded, Kind, Reason

    events = []
    unsubscribe = session.events.subscribe(events.append)
    t0, c0 = time.monotonic(), cpu_times()
    try:
        session.record(plan, scene=LongDemo(rig.sim, seed=0), align=True)
        if not session.wait_idle(timeout=timeout):
            raise TimeoutError(f"the recording did not end within {timeout:.0f} s")
    finally:
        unsubscribe()
    return {"wall_s": time.monotonic() - t0, "cpu": cpu_share(c0, cpu_times()),
            "watchdog": [e.message for e in events if e.kind == Kind.WATCHDOG],
            "rerecorded": sum(isinstance(e, EpisodeDiscarded) and e.reason == Reason.STALLED for e in events),
            "problems": [f"{e.kind}: {e.message}" for e in events
                         if e.kind in (Kind.FAULT, Kind.ESTOP, Kind.ERROR, Kind.WATCHDOG)],
            "end": next((f"{e.reason}: {e.message}" for e in events if e.kind == Kind.RECORDING_DONE), "")}


def record_headless(plan, timeout: float) -> dict:
    from record import CAMS

    from robotapp.core.modes import SessionConfig
    from robotapp.core.rig_opener import open_rig
    from robotapp.core.session import Session

    rig = open_rig(cameras=CAMS, width=WIDTH, height=HEIGHT, camera_fps=FPS, **TRANSPORT_OPTION)
    try:
        session = Session(rig, SessionConfig(control_hz=HZ, fps=FPS)).start()
        try:
            return drive(session, rig, plan, timeout)
        finally:
            session.close()
    finally:
        rig.close()


def record_in_window(plan, work: Path, timeout: float) -> dict:
    from gui_record_window import record_in_window as in_window  # Qt stays in bench/gui_*.py

    return in_window(plan, work, timeout, (WIDTH, HEIGHT, FPS))


def episodes_of(root: Path) -> list[dict]:
    """Each saved episode's stored telemetry, with the dataset's own frame count for it."""
    from robotapp.dataset import DatasetReader

    if not (root / "meta" / "info.json").is_file():  # a recording that saved nothing leaves no dataset
        return []
    reader = DatasetReader(root)
    try:
        return [{**reader.extra(ep).get("telemetry", {}), "length": reader.episodes[ep].length}
                for ep in range(reader.num_episodes)]
    finally:
        reader.close()


def run_condition(cond: str, episodes: int, seconds: float, out_json: Path) -> None:
    """Child process: record one condition's episodes into a temporary dataset; results as JSON."""
    from robotapp.core.recording import RecordingPlan

    work = Path(tempfile.mkdtemp(prefix=f"bench-load-{cond}-"))
    os.environ.setdefault("ROBOTAPP_HOME", str(work / "home"))
    plan = RecordingPlan(work / "ds", "pick and place the cube", episodes, seconds, reset_time=RESET_S,
                         warmup_time=WARMUP_S)
    timeout = episodes * (seconds + RESET_S) * 3 + 120  # room for re-recorded episodes
    try:
        res = record_in_window(plan, work, timeout) if cond == "c" else record_headless(plan, timeout)
    except Exception as e:  # noqa: BLE001 - the table says so, and the conditions after it still run
        traceback.print_exc()
        res = {"error": f"{type(e).__name__}: {e}", "wall_s": 0.0, "cpu": None, "watchdog": [], "rerecorded": 0,
               "problems": [], "end": ""}
    res["episodes"] = episodes_of(plan.dataset)
    res["rt"] = rt_allowed()
    out_json.write_text(json.dumps(res))


def rt_allowed() -> bool:
    """Whether the control loop got real-time priority in this process (tried on a throwaway thread)."""
    from hardware.thread_priority import raise_priority

    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(raise_priority(1)))
    t.start()
    t.join()
    return bool(got and got[0])


# ------------------------------------------------------------------------------------------------ the load
def record_training_dataset(work: Path) -> Path:
    """A small dataset for the trainer, recorded lock-step (`robotapp record --fast`)."""
    ds = work / "train-ds"
    cmd = [sys.executable, "-m", "robotapp", "record", "--demonstrator", "--fast", "--dataset", str(ds), "--task",
           "pick and place the cube", "--episodes", "3", "--episode-time", "8", "--reset-time", "0",
           "--warmup-time", "0"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=900)
    if done.returncode:
        raise SystemExit(f"could not record the training dataset:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    return ds


class Training:
    """The Train page's job (TrainingJob: the trainer's worker as a separate process, at the page's nice level),
    started with more steps than it will get; stopped with SIGTERM as the page's Stop does."""

    def __init__(self, dataset: Path, out: Path, procs: int):
        from robotapp.jobs.training_job import TrainingJob, TrainSpec

        self.spec = TrainSpec(dataset=str(dataset), out=str(out), steps=10_000_000, save_every=0, log_every=5,
                              processes=procs)
        self.job = TrainingJob(self.spec)

    def start(self, timeout: float = 600) -> None:
        """Start, and return once it logs training steps (the frame cache is built, every process is stepping)."""
        self.job.start()
        end = time.monotonic() + timeout
        while not self.job.poll():
            if not self.job.running:
                raise RuntimeError(f"the training run ended before its first step:\n{self.job.tail(10)}")
            if time.monotonic() > end:
                self.stop()
                raise TimeoutError(f"the training run logged no step within {timeout:.0f} s")
            WAIT.wait(0.5)

    def last_step(self) -> float:
        self.job.poll()
        return self.job.rows[-1]["step"] if self.job.rows else 0.0

    def stop(self) -> None:
        self.job.stop()
        end = time.monotonic() + 120
        while self.job.running and time.monotonic() < end:
            WAIT.wait(0.2)
        if self.job.running:
            self.job.kill()
        self.job.close()


# ------------------------------------------------------------------------------------------------ summary
def summarize(cond: str, res: dict, planned: int) -> dict:
    eps = res["episodes"]
    hz = [e["loop_hz"] for e in eps]
    jitter = [e["jitter_ms_p99"] for e in eps]
    frames = sum(e["frames"] for e in eps)
    held = sum(e.get("held_frames", 0) for e in eps)
    cams = sorted({c for e in eps for c in e.get("camera_dropped", {})})
    grid = [abs(e["frames"] - e.get("wall_seconds", e["seconds"]) * FPS) for e in eps]
    s = {
        "condition": cond, "episodes": len(eps), "planned": planned, "frames": frames,
        "loop_hz_median": statistics.median(hz) if hz else 0.0, "loop_hz_worst": min(hz, default=0.0),
        "tick_p50": statistics.median(e["tick_ms_p50"] for e in eps) if eps else 0.0,
        "tick_p99": max((e["tick_ms_p99"] for e in eps), default=0.0),
        "jitter_median": statistics.median(jitter) if jitter else 0.0, "jitter_worst": max(jitter, default=0.0),
        "missed": sum(e["missed_deadlines"] for e in eps), "held": held,
        "held_share": held / frames if frames else 0.0, "has_held": all("held_frames" in e for e in eps),
        "dropped": {c: sum(e.get("camera_dropped", {}).get(c, 0) for e in eps) for c in cams},
        "watchdog": len(res["watchdog"]), "rerecorded": res["rerecorded"],
        "grid_worst": max(grid, default=0.0),
        "length_mismatch": [i for i, e in enumerate(eps) if e["frames"] != e["length"]],
        "cpu": res.get("cpu"), "gui": res.get("gui"), "train": res.get("train"), "rt": res.get("rt"),
        "load": res.get("load"),
        "wall_s": res["wall_s"], "problems": res["problems"], "end": res["end"],
    }
    s["error"] = res.get("error", "")
    checks = {"episodes": (len(eps) == planned and not s["error"], f"= {planned}"),
              "grid": (s["grid_worst"] <= FRAME_SLACK and not s["length_mismatch"], "≤ 1")}
    if cond == "a":
        checks["jitter"] = (s["jitter_worst"] <= QUIET_JITTER_MS, f"≤ {QUIET_JITTER_MS:g} ms")
        checks["held"] = (held == 0 and s["has_held"], "0")
    else:
        checks["loop"] = (s["loop_hz_worst"] >= LOADED_RATE * HZ, f"≥ {LOADED_RATE * HZ:.1f}")
        checks["jitter"] = (s["jitter_worst"] <= LOADED_JITTER_MS, f"≤ {LOADED_JITTER_MS:g} ms")
        checks["watchdog"] = (s["watchdog"] == 0, "0")
        checks["held"] = (s["held_share"] <= LOADED_HELD and s["has_held"], f"≤ {100 * LOADED_HELD:g}%")
    s["checks"] = {k: {"ok": ok, "target": t} for k, (ok, t) in checks.items()}
    s["passed"] = all(ok for ok, _ in checks.values())
    return s


def mark(s: dict, key: str, text: str) -> str:
    c = s["checks"].get(key)
    if c is None:
        return text
    return f"{text} {'✓' if c['ok'] else '✗'}"


def table(rows: list[dict]) -> list[str]:
    cams = sorted({c for s in rows for c in s["dropped"]})
    head = ["condition", "loop Hz median (worst)", "tick p50 / p99 ms", "jitter p99 ms median (worst)",
            "missed deadlines", "held frames", f"dropped frames {' / '.join(cams)}", "watchdog trips",
            "episodes saved", "max \\|frames − s×fps\\|", "CPU busy (nice)", "result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in rows:
        cpu = s["cpu"]
        held = f"{s['held']} ({100 * s['held_share']:.2f}%)" if s["has_held"] else "n/a (not in telemetry)"
        failed = [k for k, c in s["checks"].items() if not c["ok"]]
        cells = [
            f"({s['condition']}) {CONDITIONS[s['condition']]}",
            mark(s, "loop", f"{s['loop_hz_median']:.1f} ({s['loop_hz_worst']:.1f})"),
            f"{s['tick_p50']:.2f} / {s['tick_p99']:.2f}",
            mark(s, "jitter", f"{s['jitter_median']:.2f} ({s['jitter_worst']:.2f})"),
            str(s["missed"]),
            mark(s, "held", held),
            " / ".join(str(s["dropped"][c]) for c in cams) or "-",
            mark(s, "watchdog", str(s["watchdog"]) + (f" ({s['rerecorded']} re-recorded)" if s["rerecorded"] else "")),
            mark(s, "episodes", f"{s['episodes']}/{s['planned']}"),
            mark(s, "grid", f"{s['grid_worst']:.2f}"),
            f"{100 * cpu['busy']:.0f}% ({100 * cpu['nice']:.0f}%)" if cpu else "n/a",
            "**pass**" if s["passed"] else "**FAIL** (" + ", ".join(failed) + ")",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def targets_text() -> list[str]:
    return [f"Targets (✓/✗ beside each figure): (a) jitter p99 ≤ {QUIET_JITTER_MS:g} ms and 0 held frames; (b) and (c) "
            f"loop ≥ {100 * LOADED_RATE:g}% of {HZ:g} Hz, jitter p99 ≤ {LOADED_JITTER_MS:g} ms, 0 watchdog trips, "
            f"held frames ≤ {100 * LOADED_HELD:g}% of the frames; all: every planned episode saved and each "
            f"episode's frames = its wall-clock seconds × {FPS} ± {FRAME_SLACK:g} (and equal to the dataset's own "
            f"count). Rates and jitter are judged on the worst episode (the median beside it); tick p99 is the "
            f"worst episode's; missed deadlines, held and dropped frames are summed over the episodes. Held frames "
            f"are the same in every camera (a held frame repeats the whole last frame); dropped frames are per "
            f"camera. CPU busy: all cores over the recording, in brackets the share at a nice level (the trainer)."]


def notes(rows: list[dict], cores: int) -> list[str]:
    out = []
    for s in rows:
        bits = [f"{s['wall_s']:.0f} s", f"load average (1 min) as it began {s['load']:.1f}",
                f"real-time priority {'on' if s['rt'] else 'off'}"]
        if s["condition"] not in LOADED and s["load"] > 0.5 * cores:
            bits.append(f"NOT a quiet machine: other programs kept it busy (load {s['load']:.1f} on {cores} cores); "
                        f"run this condition again when it is idle")
        if s["train"]:
            t = s["train"]
            bits.append(f"trainer ({t['procs']} processes, nice {t['nice']}) {t['steps_per_s']:.2f} steps/s "
                        f"during the recording")
        if s["gui"]:
            g = s["gui"]
            fps = ", ".join(f"{n} {v:.0f}" for n, v in g["preview_fps"].items())
            bits.append(f"window: joint plots redrawn {g['plot_redraws_per_s']:.1f}/s, camera previews {fps} fps")
        if s["length_mismatch"]:
            bits.append(f"episodes {s['length_mismatch']}: stored frame count differs from the telemetry's")
        if s["error"]:
            bits.append(f"the recording failed: {s['error']}")
        if s["problems"]:
            bits.append("the session said: " + "; ".join(s["problems"][:5]))
        if s["end"] and not s["end"].startswith("completed"):
            bits.append(f"the recording ended: {s['end']}")
        out.append(f"- ({s['condition']}) " + "; ".join(bits) + ".")
    return out


# ------------------------------------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=20.0, help="per episode")
    ap.add_argument("--conditions", default="a,b,c", help="any of a (quiet), b (training), c (training + window)")
    ap.add_argument("--quick", action="store_true", help="a trial: 2 episodes of 5 s per condition")
    ap.add_argument("--train-procs", type=int, default=None, help="trainer processes (default: one per core)")
    ap.add_argument("--no-rt", action="store_true", help="record without real-time thread priority (on by default)")
    ap.add_argument("--markdown", default=str(ROOT / ".bench" / "record_under_load.md"))
    ap.add_argument("--json", default=None, help="also write every episode's figures here")
    ap.add_argument("--run-condition", default=None, help=argparse.SUPPRESS)  # the child process
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.episodes, args.seconds = 2, 5.0
    if args.run_condition:
        run_condition(args.run_condition, args.episodes, args.seconds, Path(args.out))
        return 0
    conds = [c.strip() for c in args.conditions.split(",") if c.strip()]
    if not conds or any(c not in CONDITIONS for c in conds):
        ap.error(f"--conditions: a comma-separated list of {', '.join(CONDITIONS)}")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    procs = args.train_procs or cores
    work = Path(tempfile.mkdtemp(prefix="bench-record-load-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ROBOTAPP_HOME": str(work / "home")}
    if args.no_rt:
        env["ROBOTAPP_REALTIME"] = "0"
    os.environ["ROBOTAPP_HOME"] = env["ROBOTAPP_HOME"]
    started = datetime.now(UTC)
    load0 = os.getloadavg()[0]
    train_ds = None
    if any(c in LOADED for c in conds):
        print("recording the trainer's dataset (robotapp record --fast)...", file=sys.stderr, flush=True)
        train_ds = record_training_dataset(work)
    rows, raw = [], {}
    for cond in conds:
        print(f"({cond}) {CONDITIONS[cond]}: {args.episodes} episodes of {args.seconds:g} s...", file=sys.stderr,
              flush=True)
        training = None
        if cond in LOADED:
            training = Training(train_ds, work / f"train-{cond}", procs)
            training.start()
        out = work / f"{cond}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--run-condition", cond, "--episodes",
               str(args.episodes), "--seconds", str(args.seconds), "--out", str(out)]
        try:
            step0, t0 = (training.last_step(), time.monotonic()) if training else (0.0, 0.0)
            load = os.getloadavg()[0]
            child = subprocess.run(cmd, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                   timeout=args.episodes * (args.seconds + RESET_S) * 4 + 600)
            train = None
            if training:
                train = {"procs": procs, "nice": training.spec.nice,
                         "steps_per_s": (training.last_step() - step0) / (time.monotonic() - t0)}
        finally:
            if training:
                training.stop()
        if child.returncode or not out.is_file():
            print(f"({cond}) the recording process failed (exit {child.returncode}); see above", file=sys.stderr)
            return 1
        res = json.loads(out.read_text())
        res["train"], res["load"] = train, load
        raw[cond] = res
        rows.append(summarize(cond, res, args.episodes))
    command = "python bench/record_under_load.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = [
        f"## Recording under load: {args.episodes} episodes of {args.seconds:g} s per condition",
        "",
        f"Virtual rig, 3 cameras ({WIDTH}×{HEIGHT}, {FPS} fps, AV1 encoded while recording), control loop "
        f"{HZ:g} Hz, the scripted demonstrator on the leader. (b) and (c): the Train page's training run "
        f"(`robotapp train --procs {procs}`, ACT cpu-small, nice {train_nice()}) on a small "
        f"dataset recorded with `--fast`. (c): the main window on the Teleop page, the recording in its "
        + ("own process (BENCH_HOST=inprocess)." if os.environ.get("BENCH_HOST") == "inprocess"
           else "control process (as the app runs it)."),
        "",
        f"- **Command:** `{command}`",
        f"- **Machine:** {cpu_model()}, {cores} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}",
        f"- **Date:** {started:%Y-%m-%d %H:%M} UTC · load average (1 min) at start {load0:.1f}, at end "
        f"{os.getloadavg()[0]:.1f}",
        "",
        *table(rows),
        "",
        *targets_text(),
        "",
        *notes(rows, cores),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    md = Path(args.markdown)
    md.parent.mkdir(parents=True, exist_ok=True)
    if md.parent == ROOT / ".bench" and not (md.parent / ".gitignore").exists():
        (md.parent / ".gitignore").write_text("*\n")  # as `make bench` leaves it: results, never committed
    md.write_text(text)
    print(f"written to {md}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": rows, "raw": raw}, indent=1))
    return 0


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def train_nice() -> int:
    """The nice level the Train page starts a training run at."""
    from robotapp.jobs.training_job import TrainSpec

    return TrainSpec.nice


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the training run on the way out
    sys.exit(main())
