"""Issue 19: a first recording that fails, or is killed, before its first episode is saved leaves nothing that
blocks the next try: the same `robotapp record` command (no --resume) is accepted again and records."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from robotapp.cli.main import main
from robotapp.core.scenes import DemonstratorScene
from robotapp.dataset import DatasetReader
from robotapp.dataset.unused import is_unused_dataset

REPO = Path(__file__).resolve().parents[2]


def record_args(ds: Path, episode_time: str = "2") -> list[str]:
    return ["record", "--rig", "virtual", "--demonstrator", "--fast", "--dataset", str(ds), "--task", "pick",
            "--episodes", "1", "--episode-time", episode_time, "--reset-time", "0", "--warmup-time", "0"]


def assert_one_episode(ds: Path) -> None:
    with DatasetReader(ds) as r:
        assert r.num_episodes == 1 and r.tasks == ["pick"]


@pytest.mark.parametrize("folder_there", [False, True])
def test_a_failed_first_recording_leaves_a_folder_that_the_same_command_accepts_again(tmp_path, monkeypatch,
                                                                                      capsys, folder_there):
    ds = tmp_path / "D"
    if folder_there:
        ds.mkdir()

    def broken(self, episode_number):
        raise RuntimeError("the scene could not be set up")
    monkeypatch.setattr(DemonstratorScene, "prepare", broken)  # the recording faults before its first episode
    assert main(record_args(ds)) == 1
    out = capsys.readouterr().out
    assert "the scene could not be set up" in out and "saved 0 episode(s)" in out
    assert "the empty dataset this recording created is removed" in out
    if folder_there:  # only what the recording put there is gone
        assert ds.is_dir() and list(ds.iterdir()) == []
    else:
        assert not ds.exists()

    monkeypatch.undo()
    assert main(record_args(ds)) == 0, capsys.readouterr()
    assert "saved 1 episode(s)" in capsys.readouterr().out
    assert_one_episode(ds)


def test_a_first_recording_killed_during_its_first_episode_blocks_nothing(tmp_path, capsys):
    ds = tmp_path / "D"
    args = record_args(ds, episode_time="600")  # the episode cannot end before the kill lands
    proc = subprocess.Popen([sys.executable, "-m", "robotapp", *args], cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("recording episode 0"):
                break
        proc.kill()  # kill -9 while the first episode is recorded
    finally:
        proc.kill()
        proc.wait(60)
        proc.stdout.close()
    assert seen and seen[-1].startswith("recording episode 0"), "".join(seen)
    assert proc.returncode == -9
    assert is_unused_dataset(ds)  # what it left: a dataset without an episode

    assert main(record_args(ds)) == 0, capsys.readouterr()  # the same command, no --resume
    assert "saved 1 episode(s)" in capsys.readouterr().out
    assert_one_episode(ds)
