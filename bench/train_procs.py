"""Training throughput: one process with a thread per core against one single-threaded process per core
(`robotapp train --procs N`, data parallel), same global batch, same dataset. Prints a markdown table.

    .venv/bin/python bench/train_procs.py --dataset outputs/demo/dataset [--policies act,diffusion] [--steps 60]

Each run trains --steps steps through the real CLI (frame cache, optimiser, logging); samples/s is the median of
the logged intervals after the first 20 steps (allocation and caches warm up there).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robotapp.jobs.train_launch import WORKER  # noqa: E402
from robotapp.jobs.training_job import read_log  # noqa: E402


def run(dataset: str, policy: str, procs: int, threads: int, steps: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"bench-procs-{policy}-")) / "run"
    cmd = [sys.executable, "-m", WORKER, "--dataset", dataset, "--policy", policy, "--steps", str(steps),
           "--out", str(out), "--save-every", "0", "--log-every", "10", "--no-progress", "--procs", str(procs),
           "--num-threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise SystemExit(f"{policy} --procs {procs}: the trainer failed:\n{done.stderr[-2000:]}")
    rows = [r for r in read_log(out / "train_log.csv") if r["step"] > 20]
    return {"samples_per_s": statistics.median(r["samples_per_s"] for r in rows),
            "step_ms": statistics.median(r["step_ms"] for r in rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True, help="a LeRobot v3.0 dataset, e.g. the demo's (outputs/demo/dataset)")
    ap.add_argument("--policies", default="act,diffusion")
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    print(f"{cores} cores, cpu-small preset, global batch 32, {args.steps} steps per run\n")
    print("| policy | processes x threads | step ms | samples/s | vs 1 process |")
    print("|---|---|---|---|---|")
    for policy in args.policies.split(","):
        base = None
        for procs, threads in ((1, cores), (cores, 1)):
            r = run(args.dataset, policy, procs, threads, args.steps)
            base = base or r["samples_per_s"]
            print(f"| {policy} | {procs} x {threads} | {r['step_ms']:.0f} | {r['samples_per_s']:.1f} | "
                  f"{r['samples_per_s'] / base:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
