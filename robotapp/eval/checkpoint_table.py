"""Per-checkpoint results: which policy folders a path names, where a checkpoint came from, and the comparison
table as CSV and JSON (written, and read back)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from robotapp.eval.evaluate import EvalEpisode, EvalResult

COLUMNS = ["policy", "step", "episodes", "successes", "partial", "rate", "ci95_low", "ci95_high", "mean_episode_s"]


def policy_folders(path: str | Path) -> list[Path]:
    """A policy folder itself, or every checkpoint of a training run (run/checkpoints/<step>/), oldest first."""
    p = Path(path)
    if (p / "config.json").is_file():
        return [p]
    ckpts = p / "checkpoints"
    if ckpts.is_dir():
        found = sorted(c for c in ckpts.iterdir() if (c / "config.json").is_file() and not c.name.endswith(".tmp"))
        if found:
            return found
    raise ValueError(f"{p} is neither a policy folder (config.json + model.safetensors) nor a training run with "
                     f"checkpoints/")


def _step(folder: str) -> int | None:
    name = Path(folder).name
    return int(name) if name.isdigit() else None


def rows(results: list[EvalResult]) -> list[dict]:
    out = []
    for r in results:
        d = r.as_dict()
        out.append({"policy": r.policy, "step": _step(r.policy), **{k: d[k] for k in COLUMNS[2:]}})
    return out


def write_table(results: list[EvalResult], base: str | Path) -> tuple[Path, Path]:
    """base.csv (one row per policy) and base.json (the rows plus every episode)."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = base.with_suffix(".csv"), base.with_suffix(".json")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows(results))
    json_path.write_text(json.dumps({"table": rows(results), "results": [r.as_dict() for r in results]},
                                    indent=2))
    return csv_path, json_path


def read_table(path: str | Path) -> list[EvalResult]:
    """The results a write_table JSON holds, in order; ValueError naming the file for anything else."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        return [EvalResult(r["policy"], r["rig"], r["seed"], [EvalEpisode(**e) for e in r["per_episode"]])
                for r in data["results"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not an evaluation table ({type(e).__name__}: {e})") from e


def training_origin(policy_folder: str | Path) -> tuple[str, str]:
    """(dataset, training run folder) a checkpoint was trained from, from its training state; ("", "") when it
    does not say (a policy folder copied on its own)."""
    try:
        options = json.loads((Path(policy_folder) / "training_state.json").read_text()).get("options") or {}
    except (OSError, ValueError, AttributeError):
        return "", ""
    return str(options.get("dataset") or ""), str(options.get("out") or "")


def format_table(results: list[EvalResult]) -> str:
    lines = [f"{'policy':<40} {'success':>9} {'rate':>7} {'95% CI':>17} {'mean s':>7}"]
    for row in rows(results):
        name = row["policy"] if len(row["policy"]) <= 40 else "…" + row["policy"][-39:]
        lines.append(f"{name:<40} {row['successes']:>4}/{row['episodes']:<4} {100 * row['rate']:>6.1f}% "
                     f"[{100 * row['ci95_low']:5.1f}%, {100 * row['ci95_high']:5.1f}%] {row['mean_episode_s']:>7.1f}")
    return "\n".join(lines)
