"""`robotapp demo`: record -> train -> evaluate on the virtual rig, in one command."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    from robotapp.cli.argtypes import positive_float, positive_int, setting
    from robotapp.core.rig_opener import VIRTUAL_RIGS
    from robotapp.jobs.train_launch import default_processes

    p = sub.add_parser("demo", help="record -> train -> evaluate on the virtual rig, in one command")
    p.add_argument("--out", default="outputs/demo", help="folder for the dataset, the training run and results")
    p.add_argument("--rig", choices=sorted(VIRTUAL_RIGS), default="virtual",
                   help="which virtual rig: 'virtual' (the Koch, default) or 'virtual-so101'")
    p.add_argument("--episodes", type=positive_int, default=50, help="demonstrations to record")
    p.add_argument("--policy", choices=["act", "diffusion"], default="act")
    p.add_argument("--steps", type=positive_int, default=100000, help="training steps at most (the time budget ends it first)")
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--minutes", type=positive_float, default=30.0,
                   help="training budget, wall clock (default 30); the LR schedule is fitted to the steps it allows")
    p.add_argument("--eval-episodes", type=positive_int, default=50)
    p.add_argument("--set", type=setting, action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="override a policy config field for training, e.g. --set optimizer_lr=2e-4")
    p.add_argument("--amp", action="store_true",
                   help="train with bfloat16 autocast (GPUs, CPUs with AVX512-BF16 or AMX; elsewhere float32, with a warning)")
    p.add_argument("--procs", type=positive_int, default=default_processes(),
                   help="training processes (data parallel; default: one per core, at most 4)")
    p.add_argument("--skip-train", action="store_true", help="evaluate OUT/train-<policy>/last as it is")
    p.add_argument("--corrections", type=positive_int, default=None, metavar="N",
                   help="the take-over loop instead: demos -> train -> evaluate with the scripted corrector until "
                        "N episodes are corrected -> fine-tune on demos + corrections -> evaluate before and "
                        "after on the same unseen scenes")
    p.add_argument("--finetune-minutes", type=positive_float, default=10.0,
                   help="with --corrections: the fine-tune's wall-clock budget (default 10)")
    p.set_defaults(func=_run)


def _run(a: argparse.Namespace) -> int:
    from pathlib import Path

    from robotapp.terminal.demo import run_demo

    if a.corrections:
        from robotapp.terminal.corrections_demo import run_corrections_demo

        return run_corrections_demo(Path(a.out), a.corrections, a.episodes, a.minutes, a.finetune_minutes,
                                    a.eval_episodes, a.procs, rig=a.rig, policy=a.policy, steps=a.steps,
                                    overrides=dict(a.settings), batch_size=a.batch_size)
    return run_demo(Path(a.out), a.episodes, a.policy, a.steps, a.eval_episodes,
                    a.skip_train, a.batch_size, overrides=dict(a.settings),
                    minutes=a.minutes, amp=a.amp, procs=a.procs, rig=a.rig)
