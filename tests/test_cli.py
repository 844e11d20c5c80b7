"""The command line as a user meets it: one-line errors with exit code 2, and the GUI smoke flag."""

import os
import subprocess
import sys

import pytest

from robotapp.cli.main import main


@pytest.mark.parametrize("argv,message", [
    (["emulate", "--motors", "1:xl999"], "robotapp emulate: error: argument --motors: unknown motor model 'xl999'"),
    (["emulate", "--baud", "4500000", "--motors", "1:xl330-m077"],
     "baud rate 4500000 is not supported by xl330-m077"),
    (["emulate", "--faults", "lost=2"], "bad fault setting 'lost=2'"),
])
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_gui_opens_and_quits_on_the_virtual_rig():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-m", "robotapp", "gui", "--quit-after", "0.5"], capture_output=True,
                         text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    assert "window closed after showing" in run.stdout
