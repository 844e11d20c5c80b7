"""Crash recovery at each precise point of an episode's life (the recorder kills itself with SIGKILL there):
earlier episodes stay readable before any recovery, and the next open recovers or discards the interrupted
episode with a note; an interrupted edit is finished."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robotapp.dataset import DatasetError, DatasetReader, DatasetWriter
from robotapp.dataset.check import check_dataset
from robotapp.dataset.trash import list_trash
from robotapp.dataset.unused import is_unused_dataset
from robotapp.services.record_request import dataset_folder_problem
from tests.dataset import synth

REPO = Path(__file__).resolve().parents[2]


def run_worker(root: Path, mode: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "tests.dataset.crash_worker", str(root), mode], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, f"worker was not killed (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return proc.stdout.splitlines()


def assert_episodes(r: DatasetReader, eps: list[int]) -> None:
    assert r.num_episodes == len(eps)
    for new, old in enumerate(eps):
        d = r.episode_data(new)
        n = synth.length(old, 6)
        assert len(d["action"]) == n
        np.testing.assert_array_equal(d["action"], np.stack([synth.action(old, i) for i in range(n)]))
        assert len(r.decode_episode_video(new, "observation.images.wrist")) == n


@pytest.mark.parametrize("mode, episodes_after, note", [
    ("recording", 2, "discarded an unfinished episode"),
    ("flushing", 2, "was being saved when the recorder stopped"),
    ("staged", 3, "recovered episode 2"),
    ("apply:1", 3, "finished an interrupted change"),
    ("apply:4", 3, "finished an interrupted change"),
    ("apply:7", 3, "finished an interrupted change"),
])
def test_kill_during_an_episode(tmp_path, mode, episodes_after, note):
    root = tmp_path / "ds"
    out = run_worker(root, mode)
    assert out[:2] == ["durable 0", "durable 1"]
    raw = DatasetReader(root, recover_if_needed=False)  # what lerobot would see now, before any recovery
    assert raw.num_episodes >= 2
    assert_episodes(raw, list(range(raw.num_episodes)))
    r = DatasetReader(root)
    assert any(note in n for n in r.recovery_notes), r.recovery_notes
    assert_episodes(r, list(range(episodes_after)))
    assert check_dataset(root) == []


@pytest.mark.parametrize("ops", [1, 3, 8])
def test_kill_during_a_delete(tmp_path, ops):
    root = tmp_path / "ds"
    run_worker(root, f"edit:{ops}")
    r = DatasetReader(root)
    assert any("finished an interrupted change" in n for n in r.recovery_notes)
    assert_episodes(r, [0, 2])
    assert [e.original_index for e in list_trash(root)] == [1]
    assert check_dataset(root) == []


@pytest.mark.parametrize("mode, unused", [("recording@new", True), ("flushing@new", True), ("staged@new", False)])
def test_a_first_recording_killed_before_its_episode_is_saved_blocks_nothing(tmp_path, mode, unused):
    """kill -9 during the first episode of a new dataset: the folder counts as empty (a new recording is accepted
    there without --resume, and replaces it); but not once that episode was staged (recovery would save it)."""
    root = tmp_path / "ds"
    assert run_worker(root, mode) == []
    assert is_unused_dataset(root) == unused
    problem = dataset_folder_problem(root, False, add="add --resume", new="leave out --resume")
    assert dataset_folder_problem(root, True, add="add --resume", new="leave out --resume") is None
    if not unused:
        assert "already holds files of a dataset: add --resume" in problem
        with pytest.raises(DatasetError, match="exists and is not empty"):
            DatasetWriter.create(root, fps=10, features=synth.features(), robot_type="koch", replace_unused=True)
        assert DatasetReader(root).num_episodes == 1  # recovered
        return
    assert problem is None
    w = DatasetWriter.create(root, fps=10, features=synth.features(), robot_type="koch", replace_unused=True)
    assert w.recovery_notes == [] and not (root / ".robotapp" / "staging").exists()  # the dead episode is gone
    synth.record(w, 0, synth.length(0, 6), ("front", "wrist")).wait(60)
    w.close()
    assert_episodes(DatasetReader(root), [0])
    assert check_dataset(root) == []
