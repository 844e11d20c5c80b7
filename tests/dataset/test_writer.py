"""The writer's contract: clear one-line errors on bad input, a never-blocking add_frame whose overflow is counted
(and filled in the video so frames and data rows stay aligned), discard, resume with schema checks, the lock."""

import os
import signal

import numpy as np
import pytest

from robotapp.dataset import DatasetBusyError, DatasetError, DatasetReader, DatasetWriter, build_features
from robotapp.dataset.check import check_dataset
from tests.dataset import synth

CAM = ("front",)


@pytest.fixture
def writer(tmp_path):
    w = DatasetWriter.create(tmp_path / "ds", fps=10, features=synth.features(CAM), robot_type="koch")
    yield w
    w.close()


def test_build_features_shape():
    f = build_features(["a", "b"], {"top": (48, 64)})
    assert f["action"] == {"dtype": "float32", "shape": [2], "names": ["a.pos", "b.pos"]}
    assert f["observation.images.top"]["shape"] == [48, 64, 3]
    assert f["observation.images.top"]["names"] == ["height", "width", "channels"]


@pytest.mark.parametrize("feats, match", [
    ({"observation.state": {"dtype": "float32", "shape": [2]}}, "no 'action'"),
    ({"action": {"dtype": "float32", "shape": [2]}, "observation.images.x": {"dtype": "video", "shape": [48, 64]}},
     "observation.images.x.*height, width, 3"),
    ({"action": {"dtype": "float32", "shape": [2]}, "observation.images.x": {"dtype": "video", "shape": [47, 64, 3]}},
     "even"),
    ({"action": {"dtype": "float32", "shape": [2], "names": ["a"]}}, "1 names for shape"),
    ({"action": {"dtype": "float32", "shape": [2]}, "a/b": {"dtype": "float32", "shape": [1]}}, "'a/b'"),
    ({"action": {"dtype": "float32", "shape": [2]}, "observation.images.x": {"dtype": "image", "shape": [4, 4, 3]}},
     "image"),
])
def test_bad_features_are_named(tmp_path, feats, match):
    with pytest.raises(DatasetError, match=match):
        DatasetWriter.create(tmp_path / "ds", fps=10, features=feats, robot_type="koch")


def test_bad_frames_are_named(writer):
    obs = synth.observation(0, 0, CAM)
    bad_img = dict(obs, **{"observation.images.front": np.zeros((64, 81, 3), np.uint8)})
    with pytest.raises(DatasetError, match=r"camera 'observation.images.front' image is uint8 \(64, 81, 3\)"):
        writer.add_frame(bad_img, synth.action(0, 0), "t")
    with pytest.raises(DatasetError, match="unknown feature 'observation.images.side'"):
        writer.add_frame(dict(obs, **{"observation.images.side": obs["observation.images.front"]}),
                         synth.action(0, 0), "t")
    with pytest.raises(DatasetError, match="missing 'observation.state'"):
        writer.add_frame({"observation.images.front": obs["observation.images.front"]}, synth.action(0, 0), "t")
    with pytest.raises(DatasetError, match=r"'action' has shape \(5,\), expected \(6,\)"):
        writer.add_frame(obs, np.zeros(5, np.float32), "t")
    with pytest.raises(DatasetError, match="task must be a non-empty string"):
        writer.add_frame(obs, synth.action(0, 0), "")
    with pytest.raises(DatasetError, match="no frames"):
        writer.save_episode()
    assert writer.stats.frames_in_episode == 0  # nothing half-added


def test_discard_then_save(writer):
    for i in range(7):
        writer.add_frame(synth.observation(9, i, CAM), synth.action(9, i), "t")
    assert writer.discard_episode() == 7
    synth.record(writer, 0, 6, CAM).wait(30)
    writer.close()
    r = DatasetReader(writer.root)
    assert r.num_episodes == 1 and r.num_frames == 6
    np.testing.assert_array_equal(r.episode_data(0)["action"][0], synth.action(0, 0))
    assert not any((writer.root / ".robotapp" / "staging").iterdir())
    assert check_dataset(writer.root) == []


