"""Training in several processes from one call (`--procs N`): the arguments survive the relaunch, the global
batch is split across the processes, and the time budget counts from the launch."""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policies.train import TrainOptions, _run_start
from robotapp.cli.cmd_train import add_train_arguments, options_from_args
from robotapp.jobs.train_launch import WORKER, options_to_argv, per_process_batch
from tests.policies.helpers import TINY_ACT, make_episodes, write_dataset


def _parse(argv: list[str]) -> TrainOptions:
    p = argparse.ArgumentParser()
    add_train_arguments(p)
    return options_from_args(p.parse_args(argv))


def test_options_survive_the_command_line():
    opts = TrainOptions(dataset="/data/ds", policy="diffusion", preset="cpu-small", steps=123, out="/runs/x",
                        batch_size=12, seed=7, save_every=50, log_every=5, device="cpu", resume=True,
                        cameras=["front", "wrist"], episodes=[0, 3], overrides={"n_obs_steps": 1, "crop_shape": [80, 100],
                                                                                 "prediction_type": "sample"},
                        num_threads=1, progress=False, amp=True, time_budget_s=90.0)
    assert _parse(options_to_argv(opts)) == opts


def test_global_batch_is_split_across_processes():
    assert per_process_batch(TrainOptions(policy="act"), 2) == 16  # cpu-small's 32
    assert per_process_batch(TrainOptions(policy="act", batch_size=24), 3) == 8
    assert per_process_batch(TrainOptions(policy="act", overrides={"batch_size": 8}), 4) == 2
    with pytest.raises(ValueError, match="batch size 2 is smaller than the 4 processes"):
        per_process_batch(TrainOptions(policy="act", batch_size=2), 4)


def test_budget_counts_from_the_launch():
    assert time.perf_counter() - _run_start(time.time() - 30.0) == pytest.approx(30.0, abs=1.0)
    assert time.perf_counter() - _run_start(None) < 1.0


def test_procs_2_trains_data_parallel(tmp_path):
    root = write_dataset(tmp_path / "ds", make_episodes(n_episodes=2, length=12))
    sets = [x for k, v in TINY_ACT.items() if k != "batch_size"
            for x in ("--set", f"{k}={json.dumps(list(v) if isinstance(v, tuple) else v)}")]
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", WORKER, "--dataset", str(root), "--policy", "act", "--steps", "3",
           "--save-every", "0", "--log-every", "1", "--batch-size", "8", "--out", str(out), "--no-progress",
           "--device", "cpu", "--procs", "2", "--minutes", "20", *sets]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    launched = time.time()
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    assert run.stdout.count("trained 3 steps") == 1  # rank 0 reports, rank 1 does not
    state = json.loads((out / "last" / "training_state.json").read_text())
    assert state["world_size"] == 2 and state["batch_size"] == 4  # the global 8, split in two
    assert state["options"]["time_budget_s"] == pytest.approx(1200.0)
    assert launched <= state["options"]["budget_start"] < launched + 10  # the launcher's start, not the worker's


def test_procs_2_with_a_bad_dataset_fails_in_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = subprocess.run([sys.executable, "-m", WORKER, "--dataset", str(tmp_path / "nowhere"), "--steps",
                          "3", "--out", str(tmp_path / "out"), "--procs", "2"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 2
    assert run.stderr == f"train: dataset folder {tmp_path / 'nowhere'} does not exist\n"  # once, not per process


def test_one_failing_worker_ends_the_run():
    """A worker that dies leaves the others waiting in an all-reduce: the launcher kills them and reports it."""
    from robotapp.jobs.train_launch import _wait_all

    stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    failing = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    assert _wait_all([stuck, failing]) == (3, 1)
    assert stuck.returncode is not None and stuck.returncode != 0
