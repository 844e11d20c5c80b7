"""Evaluate page: a (barely) trained tiny ACT checkpoint evaluated lock-step on the virtual rig (the world
judges), by hand with S/F/P and a note, the checkpoint table, stop, bad input by field, and replaying a recorded
episode on the open rig's follower."""

import pytest
from PySide6.QtCore import Qt

from policies.train import TrainOptions, train
from robotapp.dataset import DatasetReader
from robotapp.gui.common import table_texts
from tests.policies.helpers import TINY_ACT, make_episodes, write_dataset

from .conftest import make_window, wait_for

EVAL_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("evalpage")
    write_dataset(root / "ds", make_episodes(2, length=20, hw=(120, 160), cams=("front",)))
    with DatasetReader(root / "ds") as reader:
        train(TrainOptions(dataset=str(root / "ds"), policy="act", steps=4, save_every=2, out=str(root / "run"),
                           overrides=dict(TINY_ACT), progress=False, device="cpu"), reader)
    return root / "run"


@pytest.fixture
def page_window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    w.tabs.setCurrentWidget(w.evaluate_page)
    yield w
    w.close()


def test_lockstep_evaluation_tallies_and_compares_checkpoints(qtbot, page_window, run_dir):
    page = page_window.evaluate_page
    page.episodes.setValue(2)
    page.episode_time.setValue(1.5)
    for step in ("000002", "000004"):
        page.select_checkpoint(str(run_dir / "checkpoints" / step))
        page.start_button.click()
        qtbot.waitUntil(lambda: page.job is None, timeout=EVAL_TIMEOUT_MS)
        assert not page.preview_labels["front"].pixmap().isNull()  # the live preview showed the sim camera
        assert page.message.text().startswith("success: 0/2 (rate 0.0%, 95% CI [0.0%, 65.8%])"), page.message.text()
    log = [page.log.item(i).text() for i in range(page.log.count())]
    # the CLI's default scenes and lines: the seeds, why the (synthetic) training data could not be checked
    assert log[0] == "seeds 1000000-1000001" and log[1].startswith("note: the training dataset")
    assert log[2].startswith(f"recording the episodes into {run_dir / 'evals'}")  # by default, beside the run
    assert log[3].startswith("episode 1/2 (seed 1000000): fail")
    assert page.tally.text().startswith("0/2 success (0%, 95% CI [0%, 66%])")
    assert table_texts(page.table, 1) == ["2", "4"]
    assert table_texts(page.table, 6) == ["[0%, 66%]", "[0%, 66%]"]


def test_by_hand_marks_with_keys_and_a_note(qtbot, page_window, run_dir):
    page = page_window.evaluate_page
    page.select_checkpoint(str(run_dir / "last"))
    page.rig.setCurrentIndex(1)  # virtual rig, real time, judged by hand
    page.episodes.setValue(2)
    page.episode_time.setValue(0.5)
    page.start_button.click()
    for key, outcome in ((Qt.Key.Key_P, "partial"), (Qt.Key.Key_S, "success")):
        qtbot.waitUntil(lambda: page.job is not None and page.job.waiting_for_mark is not None,
                        timeout=EVAL_TIMEOUT_MS)
        qtbot.waitUntil(page.mark_box.isEnabled, timeout=5000)
        if outcome == "partial":
            page.note.setText("cube moved but not lifted")
        page.setFocus()
        qtbot.keyClick(page, key)
        assert f"marked {outcome}" in page.message.text()
    qtbot.waitUntil(lambda: page.job is None, timeout=EVAL_TIMEOUT_MS)
    result = page.results[-1]
    assert [(e.outcome, e.note) for e in result.episodes] == [("partial", "cube moved but not lifted"),
                                                             ("success", "")]
    assert page.message.text().startswith("success: 1/2")
    assert table_texts(page.table, 4) == ["1"]  # partial column


def test_stop_ends_the_run(qtbot, page_window, run_dir):
    page = page_window.evaluate_page
    page.select_checkpoint(str(run_dir / "last"))
    page.rig.setCurrentIndex(1)
    page.episodes.setValue(5)
    page.start_button.click()
    qtbot.waitUntil(lambda: page.job is not None and page.job.rig is not None, timeout=EVAL_TIMEOUT_MS)
    page.stop_button.click()
    qtbot.waitUntil(lambda: page.job is None, timeout=EVAL_TIMEOUT_MS)
    assert page.message.text() == "evaluation stopped" and not page.results


@pytest.mark.parametrize("setup,message", [
    (lambda p, r: p.select_checkpoint(str(r / "nope")), "checkpoint:"),
    (lambda p, r: p.select_checkpoint(""), "checkpoint: (empty)"),
])
def test_bad_input_names_the_field(page_window, run_dir, setup, message):
    page = page_window.evaluate_page
    setup(page, run_dir)
    page.start_button.click()
    assert page.message.is_error and page.message.text().startswith(message)
    page.mark("success")
    assert page.message.text().startswith("judge: no episode")


def test_replay_a_recorded_episode_on_the_follower(qtbot, window, run_dir):
    page = window.evaluate_page
    window.tabs.setCurrentWidget(page)
    page.replay.dataset.setText(str(run_dir.parent / "ds"))
    page.replay.episode.setValue(1)
    page.replay.replay_button.click()
    wait_for(qtbot, window, lambda: window.host.snapshot().mode.value == "replay", 20_000, "replay to start")
    wait_for(qtbot, window, lambda: "replayed episode 1" in page.replay.message.text(), 30_000, "replay to end")
    assert page.replay.bar.value() == 100 and page.replay.source.frame == 19  # its 20 frames, each played
