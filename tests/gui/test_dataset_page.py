"""Dataset page: open a dataset (episodes with length, task, telemetry and flags), play an episode (videos,
joints, scrubber), trim, delete -> trash -> restore, merge, validate, create, Hub errors in one line, bad input
by field. Datasets are written with the real writer (tiny h264 episodes)."""

import pytest

from robotapp.dataset import DatasetReader, DatasetWriter, build_features
from robotapp.dataset.check import check_dataset
from robotapp.gui.common import table_texts
from robotapp.gui.dataset_rows import COLUMNS, TAKEN_OVER
from tests.policies.helpers import make_episodes

from .conftest import make_window

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
TIMEOUT_MS = 30_000


def write(root, n=3, flagged=(1,)):
    eps = make_episodes(n, length=20, hw=(48, 64), cams=("front", "wrist"))
    w = DatasetWriter.create(root, fps=30, features=build_features(JOINTS, [("front", 48, 64), ("wrist", 48, 64)]),
                             robot_type="koch_follower", codec="h264", fsync=False)
    for i, ep in enumerate(eps):
        for k in range(20):
            w.add_frame({key: v[k] for key, v in ep.items() if key != "action"}, ep["action"][k], "pick the cube")
        tel = {"loop_hz": 99.5, "camera_dropped": {"front": 2 if i in flagged else 0},
               "flags": ["camera 'front' dropped 2 frames"] if i in flagged else []}
        w.save_episode(extra={"telemetry": tel}).wait()
    w.close()
    return root


@pytest.fixture
def page_window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    w.tabs.setCurrentWidget(w.dataset_page)
    yield w
    w.close()


def open_ds(qtbot, page, root):
    page.path.setText(str(root))
    page.open_button.click()
    qtbot.waitUntil(lambda: not page.busy and page.reader is not None, timeout=TIMEOUT_MS)


def test_episodes_playback_and_trim(qtbot, page_window, tmp_path):
    page = page_window.dataset_page
    root = write(tmp_path / "ds")
    open_ds(qtbot, page, root)
    assert page.message.text().endswith("3 episodes, 60 frames at 30 fps, cameras front, wrist; 1 flagged")
    col = {name: COLUMNS.index(name) for name in ("frames", "dropped", "flags", "task")}
    assert table_texts(page.table, col["frames"]) == ["20"] * 3
    assert table_texts(page.table, col["task"]) == ["pick the cube"] * 3
    assert table_texts(page.table, col["dropped"]) == ["0", "2", "0"]
    assert table_texts(page.table, col["flags"]) == ["", "⚑ 1", ""]
    assert "dropped 2" in page.table.item(1, col["flags"]).toolTip()
    assert page.table.isColumnHidden(TAKEN_OVER)  # no intervention feature: nothing about taking over
    page.table.selectRow(1)
    player = page.player
    qtbot.waitUntil(lambda: player.episode is not None and player.episode["episode"] == 1, timeout=TIMEOUT_MS)
    assert set(player.video_labels) == {"front", "wrist"} and not player.video_labels["front"].pixmap().isNull()
    assert len(player.plot.listDataItems()) == 12  # state and action per joint
    assert player.taken_over_regions == []
    player.slider.setValue(10)
    assert player.frame == 10 and player.cursor.value() == 10 and player.position.text().startswith("11/20")
    player.toggle_play()
    qtbot.waitUntil(lambda: player.frame == 19 and not player._timer.isActive(), timeout=5000)
    player.slider.setValue(3)
    player.trim_start.setValue(3)
    player.slider.setValue(16)
    player.trim_end.setValue(19 - 16)
    player.trim_button.click()  # a preview first; Confirm writes it
    player.confirm_button.click()
    qtbot.waitUntil(lambda: "trimmed: 20 → 14 frames" in page.message.text(), timeout=TIMEOUT_MS)
    assert table_texts(page.table, 2) == ["20", "14", "20"]
    assert check_dataset(root) == []