def test_full_queue_counts_drops_and_never_blocks(tmp_path):
    w = DatasetWriter.create(tmp_path / "ds", fps=10, features=synth.features(CAM), robot_type="koch",
                             queue_frames=3)
    try:
        w._pool.pause()  # a stalled encoder: the 3 slots fill up, then frames are dropped
        for i in range(12):
            w.add_frame(synth.observation(0, i, CAM), synth.action(0, i), "t")  # returns although stalled
        assert w.stats.dropped["observation.images.front"] == 9
        assert w.stats.dropped_in_episode["observation.images.front"] == 9
        assert w.stats.backlog["observation.images.front"] == 3
        res = w.save_episode()
        w._pool.resume()
        assert res.wait(30)
        assert res.dropped_frames == {"observation.images.front": 9}
    finally:
        w.close()
    r = DatasetReader(tmp_path / "ds")
    assert r.num_frames == 12
    frames = r.decode_episode_video(0, "observation.images.front")
    assert len(frames) == 12  # dropped frames repeat the previous image: one video frame per data row
    np.testing.assert_array_equal(frames[5], frames[4])
    assert synth.psnr(frames[2], synth.image(0, 2, "front")) > 30
    assert r.extra(0)["dropped_frames"] == {"observation.images.front": 9}
    assert check_dataset(tmp_path / "ds") == []


def test_resume_checks_and_continues(tmp_path):
    root = synth.make_dataset(tmp_path / "ds", 2, cams=CAM)
    with pytest.raises(DatasetError, match="fps mismatch.*10 fps.*30 fps"):
        DatasetWriter.open(root, fps=30)
    with pytest.raises(DatasetError, match="robot type mismatch.*'koch'.*'so100'"):
        DatasetWriter.open(root, robot_type="so100")
    with pytest.raises(DatasetError, match="feature 'observation.images.wrist' is not in the dataset"):
        DatasetWriter.open(root, features=synth.features(("front", "wrist")))
    with pytest.raises(DatasetError, match=r"'observation.images.front' shape differs: \[64, 80, 3\].*\[32, 80, 3\]"):
        DatasetWriter.open(root, features=synth.features(CAM, h=32))
    with pytest.raises(DatasetError, match="no dataset at"):
        DatasetWriter.open(tmp_path / "missing")
    with pytest.raises(DatasetError, match="exists and is not empty"):
        DatasetWriter.create(root, fps=10, features=synth.features(CAM), robot_type="koch")
    w = DatasetWriter.open(root, fps=10, features=synth.features(CAM), robot_type="koch")
    assert w.num_episodes == 2
    synth.record(w, 2, synth.length(2), CAM).wait(30)
    w.close()
    r = DatasetReader(root)
    assert r.num_episodes == 3
    np.testing.assert_array_equal(r.episode_data(2)["action"][3], synth.action(2, 3))
    assert check_dataset(root) == []


def test_one_writer_at_a_time(writer):
    with pytest.raises(DatasetBusyError, match="in use"):
        DatasetWriter.open(writer.root)
    from robotapp.dataset.trash import delete_episodes

    synth.record(writer, 0, 4, CAM).wait(30)
    with pytest.raises(DatasetBusyError):
        delete_episodes(writer.root, [0])


def test_extra_for_unknown_episode(writer):
    with pytest.raises(DatasetError, match="episode 3 does not exist"):
        writer.write_episode_extra(3, {"x": 1})


def test_close_discards_unsaved_and_rejects_more(writer):
    synth.record(writer, 0, 4, CAM)
    writer.add_frame(synth.observation(1, 0, CAM), synth.action(1, 0), "t")
    writer.close()
    with pytest.raises(DatasetError, match="closed"):
        writer.add_frame(synth.observation(1, 1, CAM), synth.action(1, 1), "t")
    r = DatasetReader(writer.root)
    assert r.num_episodes == 1 and r.num_frames == 4


def test_a_dead_encoder_fails_the_episode_instead_of_hanging(tmp_path):
    w = DatasetWriter.create(tmp_path / "ds", fps=10, features=synth.features(CAM), robot_type="koch")
    for i in range(4):
        w.add_frame(synth.observation(0, i, CAM), synth.action(0, i), "t")
    os.kill(w._pool.pid, signal.SIGKILL)
    res = w.save_episode()
    with pytest.raises(DatasetError, match="episode 0 was not saved: .*encoder process"):
        res.wait(30)
    assert w.errors
    with pytest.raises(DatasetError, match="stopped after an error.*open the dataset again"):
        w.add_frame(synth.observation(1, 0, CAM), synth.action(1, 0), "t")
    w.close()
    assert DatasetReader(tmp_path / "ds").num_episodes == 0
    w = DatasetWriter.open(tmp_path / "ds")  # and the dataset records again
    synth.record(w, 0, 4, CAM).wait(30)
    w.close()
    assert check_dataset(tmp_path / "ds") == []


