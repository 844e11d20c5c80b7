"""Hostile datasets against every command that opens a dataset: each must refuse with one line that names the
file and field at fault (stdout problem lines for `dataset check`, stderr for the rest), exit non-zero, print no
traceback, and leave every file in and beside the dataset exactly as it was. The corpus is in hostile.py."""

from __future__ import annotations

import shutil

import pytest

from robotapp.cli.main import main

from .hostile import CASES, build, make_base, snapshot


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-bases")
    return make_base(root / "clean"), make_base(root / "with-trash", with_trash=True)


def argv(command: str, ds, world, tmp_path) -> list[str]:
    ds = str(ds)
    return {
        "check": ["dataset", "check", ds],
        "info": ["dataset", "info", ds],
        "delete": ["dataset", "delete", ds, "0"],
        "trim": ["dataset", "trim", ds, "0", "--start", "1"],
        "restore": ["dataset", "restore", ds],
        "merge": ["dataset", "merge", str(world / "merged"), ds],
        "push": ["dataset", "push", ds, "someone/hostile"],
        "record": ["record", "--resume", "--dataset", ds, "--task", "pick", "--episodes", "1", "--demonstrator",
                   "--fast"],
        "train": ["train", "--dataset", ds, "--out", str(tmp_path / "run"), "--steps", "1"],
        "replay": ["replay", "--dataset", ds, "--episode", "0"],
    }[command]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_dataset_is_refused_by_every_command(case, bases, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    world = tmp_path / "world"
    ds = build(case, world, *bases)
    before = snapshot(world)
    for command in case.commands:
        code = main(argv(command, ds, world, tmp_path))
        out, err = capsys.readouterr()
        assert code != 0, f"{command} accepted it: {out}{err}"
        assert "Traceback" not in out + err, f"{command}: {err}"
        if command == "check":
            lines = [line for line in out.splitlines() if all(n in line for n in case.needles)]
            assert lines, f"check did not name {case.needles}: {out}"
        else:
            lines = err.strip().splitlines()
            assert len(lines) == 1, f"{command}: not one line on stderr: {err!r}"
            missing = [n for n in case.needles if n not in lines[0]]
            assert not missing, f"{command}: {missing} not named in {lines[0]!r}"
        assert snapshot(world) == before, f"{command} changed files in or beside the dataset"
    assert (world / "outside" / "victim.txt").read_text() == "must survive"


def test_corpus_is_wide():
    """The issue asks for at least 15 cases covering each kind of hole."""
    names = " ".join(c.name for c in CASES)
    assert len(CASES) >= 15
    for kind in ("data_path", "video_path", "camera key", "episode row", "symlinked", "trash", "journal",
                 "codebase", "fps", "truncated"):
        assert kind in names, kind


PULLED = [c for c in CASES if not c.trash and not any(w in c.name for w in ("journal", "staged", "private"))]


@pytest.mark.parametrize("case", PULLED, ids=[c.name for c in PULLED])
def test_hostile_dataset_from_the_hub_is_refused(case, bases, tmp_path):
    """`dataset pull` checks what arrived (links included) before it calls it a dataset."""
    from robotapp.dataset import DatasetError
    from robotapp.dataset.hub import pull

    from .fake_hub import FakeHubApi

    hub = FakeHubApi(tmp_path / "hub")
    hub.create_repo("someone/hostile", repo_type="dataset")
    ds = build(case, tmp_path / "world", *bases)
    shutil.rmtree(hub._rev("someone/hostile", None))
    shutil.copytree(ds, hub._rev("someone/hostile", None), symlinks=True)
    with pytest.raises(DatasetError) as err:
        pull("someone/hostile", tmp_path / "pulled", api=hub)
    msg = str(err.value)
    assert "\n" not in msg and all(n in msg for n in case.needles if n != "data/chunk-000"), msg


def test_private_folder_never_arrives_from_the_hub(bases, tmp_path):
    """A repo carrying .robotapp/ (a journal that deletes a file beside the dataset) is pulled without it."""
    from robotapp.dataset.hub import pull

    from .fake_hub import FakeHubApi

    case = next(c for c in CASES if c.name == "journal deletes outside")
    hub = FakeHubApi(tmp_path / "hub")
    hub.create_repo("someone/hostile", repo_type="dataset")
    ds = build(case, tmp_path / "world", *bases)
    shutil.rmtree(hub._rev("someone/hostile", None))
    shutil.copytree(ds, hub._rev("someone/hostile", None))
    meta = pull("someone/hostile", tmp_path / "pulled", api=hub)
    assert len(meta.episodes) == 3 and not (tmp_path / "pulled" / ".robotapp").exists()
