"""The training worker: `python -m robotapp.cli.train_worker ...` or `torchrun --nproc_per_node=N -m
robotapp.cli.train_worker ...` (DDP: gloo on CPU, nccl on GPU). The same arguments and behaviour as `robotapp
train`: it opens the dataset and runs policies.train.train(); the first SIGTERM or SIGINT finishes the step, saves
a checkpoint and exits 0. robotapp.jobs.train_launch (--procs N) and the GUI's training job start it.

Before the first step (seconds of loading torch, opening the dataset, the frame cache) it says what it is doing
on stderr, one `progress: <what>` line per stage (rank 0 only; not with --no-progress), which the GUI's training
job turns into its progress text (robotapp.jobs.training_job.PROGRESS)."""

from __future__ import annotations

import os
import sys

from robotapp.cli.argtypes import ArgumentParser
from robotapp.cli.cmd_train import add_train_arguments, run_train
from robotapp.dataset.layout import is_dataset

PROG = "robotapp.cli.train_worker"


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog=PROG, description="train a policy (the arguments of `robotapp train`: several "
                                                    "--dataset, --weights, --resume-from included)")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    say = _progress_lines(args)
    try:
        if args.procs != 1 and not _distributed():
            say(f"starting {args.procs} training processes")  # each loads torch; rank 0 says the rest
        else:
            say("loading the trainer (torch)")
            import policies.train  # noqa: F401 - the slow import, said before it happens

            say("opening the dataset" if len(args.dataset) == 1 else f"opening the {len(args.dataset)} datasets")
        return run_train(args)
    except (ValueError, LookupError, OSError, RuntimeError) as e:
        print(f"train: {e}", file=sys.stderr)
        return 2
    finally:
        _end_distributed()


PROGRESS_PREFIX = "progress: "  # robotapp.jobs.training_job reads these lines (it does not import the CLI)


def _progress_lines(args):
    # a folder that is no dataset is refused in the trainer's one error line, with no progress said before it
    quiet = (args.no_progress or int(os.environ.get("RANK", "0")) != 0
             or not all(is_dataset(d) for d in args.dataset))

    def say(what: str) -> None:
        if not quiet:
            print(f"{PROGRESS_PREFIX}{what}", file=sys.stderr, flush=True)
    return say


def _distributed() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _end_distributed() -> None:
    if "torch.distributed" in sys.modules:  # loaded by the trainer; nothing to end when it never started
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
