"""The argument corpus (issue 17, section 3): every count, time, rate and size option of every command, and the
files a command reads, refused where they come in. Each bad invocation exits non-zero with one line on stderr that
names the option, file or field, no traceback, before anything starts, and leaves the files it was given as they
were."""

import json

import pytest

from robotapp.cli.main import main
from robotapp.cli.train_worker import main as train_main
from robotapp.services.record_request import dataset_folder_problem

T = ["--dataset", "ds", "--out", "run"]  # train's required arguments
R = ["--dataset", "ds", "--task", "pick"]  # record's

OPTION_CASES = [
    # gui / emulate
    (["gui", "--quit-after", "0"], "argument --quit-after: must be a number more than 0, got 0"),
    (["gui", "--quit-after", "nan"], "argument --quit-after: must be a number more than 0, got nan"),
    (["emulate", "--baud", "12345"], "argument --baud: 12345 is not a Dynamixel baud rate"),
    (["emulate", "--baud", "0"], "argument --baud: must be a positive whole number, got 0"),
    (["emulate", "--baud", "fast"], "argument --baud: must be a positive whole number, got 'fast'"),
    (["emulate", "--motors", "300:xl330-m077"], "argument --motors: motor id 300 is outside 0..252"),
    (["emulate", "--faults", "corrupt_crc=abc"], "argument --faults: bad fault setting 'corrupt_crc=abc': 'abc' is not"),
    (["emulate", "--faults", "lost_reply=2"], "argument --faults: bad fault setting 'lost_reply=2': lost_reply is a "
                                              "probability, within 0..1"),
    (["emulate", "--faults", "crc=0.1"], "argument --faults: bad fault setting 'crc=0.1': unknown key 'crc'"),
    # teleop
    (["teleop", "--fps", "0"], "argument --fps: must be a positive whole number, got 0"),
    (["teleop", "--fps", "1.5"], "argument --fps: must be a positive whole number, got '1.5'"),
    (["teleop", "--hz", "0"], "argument --hz: must be a number more than 0, got 0"),
    (["teleop", "--hz", "-30"], "argument --hz: must be a number more than 0, got -30"),
    (["teleop", "--hz", "inf"], "argument --hz: must be a number more than 0, got inf"),
    (["teleop", "--seconds", "0"], "argument --seconds: must be a number more than 0, got 0"),
    (["teleop", "--seconds", "-5"], "argument --seconds: must be a number more than 0, got -5"),
    (["teleop", "--hz", "45"], "robotapp teleop: --hz 45 must be a whole multiple of --fps 30"),
    # record
    (["record", *R, "--episodes", "0"], "argument --episodes: must be a positive whole number, got 0"),
    (["record", *R, "--episodes", "-1"], "argument --episodes: must be a positive whole number, got -1"),
    (["record", *R, "--episode-time", "0"], "argument --episode-time: must be a number more than 0, got 0"),
    (["record", *R, "--episode-time", "nan"], "argument --episode-time: must be a number more than 0, got nan"),
    (["record", *R, "--reset-time", "-1"], "argument --reset-time: must be a number, 0 or more, got -1"),
    (["record", *R, "--warmup-time", "-0.5"], "argument --warmup-time: must be a number, 0 or more, got -0.5"),
    (["record", *R, "--warmup-time", "inf"], "argument --warmup-time: must be a number, 0 or more, got inf"),
    (["record", *R, "--seed", "-1"], "argument --seed: must be a whole number from 0 to 4294967295, got -1"),
    (["record", *R, "--fps", "0"], "argument --fps: must be a positive whole number, got 0"),
    (["record", *R, "--hz", "0"], "argument --hz: must be a number more than 0, got 0"),
    (["record", *R, "--fps", "30", "--hz", "50"], "robotapp record: --hz 50 must be a whole multiple of --fps 30"),
    (["record", "--dataset", "ds", "--task", " "], "robotapp record: --task: empty: say what the episodes show"),
    (["record", *R, "--demonstrator", "--rig", "desk"], "robotapp record: --demonstrator: drives the virtual leader: "
                                                        "it needs --rig virtual"),
    (["record", *R, "--fast"], "robotapp record: --fast: records faster than real time: only the --demonstrator can "
                               "keep up"),
    # replay
    (["replay", "--dataset", "ds", "--episode", "-1"], "argument --episode: must be a whole number, 0 or more"),
    (["replay", "--dataset", "ds", "--episode", "0", "--hz", "0"], "argument --hz: must be a number more than 0"),
    # eval
    (["eval", "--policy", "p", "--episodes", "0"], "argument --episodes: must be a positive whole number, got 0"),
    (["eval", "--policy", "p", "--seed", "-3"], "argument --seed: must be a whole number from 0 to"),
    (["eval", "--policy", "p", "--episode-time", "0"], "argument --episode-time: must be a number more than 0"),
    (["eval", "--policy", "p", "--fps", "0"], "argument --fps: must be a positive whole number, got 0"),
    # demo
    (["demo", "--episodes", "0"], "argument --episodes: must be a positive whole number, got 0"),
    (["demo", "--steps", "0"], "argument --steps: must be a positive whole number, got 0"),
    (["demo", "--batch-size", "0"], "argument --batch-size: must be a positive whole number, got 0"),
    (["demo", "--minutes", "0"], "argument --minutes: must be a number more than 0, got 0"),
    (["demo", "--minutes", "-1"], "argument --minutes: must be a number more than 0, got -1"),
    (["demo", "--eval-episodes", "0"], "argument --eval-episodes: must be a positive whole number, got 0"),
    (["demo", "--procs", "0"], "argument --procs: must be a positive whole number, got 0"),
    # sim demo
    (["sim", "demo", "--episodes", "0"], "argument --episodes: must be a positive whole number, got 0"),
    (["sim", "demo", "--seed", "-1"], "argument --seed: must be a whole number from 0 to 4294967295, got -1"),
    # train
    (["train", *T, "--steps", "0"], "argument --steps: must be a positive whole number, got 0"),
    (["train", *T, "--steps", "-1"], "argument --steps: must be a positive whole number, got -1"),
    (["train", *T, "--steps", "1e3"], "argument --steps: must be a positive whole number, got '1e3'"),
    (["train", *T, "--batch-size", "0"], "argument --batch-size: must be a positive whole number, got 0"),
    (["train", *T, "--save-every", "-1"], "argument --save-every: must be a whole number, 0 or more, got -1"),
    (["train", *T, "--log-every", "0"], "argument --log-every: must be a positive whole number, got 0"),
    (["train", *T, "--seed", "-1"], "argument --seed: must be a whole number from 0 to 4294967295, got -1"),
    (["train", *T, "--seed", str(2**32)], "argument --seed: must be a whole number from 0 to 4294967295"),
    (["train", *T, "--num-threads", "0"], "argument --num-threads: must be a positive whole number, got 0"),
    (["train", *T, "--procs", "0"], "argument --procs: must be a positive whole number, got 0"),
    (["train", *T, "--minutes", "0"], "argument --minutes: must be a number more than 0, got 0"),
    (["train", *T, "--minutes", "inf"], "argument --minutes: must be a number more than 0, got inf"),
    (["train", *T, "--image-size", "0x96"], "argument --image-size: height and width must be positive"),
    (["train", *T, "--episodes", "0,-2"], "argument --episodes: -2 is negative"),
    (["train", *T, "--episodes", "0,a"], "argument --episodes: expected comma-separated whole numbers"),
    # dataset edits
    (["dataset", "delete", "ds", "-1"], "argument EPISODE: must be a whole number, 0 or more, got -1"),
    (["dataset", "trim", "ds", "-1"], "argument episode: must be a whole number, 0 or more, got -1"),
    (["dataset", "trim", "ds", "0", "--start", "-1"], "argument --start: must be a whole number, 0 or more"),
    (["dataset", "trim", "ds", "0", "--end", "x"], "argument --end: must be a whole number, 0 or more, got 'x'"),
]


