"""A training run as a separate process: the same trainer as the CLI (its worker, `python -m robotapp.cli.train_worker`), started from a
dataclass (an argument list, never a shell string), followed by tailing its train_log.csv, stopped with SIGTERM
(the trainer finishes the step and saves a checkpoint) and resumed with --resume. Qt-free: the window polls it.
A spec may name several datasets (trained together, mixed by `weights`) and a run to fine-tune from
(`fine_tune`: --resume-from, a new run in `out` from that run's weights, config and normalisation stats).

The trainer's own output (its progress lines, library warnings, an error) goes to the run's log file,
OUT/trainer_output.txt; the window shows what `progress()` makes of it, never the raw lines."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from policies.run_folder import fine_tune_start, refuse_same_folder
from robotapp.core.field_error import FieldError, raise_first
from robotapp.dataset.layout import is_dataset
from robotapp.jobs.train_launch import WORKER, default_processes  # noqa: F401 - the Train page's default (torch-free import)

PRESETS = ("cpu-small", "lerobot-default")
POLICIES = ("act", "diffusion")


@dataclass
class TrainSpec:
    dataset: str  # the first dataset
    out: str
    policy: str = "act"
    preset: str = "cpu-small"
    steps: int = 1000
    save_every: int = 1000
    log_every: int = 10
    resume: bool = False
    settings: dict = field(default_factory=dict)  # config overrides, passed as --set KEY=JSON
    num_threads: int | None = None
    processes: int = 1  # data-parallel trainer processes (robotapp.jobs.train_launch); on a CPU one per core is fastest
    nice: int = 5  # the trainer yields the CPU to the window and the control loop (0: same priority)
    more_datasets: list[str] = field(default_factory=list)  # trained together with `dataset`
    weights: str = "balanced"  # balanced | frames | "1,3" (one weight per dataset): --weights
    fine_tune: str = ""  # a run (or checkpoint folder) to fine-tune from: --resume-from; "" trains from scratch

    @property
    def datasets(self) -> list[str]:
        return [self.dataset, *self.more_datasets]

    def problems(self) -> list[FieldError]:
        """Every bad field, in the form's order."""
        out = []
        for path in self.datasets:
            if not path or not is_dataset(path):
                out.append(FieldError("dataset", f"{path or '(empty)'} is not a LeRobot dataset folder"))
                break
        out += self._mixing_problems()
        if not self.out:
            out.append(FieldError("run folder", "give a folder for the run"))
        elif self.resume and not checkpoints(self.out):
            out.append(FieldError("run folder", f"nothing to resume in {self.out} (no checkpoints there)"))
        elif not self.resume and (Path(self.out) / "checkpoints").is_dir() and any((Path(self.out) / "checkpoints").iterdir()):
            out.append(FieldError("run folder", f"{self.out} already holds checkpoints (resume it, or pick another "
                                                f"folder)"))
        if self.policy not in POLICIES:
            out.append(FieldError("policy", f"{self.policy!r} is not one of {', '.join(POLICIES)}"))
        if self.preset not in PRESETS:
            out.append(FieldError("preset", f"{self.preset!r} is not one of {', '.join(PRESETS)}"))
        if self.steps < 1:
            out.append(FieldError("steps", f"must be at least 1, got {self.steps}"))
        if self.processes < 1:
            out.append(FieldError("processes", f"must be at least 1, got {self.processes}"))
        return out

    def _mixing_problems(self) -> list[FieldError]:
        out = []
        words = self.weights.strip().lower() or "balanced"
        if words not in ("balanced", "frames"):
            try:
                values = [float(w) for w in words.split(",")]
            except ValueError:
                values = None
            if values is None or any(not math.isfinite(v) or v < 0 for v in values) or not any(values):
                out.append(FieldError("weights", f"{self.weights!r}: balanced, frames, or numbers >= 0 like 1,3"))
            elif len(values) != len(self.datasets):
                out.append(FieldError("weights", f"{len(values)} weight(s) for {len(self.datasets)} dataset(s)"))
        if self.fine_tune and not self.resume:
            try:
                refuse_same_folder(fine_tune_start(self.fine_tune), self.out or ".")
            except ValueError as e:
                out.append(FieldError("fine-tune from", str(e)))
        return out

    def argv(self) -> list[str]:
        args = [sys.executable, "-m", WORKER, *[x for d in self.datasets for x in ("--dataset", str(d))],
                "--out", str(self.out), "--policy", self.policy, "--preset", self.preset, "--steps", str(self.steps),
                "--save-every", str(self.save_every), "--log-every", str(self.log_every)]
        for key, value in self.settings.items():
            args += ["--set", f"{key}={json.dumps(value)}"]
        if self.num_threads:
            args += ["--num-threads", str(self.num_threads)]
        if self.processes > 1:
            args += ["--procs", str(self.processes)]
        if (self.weights.strip() or "balanced") != "balanced":
            args += ["--weights", self.weights.strip()]
        if self.fine_tune:
            args += ["--resume-from", str(self.fine_tune)]
        if self.resume:
            args.append("--resume")
        return args


OUTPUT_FILE = "trainer_output.txt"
# What the trainer prints before its first step -> what the window says (robotapp.cli.train_worker's
# "progress: ..." lines and the trainer's frame-cache lines); the newest such line is the stage it is in.
PROGRESS = (
    ("progress: ", "{}"),
    ("decoding videos into the frame cache: ", "building the frame cache: {}"),
    ("frame cache: ", "building the policy and taking the first step"),
)


