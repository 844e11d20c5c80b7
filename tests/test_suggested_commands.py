"""Commands the setup flows tell a user to run work as printed: each parses with the real `robotapp` parser and
names the same rig (or port and profile) the flow used; on the virtual rig the doctor's suggestion, run as
printed, fixes what it found."""

import re
import shlex

import pytest

from robotapp.cli.main import build_parser, main
from robotapp.setup.flows import calibrate_command


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path / "home"))  # no calibration files yet
    return tmp_path / "home"


def parse(command: str):
    words = shlex.split(command)
    assert words[0] == "robotapp", command
    try:
        return build_parser().parse_args(words[1:])
    except SystemExit as e:
        pytest.fail(f"`{command}` does not parse (exit {e.code})")


@pytest.mark.parametrize("kwargs,expected", [
    (dict(role="leader"), dict(rig="virtual", arm="leader", auto=True, port=None)),
    (dict(role="follower", rig="lab bench"), dict(rig="lab bench", arm="follower", auto=False, port=None)),
    (dict(role="follower", port="/dev/tty USB0", profile="my arm.json"),
     dict(arm="follower", auto=False, port="/dev/tty USB0", profile="my arm.json")),
])
def test_calibrate_command_parses_to_the_same_arm(kwargs, expected):
    args = parse(calibrate_command(**kwargs))
    assert args.command == "calibrate"
    assert {k: getattr(args, k) for k in expected} == expected


def test_the_doctors_suggestion_works_as_printed(capsys):
    assert main(["doctor", "--rig", "virtual"]) == 1
    out = capsys.readouterr().out
    suggested = re.findall(r"`(robotapp [^`]+)`", out)
    assert suggested == ["robotapp calibrate --rig virtual --arm leader --auto",
                         "robotapp calibrate --rig virtual --arm follower --auto"], out
    for command in suggested:
        parse(command)
        assert main(shlex.split(command)[1:]) == 0
    capsys.readouterr()
    assert main(["doctor", "--rig", "virtual"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "doctor: no problems found"