def test_dataset_without_cameras(tmp_path):
    w = DatasetWriter.create(tmp_path / "ds", fps=10, features=build_features(synth.JOINTS, []), robot_type="koch")
    for ep in range(2):
        for i in range(5):
            w.add_frame({"observation.state": synth.state(ep, i)}, synth.action(ep, i), "t")
        w.save_episode().wait(30)
    w.close()
    r = DatasetReader(tmp_path / "ds")
    assert r.num_episodes == 2 and r.video_keys == []
    np.testing.assert_array_equal(r.frame(7)["action"], synth.action(1, 2))
    assert check_dataset(tmp_path / "ds") == []


# -- a first recording that saved nothing leaves nothing in the way (issue 19) -----------------------------------
def new_writer(root, **kw):
    return DatasetWriter.create(root, fps=10, features=synth.features(CAM), robot_type="koch", **kw)


def add_frames(w, n=5):
    for i in range(n):
        w.add_frame(synth.observation(0, i, CAM), synth.action(0, i), "t")


def test_a_writer_that_saved_nothing_removes_the_folders_it_made(tmp_path):
    root = tmp_path / "made" / "ds"  # its parent is made too
    w = new_writer(root, remove_if_unused=True)
    add_frames(w)
    assert w.discard_episode() == 5
    add_frames(w, 3)  # an episode in progress when the recording failed
    w.close()
    assert w.removed and not (tmp_path / "made").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_writer_that_saved_an_episode_keeps_it(tmp_path):
    root = tmp_path / "ds"
    w = new_writer(root, remove_if_unused=True)
    synth.record(w, 0, 4, CAM).wait(30)
    add_frames(w)
    w.close()
    assert not w.removed
    with DatasetReader(root) as r:
        assert r.num_episodes == 1
    assert check_dataset(root) == []


def test_a_folder_that_was_there_empty_is_left_empty(tmp_path):
    root = tmp_path / "ds"
    root.mkdir()
    w = new_writer(root, remove_if_unused=True)
    add_frames(w)
    w.close()
    assert w.removed and root.is_dir() and list(root.iterdir()) == []


def test_nothing_but_its_own_files_is_removed(tmp_path):
    root = tmp_path / "made" / "ds"
    w = new_writer(root, remove_if_unused=True)
    (tmp_path / "made" / "notes.txt").write_text("mine")  # the parent it made got someone else's file
    add_frames(w)
    w.close()
    assert w.removed and not root.exists()
    assert [p.name for p in (tmp_path / "made").iterdir()] == ["notes.txt"]

    w = new_writer(root, remove_if_unused=True)
    (root / "notes.txt").write_text("mine")  # and now a file inside the dataset's folder: it is not unused
    w.close()
    assert not w.removed and (root / "notes.txt").read_text() == "mine" and (root / "meta" / "info.json").is_file()


def test_an_empty_dataset_asked_for_is_kept(tmp_path):
    w = new_writer(tmp_path / "ds")  # remove_if_unused is off by default: an empty dataset made on purpose
    w.close()
    assert not w.removed and (tmp_path / "ds" / "meta" / "info.json").is_file()
    with DatasetReader(tmp_path / "ds") as r:
        assert r.num_episodes == 0


def test_an_unused_dataset_is_replaced_only_when_asked(tmp_path):
    root = tmp_path / "ds"
    new_writer(root).close()  # an unused dataset, with other features than the next recording's
    with pytest.raises(DatasetError, match="exists and is not empty"):
        new_writer(root)
    w = DatasetWriter.create(root, fps=30, features=synth.features(("front", "wrist")), robot_type="koch",
                             replace_unused=True)
    with pytest.raises(DatasetBusyError):  # a recording into it (no episode saved yet) is never replaced
        new_writer(root, replace_unused=True)
    synth.record(w, 0, 4, ("front", "wrist")).wait(30)
    w.close()
    with DatasetReader(root) as r:
        assert r.num_episodes == 1 and r.fps == 30
    with pytest.raises(DatasetError, match="exists and is not empty"):  # one with an episode is not unused
        new_writer(root, replace_unused=True)


def test_a_dataset_named_as_earlier_versions_named_the_koch_takes_more_episodes(tmp_path):
    # earlier versions wrote the profile's name; the Koch's profile now says lerobot's koch_follower
    root = synth.make_dataset(tmp_path / "ds", 1, cams=CAM, robot_type="koch-v1.1-follower")
    DatasetWriter.open(root, robot_type="koch_follower").close()
    with DatasetReader(root) as r:
        assert r.robot_type == "koch-v1.1-follower"  # the dataset keeps its own name
    with pytest.raises(DatasetError, match="robot type mismatch.*'koch-v1.1-follower'.*'so101_follower'"):
        DatasetWriter.open(root, robot_type="so101_follower")
