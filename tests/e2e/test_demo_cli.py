"""Issue 8's one command for the whole loop, at toy size: `robotapp demo` records demonstrations, trains in two
processes and evaluates on unseen scenes (seeds the dataset says it never recorded), ending with the success line."""

import json
import os
import re
import subprocess
import sys

from robotapp.eval.seeds import recorded_seeds
from tests.policies.helpers import TINY_ACT


def test_demo_records_trains_and_evaluates(tmp_path):
    out = tmp_path / "demo"
    sets = [x for k, v in TINY_ACT.items() if k != "batch_size"
            for x in ("--set", f"{k}={json.dumps(list(v) if isinstance(v, tuple) else v)}")]
    run = subprocess.run(
        [sys.executable, "-m", "robotapp", "demo", "--out", str(out), "--episodes", "2", "--steps", "3",
         "--batch-size", "4", "--eval-episodes", "1", "--procs", "2", *sets],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, env=os.environ.copy())
    assert run.returncode == 0, run.stderr[-4000:] + run.stdout[-2000:]
    text = run.stdout
    assert "== recording 2 demonstrator episodes" in text
    assert "2 processes" in text and re.search(r"^trained 3 steps in [\d.]+ min", text, re.M)
    # demonstrations from seeds 1000.., stored per episode; evaluation on 1000000.., which none of them is
    assert recorded_seeds(out / "dataset") == {1000, 1001}
    assert re.search(r"^seed 1000000\n", text, re.M) and "warning:" not in text
    assert re.search(r"^episode 1/1 \(seed 1000000\): (success|fail)", text, re.M)
    assert re.search(r"^success: [01]/1 \(rate \d+\.\d%, 95% CI \[\d+\.\d%, \d+\.\d%\]\)$", text.strip(), re.M)
    state = json.loads((out / "train-act" / "last" / "training_state.json").read_text())
    assert state["world_size"] == 2 and state["step"] == 3


def test_demo_with_corrections_collects_fine_tunes_and_compares(tmp_path):
    out = tmp_path / "corr"
    sets = [x for k, v in TINY_ACT.items() if k != "batch_size"
            for x in ("--set", f"{k}={json.dumps(list(v) if isinstance(v, tuple) else v)}")]
    run = subprocess.run(
        [sys.executable, "-m", "robotapp", "demo", "--corrections", "1", "--out", str(out), "--episodes", "1",
         "--steps", "2", "--batch-size", "4", "--eval-episodes", "1", "--procs", "1", *sets],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, env=os.environ.copy())
    assert run.returncode == 0, run.stderr[-4000:] + run.stdout[-2000:]
    text = run.stdout
    # a barely trained policy: the corrector takes over at 8 s, the demonstrator solves the scene
    assert re.search(r"^episode 1/1 \(seed 2000000\): success in [\d.]+ s, taken over [\d.]+ s "
                     r"\(cube not grasped by 8 s\)", text, re.M), text[-3000:]
    assert "1 corrected episodes in 1" in text
    state = json.loads((out / "finetune-act" / "last" / "training_state.json").read_text())
    assert state["resumed_from_run"] == str(out / "train-act") and len(state["datasets"]) == 2
    assert re.search(r"^before: success: [01]/1", text, re.M) and re.search(r"^after corrections: success: [01]/1",
                                                                            text, re.M)
