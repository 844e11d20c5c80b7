"""Where an evaluation records its episodes by default: a dataset of its own per policy and run of `eval`, next
to the training run it came from (RUN/evals/<step>-<time>), or under outputs/evals/ for a policy folder on its
own. Every evaluation is recorded unless asked not to: its episodes (and a person's corrections) are data."""

from __future__ import annotations

import time
from pathlib import Path


def default_eval_dataset(policy_folder: str | Path, now: float | None = None) -> Path:
    folder = Path(policy_folder).resolve()  # run/last is a link to run/checkpoints/<step>
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    if folder.parent.name == "checkpoints":
        return folder.parent.parent / "evals" / f"{folder.name}-{stamp}"
    return Path("outputs") / "evals" / f"{folder.name}-{stamp}"
