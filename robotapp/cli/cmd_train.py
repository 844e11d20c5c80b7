"""`robotapp train`: train an ACT or Diffusion policy on one dataset or several (--dataset repeated, mixed by
--weights), from scratch, continuing a run (--resume) or fine-tuning another run into a new one (--resume-from).
Parsing, then the run: the datasets are opened here (robotapp.dataset.DatasetReader) and handed to the trainer,
policies.train.train(). The training worker (robotapp.cli.train_worker, what --procs and torchrun start) takes the
same arguments and runs the same body."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import threading
import time
from typing import TYPE_CHECKING

from policies.config import CONFIG_CLASSES, PRESETS
from robotapp.cli.argtypes import int_list, nonneg_int, positive_float, positive_int, seed, setting, size
from robotapp.jobs.train_launch import T0_ENV

if TYPE_CHECKING:  # torch-free at import: the CLI loads torch only when it trains
    from policies.train import TrainOptions


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train an ACT or Diffusion policy on one or more datasets, or fine-tune a run "
                                          "(torchrun-ready)")
    add_train_arguments(p)
    p.set_defaults(func=run_train)
    return p


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, action="append", metavar="DIR",
                   help="LeRobot v3.0 dataset folder; repeat it to train on several together (e.g. demonstrations "
                        "and corrections): they must agree on fps, robot type, action/state and cameras")
    p.add_argument("--weights", type=weights, default="balanced", metavar="W",
                   help="each dataset's share of the sampled frames: 'balanced' (default: equal shares whatever "
                        "their sizes, so 20 correction episodes count as much as 50 demonstrations), 'frames' "
                        "(proportional to their frames, as one dataset), or relative weights, one per --dataset, "
                        "e.g. 1,3")
    p.add_argument("--policy", choices=sorted(CONFIG_CLASSES), default="act")
    presets = sorted({name for per in PRESETS.values() for name in per})
    p.add_argument("--preset", choices=presets, default="cpu-small",
                   help="cpu-small (default: trains on a laptop CPU) or lerobot-default (reference sizes, GPUs)")
    p.add_argument("--steps", type=positive_int, default=1000, help="optimiser steps in all (default 1000)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (checkpoints/, last, train_log.csv)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="per process (default: the preset's)")
    p.add_argument("--save-every", type=nonneg_int, default=1000, metavar="K", help="checkpoint every K steps (0: at the end)")
    p.add_argument("--log-every", type=positive_int, default=10, metavar="K", help="log every K steps")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in OUT from OUT/last (its optimiser, schedule and step count)")
    p.add_argument("--resume-from", default=None, metavar="RUN_OR_CHECKPOINT",
                   help="fine-tune: a new run in OUT (not RUN's folder: its checkpoints stay as they are) that starts "
                        "from RUN's last checkpoint (or the checkpoint folder given): its weights, config and "
                        "normalisation stats, so the policy reads observations as the original did; a fresh "
                        "optimiser and LR schedule (--minutes fits it), --set only for training settings "
                        "(optimizer_*, scheduler_*, ...), --policy and --preset unused. OUT's training_state.json "
                        "records resumed_from. Stopped, it continues with --resume added")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--cameras", default=None, help="comma-separated camera names (default: all)")
    p.add_argument("--episodes", type=int_list, default=None, help="comma-separated episode indices (default: all; one --dataset only)")
    p.add_argument("--image-size", type=size, default=None, metavar="HxW", help="training resolution")
    p.add_argument("--set", type=setting, action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="override a config field, e.g. --set chunk_size=50 (repeatable; JSON values)")
    p.add_argument("--num-threads", type=positive_int, default=None, help="torch threads per process (default: cores/procs)")
    p.add_argument("--procs", type=positive_int, default=1, metavar="N",
                   help="train in N data-parallel processes on this machine (the global batch is split across "
                        "them); on a CPU one per core is fastest")
    p.add_argument("--minutes", type=positive_float, default=None,
                   help="wall-clock budget: stop after this long and fit the LR schedule to the steps it allows")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast (faster on CPUs with AVX512-BF16 and on GPUs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")


def options_from_args(args: argparse.Namespace) -> TrainOptions:
    """The parsed arguments as TrainOptions (robotapp.jobs.train_launch.options_to_argv is the inverse)."""
    from policies.train import TrainOptions

    overrides = dict(args.settings)
    if args.image_size is not None:
        overrides["image_size"] = args.image_size
    return TrainOptions(
        dataset=args.dataset[0], datasets=list(args.dataset) if len(args.dataset) > 1 else None,
        weights=args.weights, resume_from=args.resume_from, policy=args.policy, preset=args.preset, steps=args.steps, out=args.out,
        batch_size=args.batch_size, seed=args.seed, save_every=args.save_every, log_every=args.log_every,
        device=args.device, resume=args.resume,
        cameras=[c.strip() for c in args.cameras.split(",")] if args.cameras else None,
        episodes=args.episodes,
        overrides=overrides, num_threads=args.num_threads, progress=not args.no_progress, amp=args.amp,
        time_budget_s=60 * args.minutes if args.minutes else None)


def run_train(args: argparse.Namespace) -> int:
    """The command's body; SIGTERM (a GUI's stop button, a job scheduler) ends the run like Ctrl-C: with a
    checkpoint of the step reached, exit code 0."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _on_signal)
    from robotapp.dataset import DatasetReader

    opts = options_from_args(args)
    if args.procs != 1 and not _distributed():
        from robotapp.jobs.train_launch import train_in_processes

        for path in opts.dataset_list:  # a bad dataset is refused here, once, before any process starts
            DatasetReader(path).close()
        return train_in_processes(opts, args.procs)
    from policies.train import train

    # the time budget counts from the launch (train_in_processes sets T0_ENV), or from now
    opts.budget_start = float(os.environ.get(T0_ENV) or time.time())
    with contextlib.ExitStack() as stack:
        readers = [stack.enter_context(DatasetReader(path)) for path in opts.dataset_list]
        result = train(opts, readers[0] if len(readers) == 1 else readers)
    if _distributed() and _rank() != 0:  # rank 0 reports for all
        return 0
    if result.checkpoint is None and result.stopped_early:
        print("stopped before the first step: nothing saved", flush=True)
    elif result.checkpoint is not None:
        what = f"stopped at step {result.step} of {args.steps}" if result.stopped_early else f"trained {result.step} steps"
        if result.budget_spent:
            what = f"trained {result.step} steps in the {args.minutes:g} min budget"
        print(f"{what} ({result.samples_per_s:.1f} samples/s); policy: {result.checkpoint}", flush=True)
    return 0


def weights(text: str) -> str | list[float]:
    """--weights: balanced, frames, or comma-separated numbers >= 0 (not all 0)."""
    word = text.strip().lower()
    if word in ("balanced", "frames"):
        return word
    try:
        values = [float(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give balanced, frames or numbers like 1,3") from None
    if any(not math.isfinite(v) or v < 0 for v in values) or not any(values):
        raise argparse.ArgumentTypeError(f"{text!r}: weights are numbers >= 0, not all 0")
    return values


def _on_signal(signum, frame):
    """First signal: finish the current step, save, exit 0. A second one: stop at once (Ctrl-C Ctrl-C)."""
    from policies.train import request_stop

    request_stop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _raise_interrupt)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _distributed() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))
