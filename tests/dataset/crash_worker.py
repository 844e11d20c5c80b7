"""A recorder process for the crash tests: `python -m tests.dataset.crash_worker ROOT MODE`.

MODE "loop": record episodes (2 cameras, small frames) into ROOT until killed, creating or resuming the dataset,
printing "durable <episode>" after each episode is durable. Other modes record 2 episodes, then kill themselves
with SIGKILL at one precise point of the third (deterministic recovery tests):
  recording   while the third episode is being recorded
  flushing    after save_episode, before the episode's files are complete in staging
  staged      when the staged episode is complete, before it is published
  apply:K     after K file operations of the publishing transaction
  edit:K      (3 episodes, then delete episode 1) after K file operations of the delete's transaction
A mode ending in "@new" (e.g. "recording@new") records no episode before: it kills the first episode of a new
dataset (the failed first recording).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from robotapp.dataset import DatasetWriter
from robotapp.dataset import txn as txn_mod
from robotapp.dataset import writer as writer_mod
from tests.dataset import synth

CAMS = ("front", "wrist")


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def open_writer(root: Path) -> DatasetWriter:
    if (root / "meta" / "info.json").is_file():
        return DatasetWriter.open(root, fps=10, features=synth.features(CAMS), robot_type="koch")
    return DatasetWriter.create(root, fps=10, features=synth.features(CAMS), robot_type="koch")


def say(line: str) -> None:
    print(line, flush=True)


def main(root: Path, mode: str) -> None:
    mode, _, where = mode.partition("@")
    w = open_writer(root)
    for note in w.recovery_notes:
        say(f"note {note}")
    if mode == "loop":
        while True:
            ep = w.num_episodes
            synth.record(w, ep, synth.length(ep, 6), CAMS).wait(60)
            say(f"durable {ep}")
    for _ in range(0 if where == "new" else 2 if not mode.startswith("edit") else 3):
        ep = w.num_episodes
        synth.record(w, ep, synth.length(ep, 6), CAMS).wait(60)
        say(f"durable {ep}")
    kind, _, arg = mode.partition(":")
    if kind == "edit":
        w.close()
        _kill_after_ops(int(arg))
        from robotapp.dataset.trash import delete_episodes

        delete_episodes(root, [1])
        say("edit finished")
        return
    ep = w.num_episodes
    if kind == "recording":
        before = dict(w.stats.encoded)
        for i in range(5):
            w.add_frame(synth.observation(ep, i, CAMS), synth.action(ep, i), synth.task(ep))
        w.wait_durable(60)
        while any(w.stats.encoded[k] < before[k] + 5 for k in before):  # the encoders have started this episode's files
            time.sleep(0.005)
        die()
    if kind == "flushing":
        writer_mod.write_file = lambda *a, **k: die()
    elif kind == "staged":
        writer_mod.publish = lambda *a, **k: die()
    elif kind == "apply":
        _kill_after_ops(int(arg))
    synth.record(w, ep, synth.length(ep, 6), CAMS).wait(60)
    say("not killed")


def _kill_after_ops(k: int) -> None:
    real = txn_mod.apply_ops

    def partial(root, ops, *, fsync=True):
        real(root, ops[:k], fsync=fsync)
        die()

    txn_mod.apply_ops = partial


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
