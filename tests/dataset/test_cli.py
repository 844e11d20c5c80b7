"""`robotapp dataset ...` commands through argparse, as robotapp/cli/main.py wires them."""

import argparse

import pytest

from robotapp.cli.cmd_dataset import main as dataset_main
from robotapp.cli.cmd_dataset import register
from tests.dataset import synth


def run(argv):
    parser = argparse.ArgumentParser(prog="robotapp")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def ds(tmp_path):
    return synth.make_dataset(tmp_path / "ds", 3)


def test_check_info_and_edits(ds, tmp_path, capsys):
    assert run(["dataset", "check", str(ds)]) == 0
    assert run(["dataset", "info", str(ds), "--episodes"]) == 0
    out = capsys.readouterr().out
    assert "3 episodes" in out and "observation.images.front: video [64, 80, 3] av1" in out and "episode 2:" in out
    assert run(["dataset", "delete", str(ds), "1"]) == 0
    tid = capsys.readouterr().out.split(" as ")[1].split()[0]
    assert run(["dataset", "trash", str(ds)]) == 0
    assert "was episode 1" in capsys.readouterr().out
    assert run(["dataset", "restore", str(ds), tid]) == 0
    assert "as episode(s) 2" in capsys.readouterr().out
    assert run(["dataset", "trim", str(ds), "0", "--start", "2"]) == 0
    assert run(["dataset", "merge", str(tmp_path / "m"), str(ds), str(ds)]) == 0
    assert "6 episodes" in capsys.readouterr().out
    assert run(["dataset", "recover", str(ds)]) == 0
    assert run(["dataset", "check", str(tmp_path / "m"), "--quick"]) == 0
    (ds / "meta/stats.json").unlink()
    assert run(["dataset", "check", str(ds)]) == 1
    assert "stats-missing:" in capsys.readouterr().out


def test_errors_are_one_line_exit_2(ds, tmp_path, capsys):
    assert dataset_main(["trim", str(ds), "9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "episode 9 does not exist" in err
    assert dataset_main(["info", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert dataset_main(["purge", str(ds)]) == 2
    assert dataset_main([]) == 2
