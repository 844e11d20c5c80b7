"""`robotapp demo`: the whole imitation-learning loop on a virtual rig (the Koch's, or --rig virtual-so101) in one
command.

1. record N episodes of the scripted demonstrator (lock-step, world seeds 1000+k),
2. train a policy on them (ACT cpu-small by default),
3. evaluate it on unseen world seeds EVAL_SEED_BASE.. (1000000.., as `robotapp eval`) and print
   `success: K/M (rate X%, 95% CI [a, b])`.
An existing dataset in OUT/dataset is reused (topped up when it holds fewer episodes); --skip-train reuses
OUT/train-<policy>/last."""

from __future__ import annotations

import time
from pathlib import Path

TASK = "pick and place the cube"
TRAIN_SEED_BASE = 1000  # the demo's datasets so far used these; evaluation starts at EVAL_SEED_BASE, far past


def run_demo(out: Path, episodes: int, policy: str, steps: int, eval_episodes: int, skip_train: bool = False,
             batch_size: int | None = None, overrides: dict | None = None, minutes: float | None = None, amp: bool = False,
             procs: int = 1, rig: str = "virtual") -> int:
    from policies.train import TrainOptions, train
    from robotapp.dataset import DatasetReader
    from robotapp.dataset.layout import is_dataset
    from robotapp.eval.evaluate import evaluate
    from robotapp.eval.seeds import EVAL_SEED_BASE, overlap_lines, seeds_line
    from robotapp.jobs.train_launch import train_in_processes
    from robotapp.terminal import session_commands as commands

    out.mkdir(parents=True, exist_ok=True)
    dataset = out / "dataset"
    have = 0
    if is_dataset(dataset):
        with DatasetReader(dataset) as r:
            have = r.num_episodes
    t0 = time.perf_counter()
    if have < episodes:
        print(f"== recording {episodes - have} demonstrator episodes into {dataset}", flush=True)
        code = commands.record(rig, str(dataset), TASK, episodes - have, 12.0, 0.5, 0.5, resume=have > 0,
                               demonstrator=True, seed=TRAIN_SEED_BASE + have, fps=30, codec="av1", align=True,
                               fast=True)
        if code:
            return code
    t_record = time.perf_counter() - t0
    run = out / f"train-{policy}"
    t_train = 0.0
    if not skip_train:
        print(f"== training {policy} (cpu-small{', bf16' if amp else ''}"
              f"{f', {procs} processes' if procs > 1 else ''}) for {steps} steps"
              f"{f' or {minutes:g} min' if minutes else ''} into {run}", flush=True)
        t1 = time.perf_counter()
        opts = TrainOptions(dataset=str(dataset), policy=policy, steps=steps, out=str(run),
                            save_every=max(1, min(500, steps // 4)), batch_size=batch_size,
                            overrides=dict(overrides or {}), resume=(run / "last").exists(), amp=amp,
                            time_budget_s=60 * minutes if minutes else None)
        if procs > 1:
            code = train_in_processes(opts, procs)
            if code:
                return code
        else:
            with DatasetReader(dataset) as reader:
                train(opts, reader)
        t_train = time.perf_counter() - t1
        print(_training_summary(run, t_train), flush=True)
    print(f"== evaluating {run / 'last'} on {eval_episodes} unseen scenes", flush=True)
    print(seeds_line(EVAL_SEED_BASE, eval_episodes), flush=True)
    for line in overlap_lines(EVAL_SEED_BASE, eval_episodes, run / "last", dataset):  # e.g. a hand-made dataset
        print(line, flush=True)
    t2 = time.perf_counter()
    res = evaluate(run / "last", episodes=eval_episodes, seed=EVAL_SEED_BASE, fast=True,
                   out=lambda line: print(line, flush=True), rig_name=rig)
    print(f"record {t_record / 60:.1f} min · train {t_train / 60:.1f} min · evaluate "
          f"{(time.perf_counter() - t2) / 60:.1f} min")
    print(res.summary())
    return 0


def _training_summary(run: Path, seconds: float) -> str:
    """The step reached (the newest checkpoint), the mean training rate and the last loss (the run's log)."""
    import json

    from robotapp.jobs.training_job import read_log

    rows = read_log(run / "train_log.csv")
    state = run / "last" / "training_state.json"
    if not rows or not state.is_file():
        return f"training ended after {seconds / 60:.1f} min without a checkpoint"
    step = json.loads(state.read_text())["step"]
    rate = sum(r["samples_per_s"] for r in rows) / len(rows)
    return f"trained {step} steps in {seconds / 60:.1f} min ({rate:.1f} samples/s), final loss {rows[-1]['loss']:.4f}"
