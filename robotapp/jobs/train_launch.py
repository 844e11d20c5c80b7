"""Training in several processes on one machine (data parallel), started from one call.

On a CPU, one process per core beats one process with a thread per core: a training step of these small
networks is many small ops, and intra-op threads hand work back and forth more than they compute (cpu-small on
2 cores, 1 process x 2 threads -> 2 x 1: ACT 112 -> 144 samples/s, Diffusion 93 -> 131; bench/train_procs.py).
`train_in_processes` runs the same trainer in N processes (torch.distributed: gloo on CPU, nccl on GPU) and
keeps the global batch the preset's by splitting it across the processes. The time budget counts from this
call, launch included. Each process is the training worker, robotapp.cli.train_worker (`torchrun
--nproc_per_node=N -m robotapp.cli.train_worker` runs the same; this is the one-call form).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from policies.config import make_config
from policies.run_folder import fine_tune_batch_size, fine_tune_start

if TYPE_CHECKING:  # torch-free at import: the CLI and the GUI load this without torch
    from policies.train import TrainOptions

T0_ENV = "ROBOTAPP_TRAIN_T0"  # wall-clock start of the whole run (time.time()), read by every process's budget
WORKER = "robotapp.cli.train_worker"  # the module each process runs (python -m), by name: jobs never import the CLI


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
    total = opts.batch_size or _fine_tune_batch(opts) or make_config(opts.policy, opts.preset, **opts.overrides).batch_size
    if total < procs:
        raise ValueError(f"batch size {total} is smaller than the {procs} processes it is split across")
    return total // procs


def _fine_tune_batch(opts: TrainOptions) -> int | None:
    """A fine-tune trains with its policy's batch size (unless --batch-size or --set batch_size says otherwise)."""
    if not opts.resume_from or opts.resume:
        return None
    if "batch_size" in opts.overrides:
        return int(opts.overrides["batch_size"])
    return fine_tune_batch_size(fine_tune_start(opts.resume_from))


def options_to_argv(opts: TrainOptions) -> list[str]:
    """The trainer's command-line arguments for `opts` (the inverse of robotapp.cli.cmd_train.options_from_args)."""
    import json

    args = [x for d in opts.dataset_list for x in ("--dataset", str(d))]
    args += ["--policy", opts.policy, "--preset", opts.preset, "--steps",
            str(opts.steps), "--out", str(opts.out), "--save-every", str(opts.save_every), "--log-every",
            str(opts.log_every), "--seed", str(opts.seed), "--device", opts.device]
    if opts.batch_size:
        args += ["--batch-size", str(opts.batch_size)]
    if opts.resume:
        args.append("--resume")
    if opts.resume_from:
        args += ["--resume-from", str(opts.resume_from)]
    if opts.weights != "balanced":
        args += ["--weights", opts.weights if isinstance(opts.weights, str) else ",".join(map(repr, opts.weights))]
    if opts.cameras:
        args += ["--cameras", ",".join(opts.cameras)]
    if opts.episodes:
        args += ["--episodes", ",".join(map(str, opts.episodes))]
    for key, value in opts.overrides.items():
        args += ["--set", f"{key}={json.dumps(value)}"]  # tuples become JSON lists, as the config reads them
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
    """Run the trainer in `procs` processes (rank 0 prints and saves) and return the first failing exit code, or 0.

    The workers are started here with the environment torch.distributed reads (env:// rendezvous on a free local
    port), not through torchrun's agent, so that this process knows them: a signal to it (Ctrl-C, a GUI's stop)
    reaches each worker exactly once and they end like a single process (finish the step, save, exit 0), and when
    one worker fails the others are killed instead of waiting on it in a collective."""
    if procs < 1:
        raise ValueError(f"--procs must be at least 1, got {procs}")
    opts = replace(opts, batch_size=per_process_batch(opts, procs), num_threads=opts.num_threads or 1)
    cmd = [sys.executable, "-m", WORKER, *options_to_argv(opts)]
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE=str(procs),
               LOCAL_WORLD_SIZE=str(procs), **{T0_ENV: os.environ.get(T0_ENV, repr(time.time()))})
    # Own sessions: a terminal's Ctrl-C reaches this process alone, which passes it on once. Rank 0 speaks for
    # all; the others' stderr is kept and shown only if one of them is the one that failed.
    logs = [None] + [tempfile.TemporaryFile() for _ in range(1, procs)]  # noqa: SIM115 - closed below
    workers = [subprocess.Popen(cmd, env=dict(env, RANK=str(r), LOCAL_RANK=str(r)), stderr=logs[r],
                                start_new_session=True) for r in range(procs)]
    restore = _forward_signals(workers)
    try:
        code, rank = _wait_all(workers)
        if code and rank:
            logs[rank].seek(0)
            sys.stderr.write(logs[rank].read().decode(errors="replace")[-4000:])
        return code
    finally:
        restore()
        for w in workers:
            if w.poll() is None:
                w.kill()
        for f in logs[1:]:
            f.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_all(workers: list[subprocess.Popen]) -> tuple[int, int]:
    """(exit code, rank): the first worker that failed, or (0, 0) when all ended well."""
    while True:
        codes = [w.poll() for w in workers]
        failed = [(c, r) for r, c in enumerate(codes) if c not in (None, 0)]
        if failed:  # the others would wait for it in the next all-reduce (a SIGTERM's save too): kill them
            for w in workers:
                if w.poll() is None:
                    w.kill()
            for w in workers:
                w.wait()
            return failed[0]
        if all(c == 0 for c in codes):
            return 0, 0
        time.sleep(0.2)


def _forward_signals(workers: list[subprocess.Popen]):
    """SIGINT / SIGTERM to this process -> the same signal to every worker. Returns what puts the old handlers
    back."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def forward(signum, frame):
        for w in workers:
            if w.poll() is None:
                w.send_signal(signum)

    sigs = (signal.SIGINT, signal.SIGTERM)
    old = {sig: signal.signal(sig, forward) for sig in sigs}
    return lambda: [signal.signal(sig, handler) for sig, handler in old.items()]
