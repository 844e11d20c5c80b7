"""A training run's folder, read without torch: its checkpoints (out/checkpoints/<step>/, out/last), and what
fine-tuning from one needs (`--resume-from RUN_OR_CHECKPOINT`): the checkpoint to start from, the refusal of the
same folder, which `--set` overrides a fine-tune may change, and where the new run came from.

Two ways to go on from a run, not to be confused:
- resume (`--resume`): continue the same run in OUT from OUT/last: same datasets, its optimiser, LR schedule and
  sampler state, its step count; the run's own checkpoints folder grows.
- fine-tune (`--resume-from RUN --out NEW`): a new run in NEW that starts from RUN's weights (its last
  checkpoint, or the checkpoint folder given) with RUN's config and normalisation stats (so the fine-tuned
  policy reads observations exactly as the original did), on the datasets given now, with a fresh optimiser and
  LR schedule from step 0. RUN's checkpoints stay as they are; NEW's training_state.json says `resumed_from`.
"""

from __future__ import annotations

import json
from pathlib import Path

STATE_JSON = "training_state.json"

# Config fields a fine-tune may change with --set: how to train, not what the network is or reads.
TRAINING_FIELDS = frozenset({"batch_size", "grad_clip_norm", "augment_shift", "ema_power", "ema_max_decay",
                             "dropout", "kl_weight", "crop_is_random", "do_mask_loss_for_padding"})
TRAINING_PREFIXES = ("optimizer_", "scheduler_")


def checkpoint_dir(out: str | Path, step: int) -> Path:
    return Path(out) / "checkpoints" / f"{step:06d}"


def latest_checkpoint(out: str | Path) -> Path | None:
    """The run's newest checkpoint: what out/last (or out/last.txt) names, else the highest step; None when the
    run has none."""
    out = Path(out)
    link = out / "last"
    if link.exists():
        return link.resolve()
    if (out / "last.txt").exists():
        return (out / (out / "last.txt").read_text().strip()).resolve()
    steps = sorted(p for p in (out / "checkpoints").glob("[0-9]*") if p.is_dir() and p.name.isdigit())
    return steps[-1] if steps else None


def is_policy_folder(path: str | Path) -> bool:
    return (Path(path) / "config.json").is_file()


def fine_tune_start(run_or_checkpoint: str | Path) -> Path:
    """The checkpoint a fine-tune starts from: the folder itself when it is a policy folder (a checkpoint), else
    the run's last checkpoint. ValueError in one line when it is neither."""
    p = Path(run_or_checkpoint)
    if is_policy_folder(p):
        return p.resolve()
    last = latest_checkpoint(p) if p.is_dir() else None
    if last is None or not is_policy_folder(last):
        raise ValueError(f"--resume-from {p}: neither a checkpoint (a policy folder with config.json) nor a training "
                         f"run with checkpoints")
    return last.resolve()


def run_of(checkpoint: str | Path) -> Path | None:
    """The run folder a checkpoint belongs to (RUN for RUN/checkpoints/<step>), or None for a lone policy folder."""
    c = Path(checkpoint).resolve()
    return c.parent.parent if c.parent.name == "checkpoints" else None


def refuse_same_folder(start: str | Path, out: str | Path) -> None:
    """A fine-tune writes a NEW run: refuse OUT when it is the run (or holds the checkpoint) it starts from."""
    start, new = Path(start).resolve(), Path(out).resolve()
    run = run_of(start)
    if new in (run, start) or start.is_relative_to(new):
        raise ValueError(f"--out {out} is the run being fine-tuned: give a new folder (the run's checkpoints stay "
                         f"as they are; --resume continues a run in its own folder)")


def fine_tune_overrides(config_fields: dict, overrides: dict) -> dict:
    """The --set overrides a fine-tune applies: training fields (optimizer_*, scheduler_*, batch size, ...).
    Any other field must equal the policy's own value (its config is kept): ValueError naming the first that
    does not."""
    apply = {}
    for key, value in overrides.items():
        if key in TRAINING_FIELDS or key.startswith(TRAINING_PREFIXES):
            apply[key] = value
        elif key not in config_fields:
            raise ValueError(f"--set {key}: the policy's config has no such field")
        elif _plain(config_fields[key]) != _plain(value):
            raise ValueError(f"--set {key}={json.dumps(_plain(value))}: a fine-tune keeps the policy's config "
                             f"({key} is {json.dumps(_plain(config_fields[key]))}); only training settings "
                             f"(optimizer_*, scheduler_*, batch_size, ...) can change")
    return apply


def _plain(v):
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def fine_tune_origin(start: str | Path) -> dict:
    """What a fine-tuned run records about where it came from (top level of its training_state.json)."""
    start = Path(start).resolve()
    info = {"resumed_from": str(start)}
    run = run_of(start)
    if run is not None:
        info["resumed_from_run"] = str(run)
    try:
        step = json.loads((start / STATE_JSON).read_text()).get("step")
    except (OSError, ValueError, AttributeError):
        step = None
    if step is not None:
        info["resumed_from_step"] = int(step)
    return info


def refuse_other_robot(start: str | Path, robot_types: dict[str, str | None]) -> None:
    """A fine-tune trains on the robot its policy was trained for: ValueError naming the first dataset
    ({name: robot type}) recorded on another (unknown types on either side pass)."""
    try:
        trained = json.loads((Path(start) / STATE_JSON).read_text()).get("robot_type")
    except (OSError, ValueError, AttributeError):
        return
    for name, robot in robot_types.items():
        if trained and robot and robot != trained:
            raise ValueError(f"dataset {name}: robot type is {robot!r}, but the policy being fine-tuned was trained "
                             f"on {trained!r}")


def recorded_origin(checkpoint: str | Path) -> dict:
    """The origin a checkpoint's training_state.json records ({} for a run that was not a fine-tune): a resumed
    fine-tune keeps saying where it came from."""
    try:
        state = json.loads((Path(checkpoint) / STATE_JSON).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {k: state[k] for k in ("resumed_from", "resumed_from_run", "resumed_from_step") if k in state}


def fine_tune_batch_size(start: str | Path) -> int | None:
    """The global batch a checkpoint trained with: per-process batch x processes from its training_state.json,
    else its config.json's batch size (None when neither says)."""
    start = Path(start)
    try:
        state = json.loads((start / STATE_JSON).read_text())
        if state.get("batch_size"):
            return int(state["batch_size"]) * int(state.get("world_size") or 1)
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    try:
        value = json.loads((start / "config.json").read_text()).get("batch_size")
    except (OSError, ValueError, AttributeError):
        return None
    return int(value) if value else None
