"""`robotapp eval` end to end on the virtual rig with a (barely) trained ACT policy: per-episode lines, the
success line with its interval, the per-checkpoint table, evaluation episodes recorded into a dataset."""

import json
import re
from pathlib import Path

import pytest

from robotapp.cli.main import main
from robotapp.dataset import DatasetReader
from tests.policies.helpers import train_tiny_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_tiny_run(tmp_path_factory.mktemp("eval"), steps=4)


def test_eval_prints_episodes_and_the_success_line(run_dir, tmp_path, capsys):
    assert main(["eval", "--policy", str(run_dir / "last"), "--episodes", "2", "--seed", "3",
                 "--episode-time", "1.5", "--record", str(tmp_path / "evals")]) == 0
    out = capsys.readouterr().out.splitlines()
    # the seeds, then why they could not be checked: the synthetic training dataset stores no scene seeds
    assert out[0] == "seeds 3-4" and out[1].startswith(f"note: the training dataset {run_dir.parent / 'ds'} stores no")
    assert out[2] == f"recording the episodes into {tmp_path / 'evals'}"
    assert re.fullmatch(r"episode 1/2 \(seed 3\): (success|fail \(cube [a-z0-9. ]+\)) in 1\.5 s \[\d/1, \d+ s\]", out[3])
    assert re.fullmatch(r"success: 0/2 \(rate 0\.0%, 95% CI \[0\.0%, 65\.8%\]\)", out[-1])
    with DatasetReader(tmp_path / "evals") as r:
        assert r.num_episodes == 2 and r.episodes[0].length == 45  # 1.5 s at 30 fps
        assert r.extra(1)["eval"]["seed"] == 4 and r.extra(1)["scene"] == {"virtual_seed": 4}  # replay's scene


def test_eval_of_a_training_run_writes_the_checkpoint_table(run_dir, capsys):
    assert main(["eval", "--policy", str(run_dir), "--episodes", "1", "--episode-time", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "== " in out and out.count("success: 0/1") == 2  # checkpoints 2 and 4
    assert out.count("note: the training dataset") == 1 and out.startswith("seed 1000000\n")  # once for the run
    table = json.loads((run_dir / "eval_table.json").read_text())["table"]
    assert [row["step"] for row in table] == [2, 4]
    # each checkpoint's episodes recorded by default, in a dataset of its own beside the run
    recorded = sorted(p.name.split("-")[0] for p in (run_dir / "evals").iterdir())
    assert recorded == ["000002", "000004"] and f"recording the episodes into {run_dir / 'evals'}" in out
    assert (run_dir / "eval_table.csv").read_text().splitlines()[0].startswith("policy,step,episodes,successes")


@pytest.mark.parametrize("argv,message", [
    (["eval", "--policy", "/nonexistent"], "is neither a policy folder"),
    (["eval", "--policy", "/nonexistent", "--episodes", "0"], "argument --episodes: must be a positive whole number"),
])
def test_bad_input_is_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_inference_settings_apply_and_network_settings_are_refused(run_dir, capsys):
    last = str(run_dir / "last")
    assert main(["eval", "--policy", last, "--episodes", "1", "--episode-time", "0.5",
                 "--set", "n_action_steps=1", "--set", "temporal_ensemble_coeff=0.01"]) == 0
    assert "success: 0/1" in capsys.readouterr().out
    assert main(["eval", "--policy", last, "--episodes", "1", "--set", "chunk_size=5"]) == 2
    err = capsys.readouterr().err
    assert "chunk_size cannot change after training" in err and err.count("\n") == 1


def test_estop_reaches_the_follower_of_a_running_evaluation(run_dir):
    """The window's E-STOP during an evaluation: the evaluation's own session stops the follower (its e-stop
    action, not the end of the episode) and the run ends with a one-line reason."""
    import time

    from robotapp.core.events import Kind, Reason
    from robotapp.core.modes import Mode
    from robotapp.jobs.eval_job import EvalJob, EvalSpec

    job = EvalJob(EvalSpec(checkpoint=str(run_dir / "last"), episodes=3, episode_time=60.0))
    future = job.start()
    deadline = time.monotonic() + 60
    while (job.session is None or job.session.mode != Mode.POLICY) and not future.done():
        assert time.monotonic() < deadline, "the evaluation never started driving the follower"
        time.sleep(0.01)  # polling a real condition: the session's mode
    session = job.session
    stops = []
    session.events.subscribe(lambda e: stops.append(e) if e.kind == Kind.ESTOP else None)
    job.estop("E-STOP pressed in the window")
    assert stops and stops[0].reason == Reason.ESTOP  # published by estop() itself, at once
    with pytest.raises(RuntimeError, match="evaluation stopped: E-STOP pressed in the window"):
        future.result(timeout=60)
    assert len(job.outcomes) == 0 and job.session is None


def test_a_policy_runs_only_on_the_robot_type_it_was_trained_on(run_dir, tmp_path, capsys):
    import shutil

    policy = tmp_path / "policy"
    shutil.copytree(run_dir / "last", policy)
    state = json.loads((policy / "training_state.json").read_text())
    with DatasetReader(run_dir.parent / "ds") as r:
        assert state["robot_type"] == r.robot_type  # the trainer keeps the dataset's robot type
    state["robot_type"] = "so101_follower"
    (policy / "training_state.json").write_text(json.dumps(state))
    assert main(["eval", "--policy", str(policy), "--episodes", "1", "--episode-time", "0.5", "--no-record"]) == 2
    err = capsys.readouterr().err
    assert err == (f"robotapp eval: {policy}: the policy was trained on so101_follower data, but rig 'virtual' is "
                   "koch_follower; use --rig virtual-so101\n")
    assert main(["eval", "--policy", str(policy), "--rig", "virtual-so101", "--episodes", "1",
                 "--episode-time", "0.5", "--no-record"]) == 0
    assert "success: 0/1" in capsys.readouterr().out


def test_the_default_recording_place_is_beside_the_run_and_never_one_already_there(run_dir, tmp_path, monkeypatch):
    from robotapp.eval.eval_datasets import default_eval_dataset

    first = default_eval_dataset(run_dir / "last", now=0.0)
    assert first.parent == run_dir / "evals" and first.name.startswith("000004-")
    first.mkdir(parents=True)
    assert default_eval_dataset(run_dir / "last", now=0.0) == first.with_name(first.name + "-2")  # same second
    monkeypatch.chdir(tmp_path)
    alone = tmp_path / "policy"
    alone.mkdir()
    assert default_eval_dataset(alone, now=0.0).parent == Path("outputs") / "evals"  # a policy folder on its own
