"""Must show: `robotapp dataset check` catches many kinds of corruption, each named in its message, and exits 0
only on a clean dataset."""

import io
import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from robotapp.dataset.check import check_dataset, main, run_check
from robotapp.dataset.datafile import data_table, read_data, table_bytes
from robotapp.dataset.meta import load_meta
from robotapp.dataset.video import VideoFileWriter, VideoSettings
from tests.dataset import synth


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return synth.make_dataset(tmp_path_factory.mktemp("check") / "clean", 3)


def data_file(root, ep):
    m = load_meta(root)
    return m.data_path(m.episodes[ep])


def video_file(root, ep, cam="front"):
    m = load_meta(root)
    return m.video_path(m.episodes[ep], f"observation.images.{cam}")


def edit_data(root, ep, fn):
    path = data_file(root, ep)
    feats = load_meta(root).features
    arrays = {k: v.copy() for k, v in read_data(path, feats).items()}
    fn(arrays)
    path.write_bytes(table_bytes(data_table(arrays, feats)))


def edit_episodes(root, fn):
    path = root / "meta/episodes/chunk-000/file-000.parquet"
    rows = pq.read_table(path).to_pylist()
    fn(rows)
    pq.write_table(pa.Table.from_pylist(rows), path)


def edit_json(root, rel, fn):
    path = root / rel
    obj = json.loads(path.read_text())
    fn(obj)
    path.write_text(json.dumps(obj))


def write_video(path, frames, h=64, w=80):
    path.unlink()
    v = VideoFileWriter(path, 10, h, w, VideoSettings())
    for i in range(frames):
        v.write(synth.image(0, i, "front", h, w))
    v.close()


def drop_last_row(a):
    for k in a:
        a[k] = a[k][:-1]


def set_(key, i, value):
    def f(a):
        a[key][i] = value
    return f


def move_episode0_data_last(root):
    old = data_file(root, 0)
    old.rename(old.with_name("file-009.parquet"))

    def f(rows):
        rows[0]["data/file_index"] = 9
    edit_episodes(root, f)


CORRUPTIONS = {
    "info-missing": (lambda r: (r / "meta/info.json").unlink(), "meta/info.json"),
    "info-invalid": (lambda r: (r / "meta/info.json").write_text("{ not json"), "not valid JSON"),
    "features-invalid": (lambda r: edit_json(r, "meta/info.json", lambda o: o["features"][
        "observation.images.front"].update(shape=[64, 80])), "observation.images.front"),
    "episode-count": (lambda r: edit_json(r, "meta/info.json", lambda o: o.update(total_frames=o["total_frames"] + 5)),
                      "total_frames"),
    "episodes-unreadable": (lambda r: (r / "meta/episodes/chunk-000/file-000.parquet").write_bytes(b"PAR1junk"),
                            "meta/episodes"),
    "episode-range": (lambda r: edit_episodes(r, lambda rows: rows[1].update(dataset_to_index=rows[1][
        "dataset_to_index"] + 2)), "episode 1"),
    "data-missing": (lambda r: data_file(r, 2).unlink(), "episode 2"),
    "data-unreadable": (lambda r: data_file(r, 1).write_bytes(data_file(r, 1).read_bytes()[:-100]), "file-001.parquet"),
    "data-rows": (lambda r: edit_data(r, 1, drop_last_row), "episode 1"),
    "index": (lambda r: edit_data(r, 2, lambda a: a.__setitem__("index", a["index"] + 1)), "episode 2"),
    "frame-index": (lambda r: edit_data(r, 0, set_("frame_index", 4, 40)), "episode 0"),
    "timestamps": (lambda r: edit_data(r, 0, set_("timestamp", 3, 0.35)), "frame 3"),
    "task-index": (lambda r: edit_data(r, 0, set_("task_index", 2, 7)), "task_index 7"),
    "values": (lambda r: edit_data(r, 1, set_("action", 0, np.nan)), "'action'"),
    "video-missing": (lambda r: video_file(r, 1, "wrist").unlink(), "episode 1"),
    "video-unreadable": (lambda r: video_file(r, 2).write_bytes(b"\x00" * 5000), "file-002.mp4"),
    "video-frames": (lambda r: write_video(video_file(r, 0), synth.length(0) - 2), "episode 0"),
    "video-window": (lambda r: edit_episodes(r, lambda rows: rows[2].update(
        {"videos/observation.images.front/to_timestamp": 9.0})), "episode 2"),
    "video-shape": (lambda r: write_video(video_file(r, 1), synth.length(1), 32, 40), "32x40"),
    "stats-missing": (lambda r: (r / "meta/stats.json").unlink(), "meta/stats.json"),
    "stats-shape": (lambda r: edit_json(r, "meta/stats.json", lambda o: o["action"].update(mean=[0.0])), "'action'"),
    "stats-stale": (lambda r: edit_json(r, "meta/stats.json", lambda o: o["index"].update(count=[3])), "count"),
    "orphan-file": (lambda r: shutil.copy(data_file(r, 0), data_file(r, 0).with_name("file-042.parquet")),
                    "file-042.parquet"),
    "file-order": (move_episode0_data_last, "episode order"),
    "tasks-missing": (lambda r: (r / "meta/tasks.parquet").unlink(), "meta/tasks.parquet"),
    "pending-recovery": (lambda r: (r / ".robotapp/staging/000003-x").mkdir(parents=True), "recover"),
}


def test_clean_dataset_passes(clean, capsys):
    assert check_dataset(clean) == []
    assert main([str(clean)]) == 0
    assert "clean" in capsys.readouterr().out


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corruption_is_named(clean, tmp_path, kind):
    root = tmp_path / "ds"
    shutil.copytree(clean, root)
    corrupt, where = CORRUPTIONS[kind]
    corrupt(root)
    problems = check_dataset(root)
    hits = [p for p in problems if p.kind == kind]
    assert hits, f"{kind} not reported; got {[str(p) for p in problems]}"
    assert any(where in str(p) for p in hits), [str(p) for p in hits]
    assert all(str(p).count("\n") == 0 for p in problems)
    out = io.StringIO()
    assert run_check(root, out=out) == 1
    assert f"{kind}:" in out.getvalue()


def test_enough_kinds():
    assert len(CORRUPTIONS) >= 8


def test_empty_dataset_is_clean(tmp_path):
    from robotapp.dataset import DatasetWriter

    DatasetWriter.create(tmp_path / "empty", fps=10, features=synth.features(), robot_type="koch").close()
    assert check_dataset(tmp_path / "empty") == []
