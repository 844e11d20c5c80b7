"""The benchmark suite behind `make bench`: each measure run with our code and, where lerobot can run here, with
lerobot's (in its own virtual environment, as a subprocess) in the same run on the same machine and data; writes
the raw figures to .bench/results.json and the page docs/benchmarks.md.

    .venv/bin/python bench/suite.py [--quick] [--only P1,P6] [--dataset DIR] [--out docs/benchmarks.md]

lerobot's Python: $LEROBOT_PYTHON, else .bench/lerobot-venv/bin/python (`make bench-lerobot-venv`); absent ->
'lerobot not available' in its column. Measures: P1 bus tick, P2 recording, P3 training samples/s, P5
select_action latency, P6 dataset random access (see bench/suite_measures.py)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import render  # noqa: E402
from suite_measures import Params, p1_bus, p2_record, p3_p5_act, p6_dataset  # noqa: E402
from suite_runner import DEFAULT_LEROBOT_PYTHON, ROOT, Runner, lerobot_python  # noqa: E402

DATASET_EPISODES, DATASET_SECONDS = 5, 12


def machine() -> dict:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or platform.machine()
    mem = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 1e6
    except OSError:
        pass
    import torch

    return {"cpu_model": model, "cores": os.cpu_count(), "mem_gb": mem, "python": platform.python_version(),
            "torch": torch.__version__, "os": f"{platform.system()} {platform.release()}"}


def ensure_dataset(path: Path, quick: bool) -> Path:
    """The dataset P3, P5 and P6 share: the virtual rig's pick-and-place, recorded lock-step by our writer."""
    if (path / "meta" / "info.json").exists():
        return path
    eps, secs = (2, 6) if quick else (DATASET_EPISODES, DATASET_SECONDS)
    print(f"recording the bench dataset ({eps} episodes) into {path}", file=sys.stderr, flush=True)
    subprocess.run(["nice", "-n", "10", sys.executable, "-m", "robotapp", "record", "--rig", "virtual",
                    "--demonstrator", "--fast", "--dataset", str(path), "--task", "pick and place the cube",
                    "--episodes", str(eps), "--episode-time", str(secs)], cwd=ROOT, check=True,
                   env={**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}, stdout=subprocess.DEVNULL)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the suite out (not for the page)")
    ap.add_argument("--only", default="P1,P2,P3,P5,P6", help="measures to run (P3 and P5 run together)")
    ap.add_argument("--dataset", default=None, help="dataset for P3/P5/P6 (default: recorded into .bench/data)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--results", default=str(ROOT / ".bench" / "results.json"))
    ap.add_argument("--command", default=None, help="the command to name on the page (default: this one)")
    args = ap.parse_args()
    params = Params.quick() if args.quick else Params()
    only = set(args.only.upper().split(","))
    work = ROOT / ".bench" / "work"
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("[0-9][0-9][0-9]-*.json"):  # per-run outputs of an earlier suite run
        stale.unlink()
    (ROOT / ".bench" / ".gitignore").write_text("*\n")
    ler_python, ler_note = lerobot_python()
    print(ler_note, file=sys.stderr, flush=True)
    runner = Runner(work=work, lerobot_python=ler_python)
    command = (args.command or "python bench/suite.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])).strip()
    env_python = os.environ.get("LEROBOT_PYTHON")
    if env_python and Path(env_python).resolve() != DEFAULT_LEROBOT_PYTHON.resolve():
        command = f"LEROBOT_PYTHON={env_python} {command}"
    res = {"command": command, "quick": args.quick, "machine": machine(), "load_start": list(os.getloadavg()),
           "started": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
           "lerobot": {"python": ler_python, "note": ler_note, "available": ler_python is not None},
           "params": vars(params), "measures": {}}
    t0 = time.monotonic()
    default_ds = ROOT / ".bench" / "data" / ("pick-quick" if args.quick else "pick5")
    dataset = Path(args.dataset) if args.dataset else None

    def data() -> Path:
        nonlocal dataset
        dataset = ensure_dataset(dataset or default_ds, args.quick)
        return dataset

    steps = [("P1", lambda: {"P1": p1_bus(runner, params)}),
             ("P2", lambda: {"P2": p2_record(runner, params, work)}),
             ("P3", lambda: dict(zip(("P3", "P5"), p3_p5_act(runner, params, data(), work), strict=True))),
             ("P6", lambda: {"P6": p6_dataset(runner, params, data(), work)})]
    for key, step in steps:
        if key not in only and not (key == "P3" and "P5" in only):
            continue
        try:
            res["measures"].update(step())
        except Exception as e:  # one measure failing must not lose the others
            traceback.print_exc()
            for k in (("P3", "P5") if key == "P3" else (key,)):
                res["measures"][k] = {"title": k, "error": f"{type(e).__name__}: {e}", "rows": []}
        res["load_end"] = list(os.getloadavg())
        res["duration_s"] = time.monotonic() - t0
        res["log"] = runner.log
        res["notes"] = runner.notes
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        Path(args.results).write_text(json.dumps(res, indent=1))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(render(res))  # the page after every measure: a long run can be watched
    print(f"wrote {args.out} ({res['duration_s'] / 60:.1f} min)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
