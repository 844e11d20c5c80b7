"""Which virtual-rig scenes an evaluation runs on, and whether the policy has seen them.

Episode k of a recording or an evaluation starts from world seed S+k. Recording starts at 0 by default and
evaluation at EVAL_SEED_BASE, so a policy trained on a recording made with the defaults is evaluated on scenes it
never saw. A fixed evaluation range (rather than "whatever the dataset lacks") keeps results comparable: every
checkpoint, and every policy whatever it was trained on, meets the same scenes. What a dataset recorded is read
from its per-episode extras (the scene's seed), so an evaluation that does overlap says so."""

from __future__ import annotations

from pathlib import Path

RECORD_SEED_BASE = 0  # `robotapp record` and the window's recordings
EVAL_SEED_BASE = 1_000_000  # `robotapp eval`, the window's Evaluate page, `robotapp demo`'s evaluation


def seeds_line(seed: int, episodes: int) -> str:
    """'seeds 1000000-1000019' (or 'seed 7' for one episode)."""
    return f"seed {seed}" if episodes == 1 else f"seeds {seed}-{seed + episodes - 1}"


def episode_seed(extra: dict) -> int | None:
    """The world seed an episode was recorded from: a recording's scene, or an evaluation recorded with
    --record; None when the episode does not say (a real rig, a dataset from elsewhere)."""
    for value in ((extra.get("scene") or {}).get("virtual_seed"), (extra.get("eval") or {}).get("seed")):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def recorded_seeds(dataset: str | Path) -> set[int]:
    """Every world seed the dataset's episodes were recorded from."""
    from robotapp.dataset import DatasetReader

    # no recovery: a check must not change the dataset (a recording may still be writing to it)
    with DatasetReader(dataset, recover_if_needed=False) as reader:
        seeds = (episode_seed(reader.extra(i)) for i in range(reader.num_episodes))
        return {s for s in seeds if s is not None}


def resume_seed(dataset: str | Path, seed: int, episodes: int) -> tuple[int, str]:
    """Adding episodes to a dataset: the first seed of a range none of its episodes was recorded from, and a line
    saying so when that is not `seed` ("" when it is). Without this a resumed recording starts at seed 0 again and
    repeats the scenes the dataset already holds."""
    try:
        recorded = recorded_seeds(dataset)
    except Exception:  # no dataset yet, or one that does not say: nothing to avoid
        return seed, ""
    start = free_seed(recorded, episodes, start=seed)
    if start == seed:
        return seed, ""
    return start, (f"{len(recorded)} scene seed(s) are in {dataset} already: the new episodes start at seed "
                   f"{start} ({seeds_line(start, episodes)})")


def free_seed(recorded: set[int], episodes: int, start: int = EVAL_SEED_BASE) -> int:
    """A first seed whose `episodes` seeds are all unrecorded: `start` if it is, else just past the last one."""
    if not any(start + k in recorded for k in range(episodes)):
        return start
    return max(max(recorded) + 1, start)


def training_dataset(policy_folder: str | Path) -> str:
    """The dataset a checkpoint says it was trained on ('' when it does not say)."""
    from robotapp.eval.checkpoint_table import training_origin

    return training_origin(policy_folder)[0]


def overlap_lines(seed: int, episodes: int, policy_folder: str | Path, dataset: str | Path | None = None
                  ) -> list[str]:
    """What to tell about the training data: nothing when the evaluation's scenes are unseen; else one line
    (a warning naming how many seeds were recorded, or why the check could not be made). `dataset` defaults to
    the one the checkpoint names."""
    named_by_checkpoint = dataset is None
    dataset = dataset or training_dataset(policy_folder)
    if not dataset:
        return []
    try:
        recorded = recorded_seeds(dataset)
    except Exception as e:  # a moved, deleted or broken dataset: the check never stops an evaluation
        where = "named by the checkpoint " if named_by_checkpoint else ""
        return [f"note: the training dataset {dataset} {where}cannot be read, so overlap with its scenes is not "
                f"checked ({str(e).splitlines()[0]})"]
    if not recorded:
        return [f"note: the training dataset {dataset} stores no virtual-rig scene seeds: overlap not checked"]
    seen = sum(seed + k in recorded for k in range(episodes))
    if not seen:
        return []
    return [f"warning: {seen} of {episodes} evaluation seeds were recorded in the training dataset {dataset}: "
            f"the success rate flatters the policy; use --seed {free_seed(recorded, episodes)}"]
