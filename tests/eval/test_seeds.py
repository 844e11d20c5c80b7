"""Evaluation scenes against the training data: the defaults do not overlap, the seeds a dataset recorded are
read from its per-episode extras, and `robotapp eval` prints the seeds it used and warns (once, in one line) when
the training dataset recorded some of them, whether that dataset is given or named by the checkpoint."""

import json
import re
import shutil

import numpy as np
import pytest

from robotapp.cli.main import build_parser, main
from robotapp.dataset import DatasetWriter, build_features
from robotapp.eval.seeds import (
    EVAL_SEED_BASE,
    RECORD_SEED_BASE,
    episode_seed,
    free_seed,
    overlap_lines,
    recorded_seeds,
    seeds_line,
)
from robotapp.jobs.eval_job import EvalSpec

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]


def seeded_dataset(root, seeds: list[int | None]):
    """A state-only dataset whose episode i was recorded from world seed seeds[i] (None: no scene stored)."""
    w = DatasetWriter.create(root, fps=30, features=build_features(JOINTS, []), robot_type="koch_follower",
                             fsync=False)
    try:
        for s in seeds:
            for _ in range(3):
                w.add_frame({"observation.state": np.zeros(6, np.float32)}, np.zeros(6, np.float32), "pick")
            w.save_episode(extra={"scene": {"virtual_seed": s}} if s is not None else {}).wait()
    finally:
        w.close()
    return root


def test_the_front_ends_defaults_do_not_overlap():
    parser = build_parser()
    record = parser.parse_args(["record", "--dataset", "d", "--task", "t"])
    evaluation = parser.parse_args(["eval", "--policy", "p"])
    assert record.seed == RECORD_SEED_BASE and evaluation.seed == EVAL_SEED_BASE == EvalSpec("x").seed
    # a very long recording (100k episodes) still stays below the evaluation's first scene
    assert RECORD_SEED_BASE + 100_000 < EVAL_SEED_BASE


def test_seeds_line_is_compact():
    assert seeds_line(1_000_000, 20) == "seeds 1000000-1000019"
    assert seeds_line(7, 1) == "seed 7"


def test_episode_seed_reads_recordings_and_recorded_evaluations():
    assert episode_seed({"scene": {"virtual_seed": 12}, "telemetry": {}}) == 12
    assert episode_seed({"eval": {"seed": 3}}) == 3  # `robotapp eval --record` before it stored a scene
    assert episode_seed({"scene": {}}) is None and episode_seed({}) is None
    assert episode_seed({"scene": {"virtual_seed": True}}) is None  # not a seed, though bool is an int


def test_free_seed_skips_past_what_was_recorded():
    assert free_seed({0, 1, 2}, 20) == EVAL_SEED_BASE
    assert free_seed({EVAL_SEED_BASE + 5, 3}, 10) == EVAL_SEED_BASE + 6
    assert free_seed({5}, 3, start=0) == 0 and free_seed({1}, 3, start=0) == 2


def test_overlap_lines(tmp_path):
    ds = seeded_dataset(tmp_path / "ds", [0, 1, 2, None])
    assert recorded_seeds(ds) == {0, 1, 2}
    assert overlap_lines(EVAL_SEED_BASE, 20, tmp_path, ds) == []
    [line] = overlap_lines(1, 5, tmp_path, ds)
    assert line == (f"warning: 2 of 5 evaluation seeds were recorded in the training dataset {ds}: the success "
                    f"rate flatters the policy; use --seed {EVAL_SEED_BASE}")
    [note] = overlap_lines(0, 5, tmp_path, seeded_dataset(tmp_path / "unseeded", [None]))
    assert note.startswith("note:") and "stores no virtual-rig scene seeds" in note
    [gone] = overlap_lines(0, 5, tmp_path, tmp_path / "moved")
    assert gone.startswith(f"note: the training dataset {tmp_path / 'moved'} cannot be read") and "\n" not in gone
    assert overlap_lines(0, 5, tmp_path) == []  # a policy folder that names no dataset: nothing to check


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    """A barely trained ACT policy; its checkpoint names the (unseeded) dataset it was trained on."""
    from tests.policies.helpers import train_tiny_run

    return train_tiny_run(tmp_path_factory.mktemp("seeds")) / "last"


def _eval(argv, capsys) -> list[str]:
    assert main(["eval", "--episodes", "2", "--episode-time", "0.3", "--no-record", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def test_eval_prints_its_seeds_and_warns_about_the_named_dataset(policy, tmp_path, capsys):
    seeded = seeded_dataset(tmp_path / "seeded", [0, 1, 2])
    # the checkpoint names the dataset it was trained on: a copy that names the seeded one
    ckpt = tmp_path / "ckpt"
    shutil.copytree(policy, ckpt)
    state = json.loads((ckpt / "training_state.json").read_text())
    state["options"]["dataset"] = str(seeded)
    (ckpt / "training_state.json").write_text(json.dumps(state))

    out = _eval(["--policy", str(ckpt)], capsys)  # the default seeds: unseen, no warning
    assert out[0] == f"seeds {EVAL_SEED_BASE}-{EVAL_SEED_BASE + 1}" and not any("warning" in x for x in out)
    assert re.match(rf"episode 1/2 \(seed {EVAL_SEED_BASE}\)", out[1])

    out = _eval(["--policy", str(ckpt), "--seed", "2"], capsys)
    assert out[0] == "seeds 2-3"
    assert out[1] == (f"warning: 1 of 2 evaluation seeds were recorded in the training dataset {seeded}: the "
                      f"success rate flatters the policy; use --seed {EVAL_SEED_BASE}")
    assert sum("warning" in x for x in out) == 1 and out[-1].startswith("success: ")


def test_eval_takes_the_training_dataset_from_the_command_line(policy, tmp_path, capsys):
    seeded = seeded_dataset(tmp_path / "seeded", [0, 1])
    out = _eval(["--policy", str(policy), "--seed", "0", "--train-dataset", str(seeded)], capsys)
    assert out[0] == "seeds 0-1" and out[1].startswith(f"warning: 2 of 2 evaluation seeds were recorded in the "
                                                       f"training dataset {seeded}")