def progress_of(text: str) -> str:
    """The stage the trainer's output `text` says it is in, or '' when it has said none yet."""
    for line in reversed(text.splitlines()):
        for prefix, words in PROGRESS:
            if line.startswith(prefix):
                return words.format(line[len(prefix):].strip())
    return ""


def failure_of(text: str) -> str:
    """The line that says why the trainer failed: its own 'train: ...' line, else an exception's last line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.startswith("train: "):
            return line
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception", "Interrupt")) and " " not in head:
            return line
    return lines[-1] if lines else ""


@dataclass
class RunSummary:
    """A training run found on disk: its folder, the last logged step and loss, its checkpoints."""

    path: Path
    step: int
    loss: float
    checkpoints: int

    @property
    def name(self) -> str:
        return self.path.name


def find_runs(folder: str | Path) -> list[RunSummary]:
    """The training runs directly inside `folder` (a train_log.csv or a checkpoint in them), newest first."""
    root = Path(folder)
    if not root.is_dir():
        return []
    runs = []
    for d in root.iterdir():
        log = d / "train_log.csv"
        if not d.is_dir() or not (log.is_file() or checkpoints(d)):
            continue
        rows = read_log(log)
        last = rows[-1] if rows else {}
        runs.append((max(log.stat().st_mtime if log.is_file() else 0.0, d.stat().st_mtime),
                     RunSummary(d, int(last.get("step", 0)), last.get("loss", math.nan), len(checkpoints(d)))))
    return [r for _, r in sorted(runs, key=lambda t: t[0], reverse=True)]


def read_log(path: str | Path) -> list[dict]:
    """Every row of a train_log.csv as floats (a half-written last line is left out)."""
    p = Path(path)
    if not p.is_file():
        return []
    text = p.read_text()
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return [_floats(r) for r in csv.DictReader(io.StringIO(text))]


def _floats(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            out[k] = math.nan
    return out


def checkpoints(out: str | Path) -> list[Path]:
    """The run's saved checkpoints (out/checkpoints/<step>/ with a config.json), oldest first."""
    d = Path(out) / "checkpoints"
    if not d.is_dir():
        return []
    return sorted(c for c in d.iterdir() if c.name.isdigit() and (c / "config.json").is_file())


class TrainingJob:
    """One trainer process. poll() reads the log rows written since the last poll (at most a few KB)."""

    def __init__(self, spec: TrainSpec):
        self.spec = spec
        self.log_path = Path(spec.out) / "train_log.csv"
        self._proc: subprocess.Popen | None = None
        self._offset = 0
        self._header: list[str] | None = None
        self._partial = ""
        self.rows: list[dict] = []
        self.output: deque[str] = deque(maxlen=50)  # the trainer's stderr/stdout lines, newest last
        self._out_file = None
        self._output_start = 0

    def start(self) -> None:
        raise_first(self.spec.problems())
        out = Path(self.spec.out)
        out.mkdir(parents=True, exist_ok=True)
        if self.spec.resume:
            self.rows = read_log(self.log_path)
            self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._header = list(self.rows[0]) if self.rows else None
        else:
            self.log_path.unlink(missing_ok=True)
        self._out_file = open(out / OUTPUT_FILE, "ab")  # noqa: SIM115 - closed in poll/close
        self._output_start = self._out_file.tell()  # a resumed run's file holds the earlier runs' lines too
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        nice = self.spec.nice
        self._proc = subprocess.Popen(self.spec.argv(), stdout=self._out_file, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env, cwd=os.getcwd(),
                                      preexec_fn=(lambda: os.nice(nice)) if nice and hasattr(os, "nice") else None)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def stop(self) -> None:
        """SIGTERM: the trainer ends after the current step with a checkpoint; poll() until not running."""
        if self.running:
            self._proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.running:
            self._proc.kill()

    def poll(self) -> list[dict]:
        """New log rows since the last call (also kept in self.rows)."""
        new: list[dict] = []
        if self.log_path.is_file():
            with open(self.log_path) as f:
                f.seek(self._offset)
                chunk = f.read()
                self._offset = f.tell()
            text = self._partial + chunk
            lines = text.split("\n")
            self._partial = lines.pop()
            for line in lines:
                if not line.strip():
                    continue
                cells = next(csv.reader([line]))
                if self._header is None:
                    self._header = cells
                    continue
                new.append(_floats(dict(zip(self._header, cells, strict=False))))
        self.rows += new
        return new

    @property
    def output_path(self) -> Path:
        """The run's log file: everything the trainer printed (warnings included)."""
        return Path(self.spec.out) / OUTPUT_FILE

    def _output_tail(self, size: int = 8000) -> str:
        p = self.output_path
        if not p.is_file():
            return ""
        with open(p, "rb") as f:
            f.seek(max(self._output_start, p.stat().st_size - size))
            return f.read().decode(errors="replace")

    def tail(self, lines: int = 3) -> str:
        return "\n".join(self._output_tail().strip().splitlines()[-lines:])

    def progress(self) -> str:
        """What the trainer is doing before its first logged step ('' when it has not said yet)."""
        return progress_of(self._output_tail())

    def failure(self) -> str:
        """Why the trainer failed, in its own one line."""
        return failure_of(self._output_tail())

    def eta_s(self) -> float | None:
        if not self.rows:
            return None
        last = self.rows[-1]
        step_ms = last.get("step_ms", math.nan)
        if not math.isfinite(step_ms):
            return None
        return max(0.0, (self.spec.steps - last["step"]) * step_ms / 1000)

    def close(self) -> None:
        self.stop()
        if self._out_file is not None and not self.running:
            self._out_file.close()
            self._out_file = None
