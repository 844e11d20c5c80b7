"""The training worker: `python -m robotapp.cli.train_worker ...` or `torchrun --nproc_per_node=N -m
robotapp.cli.train_worker ...` (DDP: gloo on CPU, nccl on GPU). The same arguments and behaviour as `robotapp
train`: it opens the dataset and runs policies.train.train(); the first SIGTERM or SIGINT finishes the step, saves
a checkpoint and exits 0. robotapp.jobs.train_launch (--procs N) and the GUI's training job start it."""

from __future__ import annotations

import sys

from robotapp.cli.argtypes import ArgumentParser
from robotapp.cli.cmd_train import add_train_arguments, run_train

PROG = "robotapp.cli.train_worker"


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog=PROG, description="train a policy (the arguments of `robotapp train`)")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_train(args)
    except (ValueError, LookupError, OSError, RuntimeError) as e:
        print(f"train: {e}", file=sys.stderr)
        return 2
    finally:
        _end_distributed()


def _end_distributed() -> None:
    if "torch.distributed" in sys.modules:  # loaded by the trainer; nothing to end when it never started
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
