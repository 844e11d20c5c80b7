"""The train command and its worker process: `robotapp train` parses and trains; the worker
(`python -m robotapp.cli.train_worker`) takes the same arguments, refuses a bad dataset in one line and ends on SIGTERM
with a checkpoint; under `torchrun --nproc_per_node=2` on CPU (DDP over gloo) it writes the same checkpoint format as
a single process."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from policies import load_policy
from robotapp.cli.cmd_train import register
from robotapp.cli.train_worker import main
from robotapp.jobs.train_launch import WORKER
from tests.policies.helpers import TINY_ACT, make_episodes, write_dataset

TORCHRUN = Path(sys.executable).with_name("torchrun")


def test_the_train_command(tmp_path, capsys):
    root = write_dataset(tmp_path / "ds", make_episodes(n_episodes=2, length=10))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    sets = [x for k, v in TINY_ACT.items() if k != "batch_size" for x in ("--set", f"{k}={_json(v)}")]
    args = parser.parse_args(["train", "--dataset", str(root), "--policy", "act", "--steps", "3", "--out",
                              str(tmp_path / "out"), "--batch-size", "4", "--no-progress", "--num-threads", "1", *sets])
    assert args.func(args) == 0
    assert "trained 3 steps" in capsys.readouterr().out
    assert load_policy(tmp_path / "out" / "last").config.dim_model == TINY_ACT["dim_model"]
    assert main(["--dataset", str(tmp_path / "missing"), "--out", str(tmp_path / "x"), "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("train: ") and err.count("\n") == 1


def _json(v):
    return json.dumps(list(v) if isinstance(v, tuple) else v)


@pytest.mark.parametrize("procs", [1, 2])
def test_sigterm_finishes_the_step_and_saves(tmp_path, procs):
    """What a GUI's stop button does to the training subprocess (with --procs 2: to the launcher, which passes it
    on to both trainers)."""
    root = write_dataset(tmp_path / "ds", make_episodes(n_episodes=1, length=10))
    sets = [x for k, v in TINY_ACT.items() for x in ("--set", f"{k}={_json(v)}")]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", WORKER, "--dataset", str(root), "--steps", "100000",
                             "--out", str(tmp_path / "out"), "--log-every", "1", "--num-threads", "1",
                             "--procs", str(procs), *sets],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        for line in proc.stderr:
            if line.startswith("step "):
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "stopped at step" in out
    last = (tmp_path / "out" / "last").resolve()
    step = int(last.name)
    assert 1 <= step < 100000 and json.loads((last / "training_state.json").read_text())["step"] == step
    assert load_policy(last).config.dim_model == TINY_ACT["dim_model"]


@pytest.mark.skipif(not TORCHRUN.exists() and shutil.which("torchrun") is None, reason="torchrun not installed")
def test_torchrun_two_processes_on_cpu(tmp_path):
    root = write_dataset(tmp_path / "ds", make_episodes(n_episodes=2, length=12))
    sets = [x for k, v in TINY_ACT.items() if k != "batch_size"
            for x in ("--set", f"{k}={json.dumps(list(v) if isinstance(v, tuple) else v)}")]
    out = tmp_path / "out"
    cmd = [str(TORCHRUN if TORCHRUN.exists() else shutil.which("torchrun")), "--standalone", "--nproc_per_node=2",
           "-m", WORKER, "--dataset", str(root), "--policy", "act", "--steps", "4", "--save-every", "2",
           "--log-every", "1", "--batch-size", "4", "--out", str(out), "--no-progress", "--device", "cpu", *sets]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    assert run.stdout.count("trained 4 steps") == 1  # rank 0 reports, rank 1 does not
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["000002", "000004"]
    files = sorted(p.name for p in (out / "last").iterdir())
    assert files == ["config.json", "model.safetensors", "normalizer.safetensors", "training_state.json",
                     "training_state.safetensors"]
    state = json.loads((out / "last" / "training_state.json").read_text())
    assert state["world_size"] == 2 and state["step"] == 4 and state["batch_size"] == 4  # per process
    rows = (out / "train_log.csv").read_text().splitlines()
    assert len(rows) == 5  # header + one row per step, written once (by rank 0)
    policy = load_policy(out / "last")
    assert policy.config.dim_model == TINY_ACT["dim_model"]

    from safetensors.torch import load_file

    from policies.train import TrainOptions, train
    from robotapp.dataset import DatasetReader

    single = train(TrainOptions(policy="act", steps=1, out=str(tmp_path / "single"), overrides=TINY_ACT,
                                progress=False, device="cpu", num_threads=1), reader=DatasetReader(root))
    assert sorted(p.name for p in single.checkpoint.iterdir()) == files
    for name in ("model.safetensors", "normalizer.safetensors"):
        a, b = load_file(str(out / "last" / name)), load_file(str(single.checkpoint / name))
        assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}
