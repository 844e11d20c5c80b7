"""`robotapp train` (and `python -m policies.train`, the same arguments): parsing only; the work is
policies.train.train()."""

from __future__ import annotations

import argparse

from .argtypes import int_list, nonneg_int, positive_float, positive_int, seed, setting, size
from .config import CONFIG_CLASSES, PRESETS


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


def options_from_args(args: argparse.Namespace):
    from .train import TrainOptions

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
    import signal
    import threading

    from .train import train

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _on_signal)
    if args.procs != 1 and not _distributed():
        from .launch import train_in_processes

        return train_in_processes(options_from_args(args), args.procs)
    result = train(options_from_args(args))
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
    import signal

    from .train import request_stop

    request_stop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _raise_interrupt)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _distributed() -> bool:
    import os

    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _rank() -> int:
    import os

    return int(os.environ.get("RANK", "0"))


def add_train_command(subparsers) -> argparse.ArgumentParser:
    """Register `train` on robotapp's subparsers; its func returns an exit code."""
    p = subparsers.add_parser("train", help="train an ACT or Diffusion policy on a dataset (torchrun-ready)")
    add_train_arguments(p)
    p.set_defaults(func=run_train)
    return p
