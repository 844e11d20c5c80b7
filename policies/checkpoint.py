"""Training checkpoints: out/checkpoints/<step>/ is a policy folder (loadable by load_policy) plus
training_state.safetensors (optimiser moments, raw weights when the policy folder holds EMA weights, RNG and
sampler state) and training_state.json (step, param groups, options). out/last points at the newest.
Everything is json or safetensors; nothing is pickled.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .optim import EMA, load_optimizer_tensors, optimizer_tensors
from .policy_folder import CheckpointError, save_policy
from .run_folder import STATE_JSON, checkpoint_dir, latest_checkpoint  # noqa: F401 - latest_checkpoint: re-exported

STATE_TENSORS = "training_state.safetensors"


def save_checkpoint(out: Path, step: int, policy, optimizer, sampler, ema: EMA | None = None,
                    meta: dict | None = None) -> Path:
    """Write checkpoints/<step>/ atomically (a temp folder renamed into place) and point out/last at it."""
    final = checkpoint_dir(out, step)
    tmp = final.with_name(final.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    if ema is not None:  # the policy folder holds the EMA weights: those are the ones to run
        raw = {k: v.detach().cpu().clone() for k, v in policy.state_dict().items()}
        policy.load_state_dict(ema.shadow)
        save_policy(policy, tmp)
        policy.load_state_dict(raw)
    else:
        raw = None
        save_policy(policy, tmp)
    tensors, opt_meta = optimizer_tensors(optimizer)
    tensors = {f"optimizer.{k}": v for k, v in tensors.items()}
    if raw is not None:
        tensors.update({f"model.{k}": v.contiguous() for k, v in raw.items()})
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    tensors.update({f"sampler.{k}": v for k, v in sampler.state_dict().items()})
    save_file(tensors, str(tmp / STATE_TENSORS))
    info = {"step": step, "optimizer": opt_meta, "ema_step": ema.step if ema is not None else None,
            **(meta or {})}
    (tmp / STATE_JSON).write_text(json.dumps(info, indent=2) + "\n")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _point_last(Path(out), final)
    return final


def _point_last(out: Path, target: Path) -> None:
    link = out / "last"
    rel = os.path.relpath(target, out)
    tmp = out / "last.tmp"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(rel, tmp, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # no symlinks (some Windows setups): a text file naming the folder
        (out / "last.txt").write_text(rel + "\n")


def load_training_state(folder: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    folder = Path(folder)
    for name in (STATE_JSON, STATE_TENSORS):
        if not (folder / name).is_file():
            raise CheckpointError(f"cannot resume from {folder}: missing {name}")
    try:
        info = json.loads((folder / STATE_JSON).read_text())
        tensors = load_file(str(folder / STATE_TENSORS))
    except Exception as e:
        raise CheckpointError(f"cannot resume from {folder}: {e}") from e
    return info, tensors


def restore(folder: Path, policy, optimizer, sampler, ema: EMA | None = None) -> int:
    """Put a checkpoint's training state back (the policy folder's weights must already be loaded into
    `policy`). Returns the step to continue from."""
    info, tensors = load_training_state(folder)
    if ema is not None:
        ema.load_state_tensors({k: v for k, v in policy.state_dict().items()}, int(info.get("ema_step") or 0))
        raw = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
        if raw:
            policy.load_state_dict(raw)
    opt = {k.removeprefix("optimizer."): v for k, v in tensors.items() if k.startswith("optimizer.")}
    load_optimizer_tensors(optimizer, opt, info["optimizer"])
    sampler.load_state_dict({k.removeprefix("sampler."): v for k, v in tensors.items() if k.startswith("sampler.")})
    if "rng.torch" in tensors:
        torch.set_rng_state(tensors["rng.torch"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    return int(info["step"])
