"""Dataset editing that cannot hurt, and replay that shows the cameras: the scrubber seeks to the click, Left/Right
move exactly one frame, a trim is a preview until confirmed (Cancel leaves the disk alone) and can be undone
after, the edited episode stays selected, delete/restore say what they renumbered while the "recorded" column
keeps naming each episode, the player names its cameras and explains its lines, and the Replay panel shows the
recorded episode's camera frames in step with the follower."""

import hashlib

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionSlider

from robotapp.dataset import DatasetReader, DatasetWriter, build_features
from robotapp.dataset.check import check_dataset
from robotapp.gui.common import table_texts
from robotapp.gui.dataset_rows import COLUMNS, recorded_label, renumbering
from tests.policies.helpers import make_episodes

from .conftest import make_window, wait_for
from .test_dataset_page import JOINTS, TIMEOUT_MS, open_ds, write

RECORDED = COLUMNS.index("recorded")
FRAMES = COLUMNS.index("frames")


def write_named(root, n=4, length=20):
    """Episodes recorded a minute apart, so the "recorded" column tells them apart."""
    eps = make_episodes(n, length=length, hw=(48, 64), cams=("front",))
    w = DatasetWriter.create(root, fps=30, features=build_features(JOINTS, [("front", 48, 64)]),
                             robot_type="koch_follower", codec="h264", fsync=False)
    for i, ep in enumerate(eps):
        for k in range(length):
            w.add_frame({key: v[k] for key, v in ep.items() if key != "action"}, ep["action"][k], "pick the cube")
        w.save_episode(extra={"recorded_at": f"2024-05-01T12:{i:02d}:00+00:00"}).wait()
    w.close()
    return root


def dataset_files(root) -> dict[str, str]:
    """The dataset's own files (meta, data, videos) by content."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("meta", "data", "videos") for p in sorted((root / sub).rglob("*")) if p.is_file()}


@pytest.fixture
def page(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    w.tabs.setCurrentWidget(w.dataset_page)
    yield w.dataset_page
    w.close()


def show_episode(qtbot, page, ep):
    page.table.selectRow(ep)
    qtbot.waitUntil(lambda: page.player.episode is not None and page.player.episode["episode"] == ep,
                    timeout=TIMEOUT_MS)
    return page.player


def slider_x(slider, value) -> int:
    """Where the handle's centre sits for `value`, from the style (as a user aims at a frame)."""
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    style = slider.style()
    groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, slider)
    handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider)
    span = groove.width() - handle.width()
    return groove.x() + handle.width() // 2 + QStyle.sliderPositionFromValue(slider.minimum(), slider.maximum(),
                                                                              value, span)


def test_a_click_on_the_scrubber_seeks_to_the_clicked_frame(qtbot, page, tmp_path):
    open_ds(qtbot, page, write_named(tmp_path / "ds", n=2, length=60))
    player = show_episode(qtbot, page, 1)
    slider = player.slider
    assert slider.width() > 120, slider.width()
    for target in (47, 5, 30, 59, 0):
        qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider_x(slider, target), slider.height() // 2))
        assert abs(player.frame - target) <= 1, (target, player.frame)
        assert player.cursor.value() == player.frame


def test_left_and_right_move_exactly_one_frame(qtbot, page, tmp_path):
    open_ds(qtbot, page, write(tmp_path / "ds", n=2))
    player = show_episode(qtbot, page, 0)
    player.slider.setValue(5)
    player.slider.setFocus()
    for _ in range(3):
        qtbot.keyClick(player.slider, Qt.Key.Key_Right)
    assert player.frame == 8
    qtbot.keyClick(player.slider, Qt.Key.Key_Left)
    assert player.frame == 7 and player.slider.value() == 7
    page.table.setFocus()  # anywhere on the page, e.g. after picking the episode in the table
    qtbot.keyClick(page.table, Qt.Key.Key_Right)
    assert player.frame == 8 and page.selected_episodes() == [0]
    player.slider.setValue(19)
    qtbot.keyClick(player.slider, Qt.Key.Key_Right)
    assert player.frame == 19  # the last frame stays the last


def test_trim_preview_then_cancel_leaves_the_episode_untouched(qtbot, page, tmp_path):
    root = write(tmp_path / "ds", n=2)
    open_ds(qtbot, page, root)
    before = dataset_files(root)
    player = show_episode(qtbot, page, 1)
    player.trim_start.setValue(3)
    player.trim_end.setValue(4)
    player.trim_button.click()
    assert player.previewing and player.preview_bar.isVisible()
    assert "keep frames 4–16 of 20" in player.preview_text.text()
    assert (player.slider.minimum(), player.slider.maximum()) == (3, 15)  # only the frames that would stay
    player.show_frame(0)
    assert player.frame == 3
    player.toggle_play()
    qtbot.waitUntil(lambda: not player._timer.isActive(), timeout=10_000)
    assert player.frame == 15  # playback ends where the trimmed episode would
    assert not player.trim_start.isEnabled()  # the marks are fixed while they are previewed
    player.cancel_button.click()
    assert not player.previewing and not player.preview_bar.isVisible()
    assert (player.slider.minimum(), player.slider.maximum()) == (0, 19) and player.trim_start.value() == 3
    assert dataset_files(root) == before
    assert table_texts(page.table, FRAMES) == ["20", "20"] and not page.busy