def _refused(capsys, code: int, message: str) -> str:
    out, err = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in out + err and out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err  # exactly one line
    assert message in err, err
    return err


@pytest.mark.parametrize("argv,message", OPTION_CASES, ids=[" ".join(a) for a, _ in OPTION_CASES])
def test_a_bad_value_is_refused_in_one_line_naming_the_option(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)  # relative paths in the corpus ("ds", "run") land here, and must not appear
    err = _refused(capsys, main(argv), message)
    assert err.startswith(f"robotapp {argv[0]}")
    assert list(tmp_path.iterdir()) == []


def test_the_training_worker_refuses_the_same_way(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        train_main([*T, "--steps", "0"])
    _refused(capsys, e.value.code, "robotapp.cli.train_worker: error: argument --steps: must be a positive whole number, got 0")
    assert list(tmp_path.iterdir()) == []


def _snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


@pytest.fixture
def busy(tmp_path):
    """A folder that holds someone's files but no dataset."""
    folder = tmp_path / "busy"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "todo.txt").write_text("buy cubes\n")
    return folder


def test_record_resume_into_a_folder_without_a_dataset_says_what_to_do(busy, capsys):
    before = _snapshot(busy)
    err = _refused(capsys, main(["record", "--dataset", str(busy), "--task", "pick", "--resume"]),
                   f"robotapp record: --dataset: no dataset at {busy} to add episodes to")
    assert "leave out --resume and choose a new or empty folder" in err
    err = _refused(capsys, main(["record", "--dataset", str(busy), "--task", "pick"]),
                   f"robotapp record: --dataset: {busy} already holds files but no dataset")
    assert "--resume" not in err  # resuming cannot help here, so it is not offered
    assert _snapshot(busy) == before
    # the advice, followed, is accepted: a new folder without --resume; and --resume into an empty one is not
    assert dataset_folder_problem(busy.parent / "new", False, add="+", new="-") is None
    assert "leave out --resume to start a new one there" in dataset_folder_problem(
        busy.parent / "new", True, add="add --resume", new="leave out --resume")


