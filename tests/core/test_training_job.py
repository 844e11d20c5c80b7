"""The Train page's service, without Qt: argument lists from the dataclass, bad fields named, the CSV tailed
row by row (a half-written line waits for its end), checkpoints listed; the Evaluate page's marks and tally."""

import sys

import pytest

from robotapp.jobs.eval_job import EvalJob, EvalSpec
from robotapp.jobs.training_job import TrainingJob, TrainSpec, checkpoints, read_log


def fake_dataset(root):
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "info.json").write_text("{}")
    return root


def test_argv_is_a_list_for_the_clis_trainer(tmp_path):
    spec = TrainSpec(dataset=str(fake_dataset(tmp_path / "ds")), out=str(tmp_path / "run"), policy="diffusion",
                     steps=7, save_every=3, log_every=1, settings={"image_size": [16, 24]}, resume=True)
    argv = spec.argv()
    assert argv[:3] == [sys.executable, "-m", "robotapp.cli.train_worker"]
    assert argv[argv.index("--policy") + 1] == "diffusion" and argv[argv.index("--steps") + 1] == "7"
    assert argv[argv.index("--set") + 1] == "image_size=[16, 24]" and argv[-1] == "--resume"
    assert "--procs" not in argv
    spec.processes = 2
    assert spec.argv()[spec.argv().index("--procs") + 1] == "2"


@pytest.mark.parametrize("change,field", [
    (dict(dataset=""), "dataset:"), (dict(steps=0), "steps:"), (dict(policy="gpt"), "policy:"),
    (dict(preset="huge"), "preset:"), (dict(processes=0), "processes:"), (dict(resume=True), "run folder: nothing to resume"), (dict(out=""), "run folder:"),
])
def test_problems_name_the_field(tmp_path, change, field):
    spec = TrainSpec(dataset=str(fake_dataset(tmp_path / "ds")), out=str(tmp_path / "run"))
    assert spec.problems() == []
    for k, v in change.items():
        setattr(spec, k, v)
    assert str(spec.problems()[0]).startswith(field)
    with pytest.raises(ValueError, match=field.split(":")[0]):
        TrainingJob(spec).start()


def test_poll_reads_whole_rows_only(tmp_path):
    spec = TrainSpec(dataset=str(fake_dataset(tmp_path / "ds")), out=str(tmp_path / "run"), steps=10)
    job = TrainingJob(spec)
    (tmp_path / "run").mkdir()
    log = tmp_path / "run" / "train_log.csv"
    log.write_text("step,epoch,loss,step_ms\n1,0,2.5,100\n2,0,2.")
    assert [r["loss"] for r in job.poll()] == [2.5]
    with open(log, "a") as f:
        f.write("25,100\n3,0,1.75,50\n")
    assert [r["loss"] for r in job.poll()] == [2.25, 1.75]
    assert [r["step"] for r in job.rows] == [r["step"] for r in read_log(log)] == [1, 2, 3]
    assert job.eta_s() == pytest.approx(7 * 0.05)
    for step in ("000002", "000004.tmp", "000001"):
        (tmp_path / "run" / "checkpoints" / step).mkdir(parents=True)
        (tmp_path / "run" / "checkpoints" / step / "config.json").write_text("{}")
    assert [c.name for c in checkpoints(tmp_path / "run")] == ["000001", "000002"]


def test_eval_job_marks_once_and_tallies(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    with pytest.raises(ValueError, match="checkpoint:"):
        EvalJob(EvalSpec(checkpoint=str(ckpt)))
    (ckpt / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="episodes:"):
        EvalJob(EvalSpec(checkpoint=str(ckpt), episodes=0))
    job = EvalJob(EvalSpec(checkpoint=str(ckpt), episodes=3))
    assert job.mark("success") is False  # nothing is waiting
    with pytest.raises(ValueError, match="outcome:"):
        job.mark("great")
    job._waiting_for = 0
    assert job.mark("partial", "almost") is True and job.waiting_for_mark is None
    assert job.mark("success") is False  # one mark per episode
    job.outcomes += [("success", ""), ("fail", "")]
    s, n, lo, hi = job.tally()
    assert (s, n) == (1, 2) and 0 < lo < 0.5 < hi < 1
