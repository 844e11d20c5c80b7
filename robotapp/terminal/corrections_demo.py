"""`robotapp demo --corrections N`: the take-over-and-correct loop on the virtual rig, in one command.

1. record the demonstrations (OUT/dataset; reused when there) and train a policy on them (OUT/train-<policy>),
2. evaluate it with the scripted corrector on scenes of their own (CORRECTION_SEED_BASE..), recorded into
   OUT/corrections, until N episodes were corrected,
3. fine-tune the policy on the demonstrations and the corrections, balanced (OUT/finetune-<policy>),
4. evaluate the policy before and after on the same unseen scenes (EVAL_SEED_BASE..) and print both lines.

The pieces are also what bench/corrections.py composes to compare corrections against more demonstrations."""

from __future__ import annotations

import time
from pathlib import Path

CORRECTION_SEED_BASE = 2_000_000  # far from the recordings' (1000+) and the evaluations' (1000000+) scenes
TASK = "pick and place the cube"


def record_demos(rig: str, dataset: Path, episodes: int, seed: int) -> int:
    """Top `dataset` up to `episodes` demonstrator episodes (world seeds seed, seed+1, ...)."""
    from robotapp.dataset import DatasetReader
    from robotapp.dataset.layout import is_dataset
    from robotapp.terminal import session_commands as commands

    have = 0
    if is_dataset(dataset):
        with DatasetReader(dataset) as r:
            have = r.num_episodes
    if have >= episodes:
        return 0
    print(f"== recording {episodes - have} demonstrator episodes into {dataset}", flush=True)
    return commands.record(rig, str(dataset), TASK, episodes - have, 12.0, 0.5, 0.5, resume=have > 0,
                           demonstrator=True, seed=seed + have, fps=30, codec="av1", align=True, fast=True)


def train_run(datasets: list[Path], out: Path, minutes: float, procs: int, policy: str = "act",
              resume_from: Path | None = None, steps: int = 100_000, overrides: dict | None = None,
              batch_size: int | None = None) -> int:
    """Train (or, from `resume_from`, fine-tune) for `minutes` of wall clock into `out`; balanced datasets."""
    from policies.train import TrainOptions, train
    from robotapp.dataset import DatasetReader
    from robotapp.jobs.train_launch import train_in_processes

    if (out / "last").exists():
        print(f"== {out} is trained already: kept", flush=True)
        return 0
    what = f"fine-tuning {resume_from}" if resume_from else f"training {policy}"
    print(f"== {what} on {', '.join(map(str, datasets))} for {minutes:g} min into {out}", flush=True)
    opts = TrainOptions(dataset=str(datasets[0]), datasets=[str(d) for d in datasets], policy=policy,
                        steps=steps, out=str(out), save_every=min(500, steps), time_budget_s=60 * minutes,
                        resume_from=str(resume_from) if resume_from else None, overrides=dict(overrides or {}),
                        batch_size=batch_size)
    if procs > 1:
        return train_in_processes(opts, procs)
    readers = [DatasetReader(d) for d in datasets]
    try:
        train(opts, readers if len(readers) > 1 else readers[0])
    finally:
        for r in readers:
            r.close()
    return 0


def collect_corrections(policy: Path, rig: str, dataset: Path, corrected: int, max_episodes: int) -> int:
    """Evaluate `policy` with the scripted corrector, recording into `dataset`, until `corrected` episodes were
    corrected (or max_episodes ran). Returns how many were."""
    from robotapp.dataset import DatasetReader
    from robotapp.dataset.layout import is_dataset
    from robotapp.eval.evaluate import evaluate

    done, ran = 0, 0
    if is_dataset(dataset):
        with DatasetReader(dataset) as r:
            ran = r.num_episodes
            done = sum(bool(r.extra(e).get("eval", {}).get("interventions")) for e in range(ran))
    print(f"== evaluating {policy} with the scripted corrector until {corrected} episodes are corrected "
          f"(recorded into {dataset})", flush=True)
    while done < corrected and ran < max_episodes:
        batch = min(max_episodes - ran, max(1, corrected - done))
        res = evaluate(policy, episodes=batch, seed=CORRECTION_SEED_BASE + ran, fast=True, record=dataset,
                       corrections=True, rig_name=rig, out=lambda line: print(line, flush=True))
        ran += batch
        done += sum(bool(e.interventions) for e in res.episodes)
    print(f"{done} corrected episodes in {ran}", flush=True)
    return done


def run_corrections_demo(out: Path, corrections: int, episodes: int, minutes: float, finetune_minutes: float,
                         eval_episodes: int, procs: int, rig: str = "virtual", policy: str = "act",
                         steps: int = 100_000, overrides: dict | None = None, batch_size: int | None = None) -> int:
    from robotapp.eval.evaluate import evaluate
    from robotapp.eval.seeds import EVAL_SEED_BASE, seeds_line
    from robotapp.terminal.demo import TRAIN_SEED_BASE

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    demos, base, fixes, tuned = out / "dataset", out / f"train-{policy}", out / "corrections", out / f"finetune-{policy}"
    code = record_demos(rig, demos, episodes, TRAIN_SEED_BASE)
    sizes = {"steps": steps, "overrides": overrides, "batch_size": batch_size}
    code = code or train_run([demos], base, minutes, procs, policy, **sizes)
    if code:
        return code
    collect_corrections(base / "last", rig, fixes, corrections, max_episodes=4 * corrections)
    code = train_run([demos, fixes], tuned, finetune_minutes, procs, policy, resume_from=base / "last", **sizes)
    if code:
        return code
    lines = {}
    for name, run in (("before", base), ("after corrections", tuned)):
        print(f"== evaluating {run / 'last'} ({name}) on {eval_episodes} unseen scenes", flush=True)
        print(seeds_line(EVAL_SEED_BASE, eval_episodes), flush=True)
        res = evaluate(run / "last", episodes=eval_episodes, seed=EVAL_SEED_BASE, fast=True, rig_name=rig,
                       out=lambda line: None)
        lines[name] = res.summary()
    print(f"total {(time.perf_counter() - t0) / 60:.1f} min")
    for name, line in lines.items():
        print(f"{name}: {line}")
    return 0
