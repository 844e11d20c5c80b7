"""`robotapp train`: train an ACT or Diffusion policy on a dataset. Parsing, then the run: the dataset is opened
here (robotapp.dataset.DatasetReader) and handed to the trainer, policies.train.train(). The training worker
(robotapp.cli.train_worker, what --procs and torchrun start) takes the same arguments and runs the same body."""

from __future__ import annotations

import argparse
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
    p = sub.add_parser("train", help="train an ACT or Diffusion policy on a dataset (torchrun-ready)")
    add_train_arguments(p)
    p.set_defaults(func=run_train)
    return p


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, metavar="DIR", help="LeRobot v3.0 dataset folder")
    p.add_argument("--policy", choices=sorted(CONFIG_CLASSES), default="act")
    presets = sorted({name for per in PRESETS.values() for name in per})
    p.add_argument("--preset", choices=presets, default="cpu-small",
                   help="cpu-small (default: trains on a laptop CPU) or lerobot-default (reference sizes, GPUs)")
    p.add_argument("--steps", type=positive_int, default=1000, help="optimiser steps in all (default 1000)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (checkpoints/, last, train_log.csv)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="per process (default: the preset's)")
    p.add_argument("--save-every", type=nonneg_int, default=1000, metavar="K", help="checkpoint every K steps (0: at the end)")
    p.add_argument("--log-every", type=positive_int, default=10, metavar="K", help="log every K steps")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--cameras", default=None, help="comma-separated camera names (default: all)")
    p.add_argument("--episodes", type=int_list, default=None, help="comma-separated episode indices (default: all)")
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
        dataset=args.dataset, policy=args.policy, preset=args.preset, steps=args.steps, out=args.out,
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

        DatasetReader(opts.dataset).close()  # a bad dataset is refused here, once, before any process starts
        return train_in_processes(opts, args.procs)
    from policies.train import train

    # the time budget counts from the launch (train_in_processes sets T0_ENV), or from now
    opts.budget_start = float(os.environ.get(T0_ENV) or time.time())
    with DatasetReader(opts.dataset) as reader:
        result = train(opts, reader)
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
