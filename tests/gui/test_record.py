"""Recording through the window on the virtual rig: two short demonstrator episodes with the phase display,
the → key and telemetry badges, then the dataset checked; re-record (←) and stop (Esc); bad input named by field."""

from PySide6.QtCore import Qt

from robotapp.dataset import DatasetReader
from robotapp.dataset.check import check_dataset

from .conftest import mode_of


def fill(record, dataset, episodes=2, episode_time=2.5, reset_time=0.5, warmup_time=0.5, demonstrator=True):
    record.dataset.setText(str(dataset))
    record.task.setText("pick up the red cube")
    record.episodes.setValue(episodes)
    record.episode_time.setValue(episode_time)
    record.reset_time.setValue(reset_time)
    record.warmup_time.setValue(warmup_time)
    record.demonstrator.setChecked(demonstrator)


def test_record_two_episodes_through_the_window_then_the_dataset_checks(window, qtbot, tmp_path):
    page = window.teleop_page
    window.tabs.setCurrentWidget(page)
    rec = page.record
    root = tmp_path / "pick"
    fill(rec, root, episode_time=3.0)
    phases = set()
    rec.phase.setObjectName("phase")
    rec.start_button.click()
    qtbot.waitUntil(lambda: page.recording, timeout=20_000)
    assert not rec.task.isEnabled() and rec.stop_button.isEnabled()  # the form is locked while recording

    def seen(word):
        phases.add(rec.phase.text().split("  ·  ")[0])
        return word in rec.phase.text()
    qtbot.waitUntil(lambda: seen("RECORDING  ·  episode 1/2"), timeout=20_000)
    qtbot.waitUntil(lambda: "recording: episode 1/2" in window.status.recording.text(), timeout=2000)
    first = rec.phase.text()
    qtbot.waitUntil(lambda: seen("RECORDING") and rec.phase.text() != first, timeout=5000)  # the countdown runs
    qtbot.keyClick(page, Qt.Key.Key_Right)  # → ends the first episode now
    qtbot.waitUntil(lambda: len(rec.badge_list()) == 1, timeout=20_000)
    qtbot.waitUntil(lambda: seen("RESET THE SCENE") or seen("episode 2/2"), timeout=10_000)
    qtbot.waitUntil(lambda: not page.recording, timeout=60_000)
    assert {"RECORDING", "RESET THE SCENE"} <= phases
    badges = rec.badge_list()
    assert [b.text().split(" · ")[0] for b in badges] == ["ep 0", "ep 1"]
    assert "loop" in badges[0].toolTip() and "frames" in badges[0].toolTip()  # the telemetry summary
    assert "2 episode(s) saved" in rec.message.text() and not rec.message.is_error  # news, not a problem
    assert rec.start_button.isEnabled() and rec.task.isEnabled()
    qtbot.waitUntil(lambda: mode_of(window) == "hold", timeout=5000)

    assert check_dataset(root) == []
    reader = DatasetReader(root)
    try:
        assert reader.num_episodes == 2
        assert reader.tasks == ["pick up the red cube"]
        assert set(reader.video_keys) == {"observation.images.front", "observation.images.wrist"}
        seconds = [reader.extra(e)["telemetry"]["seconds"] for e in range(2)]
        frames = [len(reader.episode_data(e)["action"]) for e in range(2)]
    finally:
        reader.close()
    assert seconds[0] < 2.6 and seconds[1] > 2.8  # the first was cut short by →, the second ran its 3 s
    assert frames[0] > 0 and frames[1] > frames[0]


def test_rerecord_with_left_and_stop_with_escape(window, qtbot, tmp_path):
    page = window.teleop_page
    window.tabs.setCurrentWidget(page)
    rec = page.record
    root = tmp_path / "redo"
    fill(rec, root, episodes=3, episode_time=20.0, reset_time=0.5)
    rec.start_button.click()
    qtbot.waitUntil(lambda: "RECORDING  ·  episode 1/3" in rec.phase.text(), timeout=20_000)
    qtbot.keyClick(page, Qt.Key.Key_Left)  # ← drops this take and records it again
    qtbot.waitUntil(lambda: "re-recording episode 0" in rec.message.text(), timeout=10_000)
    qtbot.waitUntil(lambda: window.host.snapshot().phase == "reset", timeout=10_000)
    qtbot.waitUntil(lambda: window.host.snapshot().phase == "episode", timeout=20_000)
    qtbot.waitUntil(lambda: "RECORDING  ·  episode 1/3" in rec.phase.text(), timeout=5000)
    qtbot.keyClick(page, Qt.Key.Key_Escape)  # Esc saves the take in progress and stops
    qtbot.waitUntil(lambda: not page.recording, timeout=30_000)
    assert [b.text().split(" · ")[0] for b in rec.badge_list()] == ["ep 0"]
    assert check_dataset(root) == []
    reader = DatasetReader(root)
    try:
        assert reader.num_episodes == 1
    finally:
        reader.close()


def test_a_recording_ended_by_the_estop_is_shown_as_an_error_and_leaves_no_dataset(window, qtbot, tmp_path):
    page = window.teleop_page
    window.tabs.setCurrentWidget(page)
    rec = page.record
    root = tmp_path / "stopped"
    fill(rec, root, episodes=2, episode_time=20.0)
    rec.start_button.click()
    qtbot.waitUntil(lambda: "RECORDING  ·  episode 1/2" in rec.phase.text(), timeout=20_000)
    assert (root / "meta" / "info.json").is_file()
    window.estop_button.click()
    qtbot.waitUntil(lambda: not page.recording, timeout=30_000)
    assert rec.message.is_error, rec.message.text()  # not in the success colour
    assert "e-stop" in rec.message.text() and "0 episode(s) saved" in rec.message.text()
    assert not root.exists()  # the dataset this recording created, with no episode, is gone: nothing blocks a retry


def test_bad_recording_input_is_named_by_field(window, qtbot, tmp_path):
    page = window.teleop_page
    window.tabs.setCurrentWidget(page)
    rec = page.record
    fill(rec, tmp_path / "new")
    rec.task.setText("   ")
    rec.start_button.click()
    assert rec.message.is_error and rec.message.text().startswith("Task: empty")
    rec.task.setText("pick")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("x")
    rec.dataset.setText(str(busy))
    rec.start_button.click()
    assert rec.message.text().startswith(f"Dataset folder: {busy} already holds files")
    rec.resume.setChecked(True)
    rec.start_button.click()
    assert rec.message.text().startswith(f"Dataset folder: no dataset at {busy} to add episodes to")
    rec.dataset.setText("")
    rec.start_button.click()
    assert rec.message.text().startswith("Dataset folder: empty")
    assert not page.recording and rec.start_button.isEnabled() and mode_of(window) == "idle"


def test_an_episode_with_many_held_frames_is_offered_for_re_recording(window):
    """The window says so in plain words and points at Re-record; an episode that kept time says nothing."""
    from robotapp.core.events import EpisodeSaved, Kind

    page = window.teleop_page
    tel = {"frames": 300, "held_frames": 2, "loop_hz": 90.0}
    page.on_event(EpisodeSaved(Kind.EPISODE_SAVED, "ok", episode=0, frames=300, flagged=False, telemetry=tel))
    assert not page.record.message.is_error
    tel = {"frames": 300, "held_frames": 24, "loop_hz": 80.0}
    page.on_event(EpisodeSaved(Kind.EPISODE_SAVED, "flagged", episode=1, frames=300, flagged=True, telemetry=tel))
    assert page.record.message.is_error
    assert "24 of 300 frames held" in page.record.message.text() and "Re-record" in page.record.message.text()
