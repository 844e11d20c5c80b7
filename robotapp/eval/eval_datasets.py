"""Where an evaluation records its episodes by default: a dataset of its own per policy and run of `eval`, next
to the training run it came from (RUN/evals/<step>-<time>), or under outputs/evals/ for a policy folder on its
own. Every evaluation is recorded unless asked not to: its episodes (and a person's corrections) are data.
A folder that is there already is never reused (a second evaluation in the same second gets -2)."""

from __future__ import annotations

import time
from pathlib import Path


def default_eval_dataset(policy_folder: str | Path, now: float | None = None) -> Path:
    folder = Path(policy_folder).resolve()  # run/last is a link to run/checkpoints/<step>
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    parent = folder.parent.parent / "evals" if folder.parent.name == "checkpoints" else Path("outputs") / "evals"
    path, n = parent / f"{folder.name}-{stamp}", 1
    while path.exists():  # two evaluations in one second: each its own dataset
        n += 1
        path = parent / f"{folder.name}-{stamp}-{n}"
    return path