def test_record_into_a_dataset_without_resume_offers_resume(tmp_path):
    ds = tmp_path / "ds"
    (ds / "meta").mkdir(parents=True)
    (ds / "meta" / "info.json").write_text("{}")
    problem = dataset_folder_problem(ds, False, add="add --resume", new="leave out --resume")
    assert "add --resume to add episodes to it" in problem
    assert dataset_folder_problem(ds, True, add="add --resume", new="leave out --resume") is None


PROFILE = {"name": "mine", "role": "follower", "baudrate": 1_000_000,
           "motors": {"base": {"id": 1, "model": "xl430-w250"}, "tip": {"id": 2, "model": "xl330-m288"}}}


@pytest.mark.parametrize("change,message", [
    ({"baudrate": "fast"}, "baudrate must be int, got 'fast'"),
    ({"baudrate": 4_500_000}, "baudrate: baud rate 4500000 is not supported by xl330-m288"),
    ({"motors": {"base": {"id": 300, "model": "xl430-w250"}}}, "motors.base.id: 300 is outside 0..252"),
])
@pytest.mark.parametrize("command", [["setup-motors", "--port", "/dev/null"], ["calibrate", "--port", "/dev/null"]])
def test_a_bad_profile_file_is_refused_naming_file_and_field(tmp_path, capsys, command, change, message):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({**PROFILE, **change}))
    before = path.read_bytes()
    _refused(capsys, main([*command, "--profile", str(path)]), f"robotapp {command[0]}: {path}: {message}")
    assert path.read_bytes() == before


@pytest.mark.parametrize("field,value,message", [
    ("homing_offset", 2_000_000, "elbow_flex.homing_offset is 2000000, outside -1044479..1044479"),
    ("range_max", 4096, "elbow_flex.range_max is 4096, outside 0..4095"),
    ("range_min", "12", "elbow_flex.range_min must be an integer, got '12'"),
])
def test_a_bad_calibration_file_is_refused_when_loaded_naming_file_and_field(tmp_path, monkeypatch, capsys, field,
                                                                            value, message):
    from hardware.arms import load_profile

    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path))
    cal = {j.name: {"id": j.id, "drive_mode": 0, "homing_offset": 0, "range_min": 1000, "range_max": 3000}
           for j in load_profile("koch-v1.1-follower").joints}
    cal["elbow_flex"][field] = value
    path = tmp_path / "calibration" / "virtual-follower.json"
    path.parent.mkdir()
    path.write_text(json.dumps(cal))
    before = _snapshot(tmp_path)
    _refused(capsys, main(["doctor", "--rig", "virtual"]), f"robotapp doctor: {path}: {message}")
    assert _snapshot(tmp_path) == before


def test_record_resume_at_another_fps_is_refused_before_the_rig_starts(tmp_path, capsys, monkeypatch):
    from tests.dataset.hostile import make_base, snapshot

    ds = make_base(tmp_path / "ds")  # recorded at 10 fps
    before = snapshot(tmp_path)
    monkeypatch.setattr("robotapp.terminal.session_commands._open", lambda *a, **k: pytest.fail("the rig was opened"))
    err = _refused(capsys, main(["record", "--dataset", str(ds), "--task", "pick", "--resume", "--fps", "30"]),
                   "fps mismatch")
    assert "--fps 30" in err and "10 fps" in err
    assert snapshot(tmp_path) == before
