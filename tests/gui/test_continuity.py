"""One story from rig to evaluation (issue 20): what the window had open comes back after a restart (a second
MainWindow on the same settings file), a finished recording opens in the Dataset page, a finished evaluation
offers "Record more" / "Train again", and the Evaluate page reads its saved results back from disk."""

import pytest

from hardware.rig_config import RigConfig, save_rig
from robotapp.dataset import DatasetReader
from robotapp.gui.common import table_texts
from tests.policies.helpers import make_episodes, write_dataset

from .conftest import make_window, mode_of, wait_for
from .eval_run import tiny_run

EVAL_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("continuity"))


def test_restart_opens_the_rig_dataset_and_record_form_of_last_time(qtbot, tmp_path):
    ini = tmp_path / "gui.ini"
    dataset = tmp_path / "kept"
    write_dataset(dataset, make_episodes(3, length=12, hw=(24, 32), cams=("front",)))
    save_rig(RigConfig("bench-continuity"))
    first = make_window(qtbot, ini, open_rig=False)
    first.settings.setValue("rig/last", "bench-continuity")
    rec = first.teleop_page.record
    rec.dataset.setText(str(tmp_path / "pick"))
    rec.task.setText("stack the cubes")
    rec.episodes.setValue(4)
    rec.reset_time.setValue(3.5)
    rec.warmup_time.setValue(1.5)
    rec.resume.setChecked(True)
    rec.align.setChecked(False)
    first.dataset_page.path.setText(str(dataset))
    first.close()

    second = make_window(qtbot, ini, open_rig=False)
    try:
        rec = second.teleop_page.record
        assert (rec.dataset.text(), rec.task.text(), rec.episodes.value(), rec.reset_time.value(),
                rec.warmup_time.value(), rec.resume.isChecked(), rec.align.isChecked()) == \
            (str(tmp_path / "pick"), "stack the cubes", 4, 3.5, 1.5, True, False)
        page = second.dataset_page  # not only its path: the dataset itself is open again
        qtbot.waitUntil(lambda: page.reader is not None and not page.busy, timeout=30_000)
        assert page.table.rowCount() == 3 and str(page.reader.root) == str(dataset)
        opened = []
        second.open_rig = opened.append  # which rig it would open at start (this one has no hardware)
        second.open_last_rig()
        assert opened == ["bench-continuity"]
    finally:
        second.close()


def test_a_finished_recording_opens_in_the_dataset_page_and_is_added_to_next_time(qtbot, tmp_path):
    ini = tmp_path / "gui.ini"
    window = make_window(qtbot, ini)
    try:
        page, rec = window.teleop_page, window.teleop_page.record
        window.tabs.setCurrentWidget(page)
        root = tmp_path / "fresh"
        rec.dataset.setText(str(root))
        rec.task.setText("pick up the red cube")
        rec.episodes.setValue(1)
        rec.episode_time.setValue(1.5)
        rec.reset_time.setValue(0.5)
        rec.warmup_time.setValue(0.5)
        rec.demonstrator.setChecked(True)
        assert not rec.open_dataset_button.isVisible()  # nothing recorded yet
        rec.start_button.click()
        wait_for(qtbot, window, lambda: page.recording, 20_000, "the recording to start")
        wait_for(qtbot, window, lambda: not page.recording, 60_000, "the recording to end")
        assert "1 episode(s) saved" in rec.message.text()
        qtbot.waitUntil(rec.open_dataset_button.isVisible, timeout=2000)
        assert rec.resume.isChecked()  # the folder holds a dataset now: the next Start adds to it
        rec.open_dataset_button.click()
        ds = window.dataset_page
        assert window.tabs.currentWidget() is ds
        qtbot.waitUntil(lambda: ds.reader is not None and not ds.busy, timeout=30_000)
        assert str(ds.reader.root) == str(root) and ds.table.rowCount() == 1
        qtbot.waitUntil(lambda: mode_of(window) == "hold", timeout=5000)
    finally:
        window.close()
    again = make_window(qtbot, ini, open_rig=False)
    try:
        rec = again.teleop_page.record
        assert rec.dataset.text() == str(root) and rec.resume.isChecked()
        assert not rec.open_dataset_button.isHidden() and rec.recorded == str(root)
    finally:
        again.close()


def test_evaluation_results_are_kept_on_disk_and_offer_the_next_step(qtbot, tmp_path, run_dir):
    ini = tmp_path / "gui.ini"
    unreadable = "{ half a file"
    (tmp_path / "evaluations.json").write_text(unreadable)  # what a crash mid-write could leave
    first = make_window(qtbot, ini, open_rig=False)
    try:
        page = first.evaluate_page
        assert page.message.is_error and "evaluations.json: not an evaluation table" in page.message.text()
        assert page.table.rowCount() == 0 and page.next_steps.isHidden()
        first.tabs.setCurrentWidget(page)
        page.select_checkpoint(str(run_dir / "checkpoints" / "000002"))
        page.episodes.setValue(1)
        page.episode_time.setValue(1.0)
        page.start_button.click()
        qtbot.waitUntil(lambda: page.job is None, timeout=EVAL_TIMEOUT_MS)
        assert page.message.text().startswith("success: 0/1"), page.message.text()
        assert table_texts(page.table, 1) == ["2"]
        assert (tmp_path / "evaluations.unreadable.json").read_text() == unreadable  # kept aside, not lost
        assert not page.next_steps.isHidden()
        page.train_again_button.click()
        assert first.tabs.currentWidget() is first.train_page
        assert first.train_page.dataset.text() == str(run_dir.parent / "ds")
        assert first.train_page.out.text() == str(run_dir)
        page.record_more_button.click()
        rec = first.teleop_page.record
        assert first.tabs.currentWidget() is first.teleop_page
        assert rec.dataset.text() == str(run_dir.parent / "ds") and rec.resume.isChecked()
    finally:
        first.close()

    second = make_window(qtbot, ini, open_rig=False)
    try:
        page = second.evaluate_page
        assert not page.message.is_error, page.message.text()
        assert table_texts(page.table, 1) == ["2"] and table_texts(page.table, 2) == ["1"]
        assert page.tally.text() == "last evaluation: 0/1 success (0%, 95% CI [0%, 79%]) — run/000002"
        assert page.checkpoint.text() == str(run_dir / "checkpoints" / "000002")
        assert (page.episodes.value(), page.episode_time.value()) == (1, 1.0)
        assert not page.next_steps.isHidden()  # the last run's next steps are offered again
        with DatasetReader(run_dir.parent / "ds") as reader:
            assert reader.num_episodes == 2  # nothing was recorded into the training set by the clicks
    finally:
        second.close()
