"""`robotapp eval`: evaluate one policy, several, or every checkpoint of a training run, on the same seeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robotapp.cli.argtypes import positive_float, positive_int, seed, setting
from robotapp.eval.checkpoint_table import format_table, policy_folders, write_table
from robotapp.eval.eval_datasets import default_eval_dataset
from robotapp.eval.evaluate import OUTCOMES, Judge, evaluate
from robotapp.eval.seeds import EVAL_SEED_BASE, overlap_lines, seeds_line
from robotapp.eval.takeover import Control, TakeoverSwitch
from robotapp.terminal.tty import KeyReader, PipeLines

WHO_DRIVES = {Control.ALIGNING: "taken over: the follower holds until the leader is on it",
              Control.HUMAN: "you drive: the follower copies the leader (T hands back)",
              Control.POLICY: "the policy drives again"}


class PersonJudge(Judge):
    """On a real rig: after each episode (time limit reached) the person types s / f / p and an optional note;
    without a terminal (a script), one such line per episode comes on stdin. `keys` (T during an episode) stops
    reading while the mark is asked for."""

    def __init__(self, keys=None, lines=None):
        self.keys = keys  # a terminal's KeyReader (T), paused while the mark is typed
        self.lines = lines  # without a terminal: PipeLines, whose lines other than "t" are the marks

    def outcome(self, episode: int) -> tuple[str, str]:
        if self.keys is not None:
            self.keys.stop()
        try:
            return self._ask(episode)
        finally:
            if self.keys is not None:
                self.keys.start()

    def _ask(self, episode: int) -> tuple[str, str]:
        tty = sys.stdin is not None and sys.stdin.isatty()
        while True:
            prompt = (f"episode {episode + 1}: mark it, one line: s (success), f (fail) or p (partial), then an "
                      f"optional note: ")
            if tty:
                answer = input(prompt).strip()
            else:
                print(prompt, flush=True)
                answer = self.lines.readline() if self.lines is not None else \
                    sys.stdin.readline() if sys.stdin is not None else ""
                if not answer:
                    raise RuntimeError(f"episode {episode + 1} has no mark: stdin ended (give one line per episode: "
                                       f"s, f or p)")
                answer = answer.strip()
            mark, _, note = answer.partition(" ")
            outcome = {o[0]: o for o in OUTCOMES}.get(mark[:1].lower())
            if outcome:
                return outcome, note.strip()
            print("  please start with s, f or p")


def _cmd_eval(args: argparse.Namespace) -> int:
    folders = [f for p in args.policy for f in policy_folders(p)]
    rig = None
    judge = None
    from robotapp.core.rig_opener import is_virtual_rig

    live = args.realtime or not is_virtual_rig(args.rig)  # a person can take over in real time only
    switch, keys = None, None
    if live:
        switch = TakeoverSwitch(on_change=lambda c: print(WHO_DRIVES[c], flush=True))

        def key(ch: str) -> None:
            if ch in "tT":
                print("T: taking over" if switch.toggle() else "T: handing back", flush=True)
        if sys.stdin is not None and sys.stdin.isatty():
            keys = KeyReader(key)
        else:  # a script: a line "t" is the key; the other lines are the marks, in order
            keys = PipeLines(key)
    if not is_virtual_rig(args.rig):
        from robotapp.core.rig_opener import open_rig

        rig = open_rig(args.rig)
        judge = PersonJudge(keys) if isinstance(keys, KeyReader) else PersonJudge(lines=keys)
    if rig is None:  # the virtual rig: say which scenes, and whether the training data holds any of them
        print(seeds_line(args.seed, args.episodes), flush=True)
        for line in _overlap(folders, args):
            print(line, flush=True)
    results = []
    if keys is not None:
        print("T: take over from the policy / hand back to it", flush=True)
        keys.start()
    # on the virtual rig in real time the scripted hand is the person's: it takes over when asked (T)
    corrections = args.corrections or ("manual" if live and rig is None else False)
    try:
        for folder in folders:
            if len(folders) > 1:
                print(f"== {folder}")
            record = None if args.no_record else args.record or default_eval_dataset(folder)
            if record is not None:
                print(f"recording the episodes into {record}", flush=True)
            results.append(evaluate(folder, rig=rig, episodes=args.episodes, seed=args.seed,
                                    fast=not args.realtime and rig is None, episode_time=args.episode_time,
                                    record=record, judge=judge, fps=args.fps, inference=dict(args.settings),
                                    out=lambda line: print(line, flush=True), rig_name=args.rig,
                                    corrections=corrections, switch=switch))
    finally:
        if keys is not None:
            keys.stop()
        if rig is not None:
            rig.close()
    if len(results) > 1 or args.table:
        print(format_table(results))
        base = args.table or (Path(args.policy[0]) / "eval_table" if len(folders) > 1 else None)
        if base:
            csv_path, json_path = write_table(results, base)
            print(f"table: {csv_path} and {json_path}")
    return 0


def _overlap(folders: list[Path], args: argparse.Namespace) -> list[str]:
    """The training-data check, once per dataset (a training run's checkpoints all name the same one)."""
    if args.train_dataset:
        return overlap_lines(args.seed, args.episodes, folders[0], args.train_dataset)
    lines: list[str] = []
    for folder in folders:
        lines += [line for line in overlap_lines(args.seed, args.episodes, folder) if line not in lines]
    return lines


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="run a policy on the follower and count successes",
                              description="Evaluate a policy folder, several, or every checkpoint of a training "
                                          "run on the same scenes. Ends with 'success: K/N (rate X%, 95% CI [a, b])'.")
    p.add_argument("--policy", action="append", required=True, metavar="DIR",
                   help="policy folder or training run (repeatable)")
    p.add_argument("--rig", default="virtual", help="'virtual' (default; the Koch, the world judges success), "
                                                   "'virtual-so101', or a saved rig (you judge each episode: s / f / "
                                                   "p and a note)")
    p.add_argument("--episodes", type=positive_int, default=10, help="episodes per policy (default 10)")
    p.add_argument("--seed", type=seed, default=EVAL_SEED_BASE,
                   help=f"virtual rig: episode k starts from world seed S+k (default {EVAL_SEED_BASE}; recordings "
                        f"start at 0, so these scenes were never demonstrated)")
    p.add_argument("--train-dataset", default=None, metavar="DIR",
                   help="the dataset the policy was trained on (default: the one its checkpoint names): a warning "
                        "when evaluation scenes were recorded in it")
    p.add_argument("--episode-time", type=positive_float, default=20.0, help="seconds before an episode counts as failed")
    p.add_argument("--record", default=None, metavar="DIR",
                   help="record the evaluation episodes into this dataset (default: one of its own per policy, "
                        "RUN/evals/<step>-<time> for a training run's checkpoint, else outputs/evals/)")
    p.add_argument("--no-record", action="store_true", help="do not record the evaluation episodes")
    p.add_argument("--corrections", action="store_true",
                   help="virtual rig: the scripted corrector takes over an episode that goes wrong (cube not "
                        "grasped by 8 s, pushed away, dropped outside the zone), solves it with the demonstrator "
                        "and hands back; the recording flags those frames (feature 'intervention')")
    p.add_argument("--realtime", action="store_true",
                   help="virtual rig: run on the wall clock (default: lock-step, as fast as the machine allows)")
    p.add_argument("--fps", type=positive_int, default=30, help="the policy's frame rate (the dataset's fps)")
    p.add_argument("--set", type=setting, action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="an inference setting, e.g. ACT's temporal ensembling: --set n_action_steps=1 "
                        "--set temporal_ensemble_coeff=0.01; Diffusion's --set num_inference_steps=20")
    p.add_argument("--table", default=None, metavar="PATH",
                   help="write the per-policy table to PATH.csv and PATH.json")
    p.set_defaults(func=_cmd_eval)
