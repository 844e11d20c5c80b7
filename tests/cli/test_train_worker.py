"""`torchrun --nproc_per_node=2 -m policies.train` on CPU (DDP over gloo) trains and writes the same
checkpoint format as a single process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policies import load_policy
from tests.policies.helpers import TINY_ACT, make_episodes, write_dataset

TORCHRUN = Path(sys.executable).with_name("torchrun")


@pytest.mark.skipif(not TORCHRUN.exists() and shutil.which("torchrun") is None, reason="torchrun not installed")
def test_torchrun_two_processes_on_cpu(tmp_path):
    root = write_dataset(tmp_path / "ds", make_episodes(n_episodes=2, length=12))
    sets = [x for k, v in TINY_ACT.items() if k != "batch_size"
            for x in ("--set", f"{k}={json.dumps(list(v) if isinstance(v, tuple) else v)}")]
    out = tmp_path / "out"
    cmd = [str(TORCHRUN if TORCHRUN.exists() else shutil.which("torchrun")), "--standalone", "--nproc_per_node=2",
           "-m", "policies.train", "--dataset", str(root), "--policy", "act", "--steps", "4", "--save-every", "2",
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
