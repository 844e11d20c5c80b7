"""Corrections against more demonstrations (issue 23's learning result), on the virtual rig, 2 CPU cores:

  base: 20 demonstrations -> ACT cpu-small, BASE minutes
  (a)   + 20 more demonstrations          -> fine-tune the base for FT minutes on all 40 (balanced)
  (b)   + corrections of 20 corrected evaluation episodes (the scripted corrector, scenes 2000000..)
                                          -> fine-tune the base for FT minutes on the 20 demos + the corrections
  then each policy on the same 50 unseen scenes (1000000..), success with a 95% interval.

    .venv/bin/python bench/corrections.py --out .bench/corrections --base-minutes 10 --finetune-minutes 5

Folders already there are reused (a run that stopped goes on where it was). Prints a markdown table and writes
OUT/results.json."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> int:
    from robotapp.eval.evaluate import evaluate
    from robotapp.eval.seeds import EVAL_SEED_BASE
    from robotapp.jobs.train_launch import default_processes
    from robotapp.terminal.corrections_demo import collect_corrections, record_demos, train_run
    from robotapp.terminal.demo import TRAIN_SEED_BASE

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=".bench/corrections")
    p.add_argument("--rig", default="virtual")
    p.add_argument("--demos", type=int, default=20)
    p.add_argument("--corrected", type=int, default=20)
    p.add_argument("--base-minutes", type=float, default=10.0)
    p.add_argument("--finetune-minutes", type=float, default=5.0)
    p.add_argument("--eval-episodes", type=int, default=50)
    p.add_argument("--procs", type=int, default=default_processes())
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    demos, more = out / "demos", out / "more-demos"
    assert not record_demos(a.rig, demos, a.demos, TRAIN_SEED_BASE)
    assert not record_demos(a.rig, more, a.demos, TRAIN_SEED_BASE + a.demos)  # the next seeds: new scenes
    base = out / "base"
    assert not train_run([demos], base, a.base_minutes, a.procs)
    corrections = out / "corrections"
    t_corr = time.perf_counter()
    corrected = collect_corrections(base / "last", a.rig, corrections, a.corrected, max_episodes=4 * a.corrected)
    t_corr = time.perf_counter() - t_corr
    arms = {"(a) + more demos": (out / "ft-demos", [demos, more]),
            "(b) + corrections": (out / "ft-corrections", [demos, corrections])}
    for run, datasets in arms.values():
        assert not train_run(datasets, run, a.finetune_minutes, a.procs, resume_from=base / "last")
    rows = []
    for name, run in (("base (20 demos)", base), *((n, r) for n, (r, _) in arms.items())):
        res = evaluate(run / "last", episodes=a.eval_episodes, seed=EVAL_SEED_BASE, fast=True, rig_name=a.rig,
                       out=lambda line: None)
        state = json.loads((run / "last" / "training_state.json").read_text())
        lo, hi = res.interval
        rows.append({"policy": name, "run": str(run), "steps": state["step"], "successes": res.successes,
                     "episodes": len(res.episodes), "ci95": [lo, hi]})
        print(f"{name}: {res.summary()}", flush=True)
    print(f"\n{corrected} corrected episodes collected in {t_corr / 60:.1f} min; total {(time.perf_counter() - t0) / 60:.1f} min\n")
    print("| policy | training | success on 50 unseen scenes | 95% CI |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['policy']} | {r['steps']} steps | {r['successes']}/{r['episodes']} "
              f"({100 * r['successes'] / r['episodes']:.0f}%) | [{100 * r['ci95'][0]:.1f}%, {100 * r['ci95'][1]:.1f}%] |")
    (out / "results.json").write_text(json.dumps({"rows": rows, "corrected": corrected, "args": vars(a)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
