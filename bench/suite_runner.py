"""Plumbing for bench/suite.py: run one side of a measure as a subprocess (ours in this project's Python, lerobot's
in its own virtual environment), read back the JSON it wrote, summarise repeated runs as median (min-max)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DEFAULT_LEROBOT_PYTHON = ROOT / ".bench" / "lerobot-venv" / "bin" / "python"


class SideFailed(RuntimeError):
    pass


@dataclass
class Runner:
    """Runs bench scripts at a lower priority with the same environment for both tools."""
    work: Path
    lerobot_python: str | None
    nice: int = 10
    log: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # failed runs left out of a figure, for the page
    _n: int = 0

    @property
    def ours_python(self) -> str:
        return sys.executable

    def env(self, unset: tuple[str, ...] = ()) -> dict:
        env = dict(os.environ)
        # Both sides get what our packages set for themselves on import: OpenMP threads that sleep instead of
        # spinning while they wait (spinning waits make a loaded 2-core machine crawl), and no Hub access.
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        env["HF_HUB_OFFLINE"] = "1"
        env.setdefault("MUJOCO_GL", "egl")
        env["PYTHONWARNINGS"] = "ignore"
        for k in unset:
            env.pop(k, None)
        return env

    def run(self, side: str, script: str, args: list[str], timeout: float = 1200, unset: tuple[str, ...] = ()) -> dict:
        """Run bench/<script> with the side's Python; the script writes JSON to the path given as its last
        argument (the caller puts "--out"/"--json" before it). Returns that JSON."""
        python = self.ours_python if side == "ours" else self.lerobot_python
        if python is None:
            raise SideFailed("lerobot not available")
        self._n += 1
        out = self.work / f"{self._n:03d}-{side}-{Path(script).stem}.json"
        out.unlink(missing_ok=True)
        cmd = ["nice", "-n", str(self.nice), python, str(BENCH / script), *args, str(out)]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env(unset), capture_output=True, text=True, timeout=timeout)
        wall = time.monotonic() - t0
        short = " ".join(str(c) for c in cmd[3:]).replace(str(ROOT) + "/", "")
        self.log.append(f"[{side} {wall:.0f}s rc={proc.returncode}] {short}")
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
            self.log.extend("    " + line for line in tail)
            raise SideFailed(f"{Path(script).name} failed (rc {proc.returncode}): {tail[-1] if tail else ''}")
        print(f"  {side:8s} {Path(script).name} {wall:5.0f} s", file=sys.stderr, flush=True)
        return json.loads(out.read_text())


def summary(values: list[float]) -> dict:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0, "runs": []}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals), "runs": vals}


def interleave(repeats: int, sides: list[str]):
    """(repeat, side) pairs alternating the order each repeat, so a load drift on a shared machine hits every
    side alike."""
    for r in range(repeats):
        for s in sides if r % 2 == 0 else sides[::-1]:
            yield r, s


def lerobot_python() -> tuple[str | None, str]:
    """(path, note): LEROBOT_PYTHON, else .bench/lerobot-venv; None with the reason when lerobot can't import."""
    path = os.environ.get("LEROBOT_PYTHON") or str(DEFAULT_LEROBOT_PYTHON)
    if not Path(path).exists():
        return None, f"lerobot not available ({path} does not exist; `make bench-lerobot-venv` creates it)"
    probe = subprocess.run([path, "-c", "import importlib.metadata as m, torch; "
                            "print(m.version('lerobot'), torch.__version__)"],
                           capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if probe.returncode != 0:
        return None, f"lerobot not available (cannot import it with {path})"
    lerobot_v, torch_v = probe.stdout.split()[-2:]
    return path, f"lerobot {lerobot_v}, torch {torch_v} ({path})"
