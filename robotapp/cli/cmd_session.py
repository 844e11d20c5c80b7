"""`robotapp teleop | record | replay`: a session on the rig, run from the terminal."""

from __future__ import annotations

import argparse

from robotapp.cli.argtypes import nonneg_float, nonneg_int, positive_float, positive_int, seed
from robotapp.eval.seeds import EVAL_SEED_BASE, RECORD_SEED_BASE


def register(sub) -> None:
    p = sub.add_parser("teleop", help="the follower copies the leader")
    _session_args(p)
    p.add_argument("--align", action="store_true", help="move the follower slowly onto the leader first")
    p.add_argument("--seconds", type=positive_float, default=None, help="stop after this long (default: until q)")
    p.set_defaults(func=lambda a: _commands().teleop(a.rig, a.align, a.seconds, a.fps, a.hz))

    p = sub.add_parser("record", help="record teleoperated episodes into a LeRobot v3.0 dataset")
    _session_args(p)
    p.add_argument("--dataset", required=True, help="dataset folder (new, or existing with --resume)")
    p.add_argument("--task", required=True, help="what the episodes show, e.g. 'pick up the red cube'")
    p.add_argument("--episodes", type=positive_int, default=10)
    p.add_argument("--episode-time", type=positive_float, default=30.0, help="seconds per episode at most")
    p.add_argument("--reset-time", type=nonneg_float, default=5.0, help="seconds between episodes to reset the scene")
    p.add_argument("--warmup-time", type=nonneg_float, default=2.0, help="seconds of teleop before the first episode")
    p.add_argument("--resume", action="store_true", help="add episodes to an existing dataset")
    p.add_argument("--demonstrator", action="store_true",
                   help="virtual rig: the scripted demonstrator moves the leader (training data, headless)")
    p.add_argument("--seed", type=seed, default=RECORD_SEED_BASE,
                   help=f"virtual rig: episode k starts from world seed S+k (default {RECORD_SEED_BASE}; each "
                        f"episode's seed is stored in the dataset; `robotapp eval` starts at {EVAL_SEED_BASE})")
    p.add_argument("--codec", choices=["av1", "h264"], default="av1")
    p.add_argument("--fast", action="store_true",
                   help="virtual rig + demonstrator: lock-step with the world, as fast as the machine allows")
    p.add_argument("--align", action="store_true", help="move the follower slowly onto the leader first")
    p.set_defaults(func=_record)

    p = sub.add_parser("replay", help="send a recorded episode's actions to the follower")
    _session_args(p, fps=False)
    p.add_argument("--dataset", required=True)
    p.add_argument("--episode", type=nonneg_int, required=True,
                   help="which episode, counting from 0 (as recording and `robotapp dataset info DIR --episodes` "
                        "number them)")
    p.set_defaults(func=lambda a: _commands().replay(a.rig, a.dataset, a.episode, a.hz))


def _commands():
    from robotapp.terminal import session_commands

    return session_commands


def _record(a: argparse.Namespace) -> int:
    return _commands().record(
        rig=a.rig, dataset=a.dataset, task=a.task, episodes=a.episodes, episode_time=a.episode_time,
        reset_time=a.reset_time, warmup_time=a.warmup_time, resume=a.resume, demonstrator=a.demonstrator,
        seed=a.seed, fps=a.fps, codec=a.codec, align=a.align, hz=a.hz, fast=a.fast)


def _session_args(p: argparse.ArgumentParser, fps: bool = True) -> None:
    p.add_argument("--rig", default="virtual", help="'virtual' (default; the Koch), 'virtual-so101' or the name of a saved rig config")
    if fps:  # replay takes the dataset's
        p.add_argument("--fps", type=positive_int, default=30, help="dataset frames per second (default 30)")
    p.add_argument("--hz", type=positive_float, default=None,
                   help="control loop rate, a whole multiple of the fps (default 3x)")
