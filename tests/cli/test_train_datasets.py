"""`robotapp train` on several datasets and from another run: --dataset repeated, --weights and --resume-from survive
the relaunch into N processes; datasets that disagree are refused in one line naming the dataset and the field;
a fine-tune into the run's own folder is refused; two processes fine-tune a run on two datasets (a corrections
dataset with its `intervention` flag among them) and write a new run that says where it came from."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policies import load_policy
from policies.train import TrainOptions
from robotapp.cli.cmd_train import add_train_arguments, options_from_args
from robotapp.cli.train_worker import main
from robotapp.jobs.train_launch import WORKER, options_to_argv, per_process_batch
from tests.policies.helpers import TINY_ACT, make_episodes, with_intervention, write_dataset

SETS = [x for k, v in TINY_ACT.items() if k != "batch_size"
        for x in ("--set", f"{k}={json.dumps(list(v) if isinstance(v, tuple) else v)}")]


def _parse(argv):
    p = argparse.ArgumentParser()
    add_train_arguments(p)
    return options_from_args(p.parse_args(argv))


@pytest.mark.parametrize("weights", ["balanced", "frames", [1.0, 3.0]])
def test_datasets_weights_and_resume_from_survive_the_command_line(weights):
    opts = TrainOptions(dataset="/data/demos", datasets=["/data/demos", "/data/corrections"], weights=weights,
                        resume_from="/runs/act", steps=10, out="/runs/act-finetune")
    assert _parse(options_to_argv(opts)) == opts
    one = _parse(["--dataset", "/data/demos", "--out", "/runs/x"])
    assert one.dataset_list == ["/data/demos"] and one.datasets is None and one.weights == "balanced"


def test_bad_weights_are_refused_while_parsing(capsys):
    for bad in ("1,x", "0,0", "-1,2"):
        with pytest.raises(SystemExit) as e:
            main(["--dataset", "/d", "--out", "/o", "--weights", bad])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "--weights" in err and err.count("\n") == 1


def test_the_fine_tune_batch_is_the_runs_own(tmp_path):
    ckpt = tmp_path / "run" / "checkpoints" / "000004"
    ckpt.mkdir(parents=True)
    (ckpt / "config.json").write_text(json.dumps({"type": "act", "batch_size": 12}))
    assert per_process_batch(TrainOptions(resume_from=str(tmp_path / "run")), 2) == 6
    assert per_process_batch(TrainOptions(resume_from=str(tmp_path / "run"), batch_size=8), 2) == 4
    # a run trained in 4 processes of 12: its global batch was 48
    (ckpt / "training_state.json").write_text(json.dumps({"step": 4, "batch_size": 12, "world_size": 4}))
    assert per_process_batch(TrainOptions(resume_from=str(ckpt)), 2) == 24


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    eps = make_episodes(n_episodes=1, length=8, cams=("front",))
    return {
        "demos": write_dataset(root / "demos", make_episodes(n_episodes=2, length=10, cams=("front",))),
        "corrections": write_dataset(root / "corrections", with_intervention(make_episodes(1, length=10, seed=4,
                                                                                           cams=("front",)))),
        "slow": write_dataset(root / "slow", eps, fps=15),
        "so101": write_dataset(root / "so101", eps, robot_type="so101_follower"),
        "two_cams": write_dataset(root / "two_cams", make_episodes(n_episodes=1, length=8)),
    }


@pytest.mark.parametrize("other,field", [("slow", "fps is 15, but"), ("so101", "robot type is 'so101_follower'"),
                                         ("two_cams", "camera wrist, which")])
def test_datasets_that_disagree_are_refused_in_one_line(datasets, tmp_path, capsys, other, field):
    code = main(["--dataset", str(datasets["demos"]), "--dataset", str(datasets[other]), "--out", str(tmp_path / "o"),
                 "--steps", "1", "--no-progress", *SETS])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"train: dataset {datasets[other]}: {field}") and str(datasets["demos"]) in err


def test_two_processes_fine_tune_a_run_on_two_datasets(datasets, tmp_path, capsys):
    run = tmp_path / "act"
    assert main(["--dataset", str(datasets["demos"]), "--out", str(run), "--steps", "2", "--no-progress",
                 "--num-threads", "1", *SETS]) == 0
    capsys.readouterr()
    # the run's own folder is refused, in one line, and its checkpoints stay as they are
    assert main(["--dataset", str(datasets["demos"]), "--resume-from", str(run), "--out", str(run), "--steps", "2",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"train: --out {run} is the run being fine-tuned") and err.count("\n") == 1
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["000002"]

    new = tmp_path / "act-finetune"
    cmd = [sys.executable, "-m", WORKER, "--dataset", str(datasets["demos"]), "--dataset",
           str(datasets["corrections"]), "--weights", "1,3", "--resume-from", str(run), "--out", str(new),
           "--steps", "3", "--log-every", "1", "--no-progress", "--device", "cpu", "--procs", "2"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert done.stdout.count("trained 3 steps") == 1
    state = json.loads((new / "last" / "training_state.json").read_text())
    assert state["world_size"] == 2 and state["batch_size"] == 16  # the run's batch (cpu-small: 32) split in two
    assert state["resumed_from"] == str((run / "checkpoints" / "000002").resolve())
    assert [(d["path"], d["share"]) for d in state["datasets"]] == [(str(datasets["demos"]), 0.25),
                                                                   (str(datasets["corrections"]), 0.75)]
    assert load_policy(new / "last").config.input_features == load_policy(run / "last").config.input_features
    assert (new / "last" / "normalizer.safetensors").read_bytes() == (run / "last" / "normalizer.safetensors").read_bytes()


def test_the_intervention_flag_of_a_recorded_dataset_is_no_policy_input(datasets, tmp_path):
    from robotapp.dataset import DatasetReader

    with DatasetReader(datasets["corrections"]) as reader:
        assert reader.features["intervention"]["dtype"] == "bool"
    configs = {}
    for name in ("demos", "corrections"):
        assert main(["--dataset", str(datasets[name]), "--out", str(tmp_path / name), "--steps", "1", "--no-progress",
                     "--num-threads", "1", *SETS]) == 0
        configs[name] = json.loads((tmp_path / name / "last" / "config.json").read_text())
    assert configs["corrections"]["input_features"] == configs["demos"]["input_features"]
    assert "intervention" not in json.dumps(configs["corrections"])
