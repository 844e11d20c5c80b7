"""Training in several processes on one machine (data parallel), started from one call.

On a CPU, one process per core beats one process with a thread per core: a training step of these small
networks is many small ops, and intra-op threads hand work back and forth more than they compute (ACT cpu-small
on 2 cores: 64 samples/s with 2 threads, 91 with 2 processes of 1 thread; bench/train.py). `train_in_processes`
runs the same trainer under torch.distributed.run (gloo on CPU, nccl on GPU) and keeps the global batch the
preset's by splitting it across the processes. The time budget counts from this call, launch included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace

from .train import TrainOptions

T0_ENV = "ROBOTAPP_TRAIN_T0"  # wall-clock start of the whole run (time.time()), read by every process's budget


def default_processes() -> int:
    """Processes for a CPU run: one per core, at most 4 (beyond that the all-reduce and the per-process frame
    caches cost more than they give on these networks)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def per_process_batch(opts: TrainOptions, procs: int) -> int:
    """The global batch (--batch-size, else the preset's) split across `procs` processes."""
    from .config import make_config

    total = opts.batch_size or make_config(opts.policy, opts.preset, **opts.overrides).batch_size
    if total < procs:
        raise ValueError(f"batch size {total} is smaller than the {procs} processes it is split across")
    return total // procs


def options_to_argv(opts: TrainOptions) -> list[str]:
    """The trainer's command-line arguments for `opts` (the inverse of policies.cli.options_from_args)."""
    import json

    args = ["--dataset", str(opts.dataset), "--policy", opts.policy, "--preset", opts.preset, "--steps",
            str(opts.steps), "--out", str(opts.out), "--save-every", str(opts.save_every), "--log-every",
            str(opts.log_every), "--seed", str(opts.seed), "--device", opts.device]
    if opts.batch_size:
        args += ["--batch-size", str(opts.batch_size)]
    if opts.resume:
        args.append("--resume")
    if opts.cameras:
        args += ["--cameras", ",".join(opts.cameras)]
    if opts.episodes:
        args += ["--episodes", ",".join(map(str, opts.episodes))]
    for key, value in opts.overrides.items():
        args += ["--set", f"{key}={json.dumps(list(value) if isinstance(value, tuple) else value)}"]
    if opts.num_threads:
        args += ["--num-threads", str(opts.num_threads)]
    if opts.time_budget_s:
        args += ["--minutes", repr(opts.time_budget_s / 60)]
    if opts.amp:
        args.append("--amp")
    if not opts.progress:
        args.append("--no-progress")
    return args


def train_in_processes(opts: TrainOptions, procs: int) -> int:
    """Run the trainer in `procs` processes (rank 0 prints and saves) and return its exit code."""
    if procs < 1:
        raise ValueError(f"--procs must be at least 1, got {procs}")
    opts = replace(opts, batch_size=per_process_batch(opts, procs), num_threads=opts.num_threads or 1)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
           "-m", "policies.train", *options_to_argv(opts)]
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
               **{T0_ENV: os.environ.get(T0_ENV, repr(time.time()))})
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Ctrl-C reached the children too: let them save their checkpoint
        return proc.wait()