def test_trim_confirm_then_undo_restores_the_episode(qtbot, page, tmp_path):
    root = write(tmp_path / "ds", n=3)
    with DatasetReader(root) as r:
        original = r.episode_data(1)
    open_ds(qtbot, page, root)
    player = show_episode(qtbot, page, 1)
    player.trim_start.setValue(2)
    player.trim_end.setValue(5)
    player.trim_button.click()
    player.confirm_button.click()
    qtbot.waitUntil(lambda: "trimmed: 20 → 13 frames" in page.message.text() and not page.busy, timeout=TIMEOUT_MS)
    assert table_texts(page.table, FRAMES) == ["20", "13", "20"]
    qtbot.waitUntil(lambda: player.episode is not None, timeout=TIMEOUT_MS)
    assert page.selected_episodes() == [1] and player.episode["episode"] == 1  # still the edited episode
    assert player.undo_button.isVisible() and "episode 1" in player.undo_button.text()
    player.undo_button.click()
    qtbot.waitUntil(lambda: "trim of episode 1 undone: 20 frames" in page.message.text() and not page.busy,
                    timeout=TIMEOUT_MS)
    assert table_texts(page.table, FRAMES) == ["20", "20", "20"] and not player.undo_button.isVisible()
    qtbot.waitUntil(lambda: player.episode is not None, timeout=TIMEOUT_MS)
    assert page.selected_episodes() == [1] and player.frame_count() == 20
    with DatasetReader(root) as r:
        restored = r.episode_data(1)
        assert "edits" not in r.extra(1)
    for key, values in original.items():
        assert np.array_equal(values, restored[key]), key
    assert check_dataset(root) == []


def test_delete_and_restore_say_what_was_renumbered(qtbot, page, tmp_path):
    root = write_named(tmp_path / "ds", n=4)
    open_ds(qtbot, page, root)
    labels = table_texts(page.table, RECORDED)
    assert labels == [recorded_label(f"2024-05-01T12:0{i}:00+00:00") for i in range(4)] and len(set(labels)) == 4
    page.table.selectRow(1)
    page.delete_button.click()
    qtbot.waitUntil(lambda: "moved to the trash" in page.message.text() and not page.busy, timeout=TIMEOUT_MS)
    assert page.message.text() == "episode 1 moved to the trash: episodes 2–3 are now 1–2"
    assert table_texts(page.table, RECORDED) == [labels[0], labels[2], labels[3]]  # each keeps its name
    assert page.selected_episodes() == [1]  # the episode that took the deleted one's place
    assert page.trash.item(0).text() == f"was episode 1 · recorded {labels[1]} · 20 frames"
    page.trash.setCurrentRow(0)
    page.restore_button.click()
    qtbot.waitUntil(lambda: "back from the trash" in page.message.text() and not page.busy, timeout=TIMEOUT_MS)
    assert page.message.text() == (f"episode 1 (recorded {labels[1]}) back from the trash as episode 3, at the end; "
                                   "no other episode was renumbered")
    assert table_texts(page.table, RECORDED) == [labels[0], labels[2], labels[3], labels[1]]
    assert page.selected_episodes() == [3]


def test_renumbering_in_words():
    assert renumbering(10, [3]) == "episodes 4–9 are now 3–8"
    assert renumbering(10, [2, 5]) == "episodes 3–4 are now 2–3; episodes 6–9 are now 4–7"
    assert renumbering(5, [3]) == "episode 4 is now 3"
    assert renumbering(5, [4]) == "no other episode was renumbered"


def test_the_player_names_its_cameras_and_explains_its_lines(qtbot, page, tmp_path):
    player = page.player
    assert not player.plot.isVisible() and player.empty_note.isVisible()  # no meaningless axis before an episode
    open_ds(qtbot, page, write(tmp_path / "ds", n=1))
    show_episode(qtbot, page, 0)
    assert player.plot.isVisible() and not player.empty_note.isVisible()
    assert {n: t.text() for n, t in player.cameras.titles.items()} == {"front": "front", "wrist": "wrist"}
    legend = [label.text for _, label in player.legend.items]
    assert legend[:2] == ["state (solid)", "action (dashed)"] and "gripper" in legend
    assert not player.plot.getAxis("left").autoSIPrefix


def test_open_folder_shows_that_dataset(qtbot, page, tmp_path):
    root = write(tmp_path / "ds", n=2)
    page.open_folder(str(root))
    qtbot.waitUntil(lambda: page.reader is not None and not page.busy, timeout=TIMEOUT_MS)
    assert page.path.text() == str(root) and page.table.rowCount() == 2
    page.open_folder(str(tmp_path / "nope"))
    assert page.message.is_error and page.message.text().startswith("dataset:")


def test_replay_shows_the_recorded_cameras(qtbot, window, tmp_path):
    root = write(tmp_path / "ds", n=2)
    with DatasetReader(root) as r:
        last_front = r.decode_episode_video(1, "observation.images.front")[-1]
    panel = window.evaluate_page.replay
    window.tabs.setCurrentWidget(window.evaluate_page)
    panel.dataset.setText(str(root))
    panel.episode.setValue(1)
    panel.replay_button.click()
    wait_for(qtbot, window, lambda: window.host.snapshot().mode.value == "replay", 20_000, "replay to start")
    assert panel.cameras.isVisible()
    assert {n: t.text() for n, t in panel.cameras.titles.items()} == {"front": "recorded · front",
                                                                      "wrist": "recorded · wrist"}
    assert not panel.cameras.images["front"].pixmap().isNull()
    wait_for(qtbot, window, lambda: "replayed episode 1" in panel.message.text(), 30_000, "replay to end")
    shown = panel.cameras.images["front"].pixmap().toImage().convertToFormat(
        panel.cameras.images["front"].pixmap().toImage().Format.Format_RGB888)
    pixels = np.frombuffer(shown.constBits(), np.uint8).reshape(shown.height(), shown.bytesPerLine())
    pixels = pixels[:, :shown.width() * 3].reshape(shown.height(), shown.width(), 3)
    assert np.array_equal(pixels, last_front)  # the recording's own last frame, in step with the follower