def test_delete_restore_merge_validate(qtbot, page_window, tmp_path):
    page = page_window.dataset_page
    root = write(tmp_path / "ds")
    open_ds(qtbot, page, root)
    page.table.selectRow(0)
    page.delete_button.click()
    qtbot.waitUntil(lambda: "moved to the trash" in page.message.text() and not page.busy, timeout=TIMEOUT_MS)
    assert page.table.rowCount() == 2 and page.trash.count() == 1
    page.trash.setCurrentRow(0)
    page.restore_button.click()
    qtbot.waitUntil(lambda: "back from the trash as episode 2" in page.message.text() and not page.busy, timeout=TIMEOUT_MS)
    assert page.table.rowCount() == 3 and page.trash.count() == 0

    other = write(tmp_path / "other", n=2, flagged=())
    page.merge_with.setText(str(other))
    page.merge_out.setText(str(tmp_path / "merged"))
    page.merge_button.click()
    qtbot.waitUntil(lambda: "merged into" in page.message.text() and page.reader is not None and not page.busy,
                    timeout=TIMEOUT_MS)
    assert page.table.rowCount() == 5 and page.path.text() == str(tmp_path / "merged")
    page.validate_button.click()
    qtbot.waitUntil(lambda: page.message.text().startswith("validate:"), timeout=TIMEOUT_MS)
    assert page.message.text() == "validate: no problems found (LeRobot v3.0)"


def test_create_from_the_open_rig(qtbot, window, tmp_path):
    page = window.dataset_page
    page.path.setText(str(tmp_path / "new"))
    page.create_button.click()
    qtbot.waitUntil(lambda: page.reader is not None and not page.busy, timeout=TIMEOUT_MS)
    assert "0 episodes" in page.message.text()
    with DatasetReader(tmp_path / "new") as r:
        assert r.video_keys == [f"observation.images.{c}" for c in window.host.camera_names()]


def test_push_then_pull_through_a_local_hub(qtbot, page_window, tmp_path):
    from tests.dataset.fake_hub import FakeHubApi

    page = page_window.dataset_page
    page.hub_api = FakeHubApi(tmp_path / "hub")
    open_ds(qtbot, page, write(tmp_path / "ds", n=2))
    page.repo_id.setText("me/koch_pick")
    page.push_button.click()
    assert page.progress.isVisible() or "pushed" in page.message.text()  # busy bar while it uploads
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)
    assert page.message.text() == "pushed to https://huggingface.co/datasets/me/koch_pick"
    assert not page.progress.isVisible()
    page.path.setText(str(tmp_path / "pulled"))
    page.pull_button.click()
    qtbot.waitUntil(lambda: "pulled me/koch_pick" in page.message.text() and not page.busy, timeout=TIMEOUT_MS)
    assert page.message.text() == "pulled me/koch_pick: 2 episodes" and page.table.rowCount() == 2


@pytest.mark.parametrize("action,message", [
    ("open_missing", "dataset:"),
    ("pull_bad_repo", "Hub repo id:"),
    ("pull_offline", "cannot download"),
    ("trim_nothing", "trim:"),
    ("merge_no_out", "merge: give a folder"),
])
def test_bad_input_is_one_line_naming_the_field(qtbot, page_window, tmp_path, monkeypatch, action, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    page = page_window.dataset_page
    if action == "open_missing":
        page.path.setText(str(tmp_path / "nope"))
        page.open_button.click()
    elif action.startswith("pull"):
        page.path.setText(str(tmp_path / "pulled"))
        page.repo_id.setText("nobody-nothing" if action == "pull_bad_repo" else "nobody/nothing")
        page.pull_button.click()
        qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)
    else:
        open_ds(qtbot, page, write(tmp_path / "ds", n=1))
        if action == "trim_nothing":
            qtbot.waitUntil(lambda: page.player.episode is not None, timeout=TIMEOUT_MS)
            page.player.trim_button.click()
        else:
            page.merge_with.setText(str(tmp_path / "ds"))
            page.merge_button.click()
    assert page.message.is_error and message in page.message.text(), page.message.text()
    assert "\n" not in page.message.text()
