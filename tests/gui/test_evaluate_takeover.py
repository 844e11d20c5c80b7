"""Take over from the Evaluate page: T (a key of this page, never text typed in a field) takes the follower from
a running policy and gives it back; on the virtual rig the scripted hand brings the leader onto the follower and
drives; the episodes are recorded by default with the taken-over frames flagged; a run with corrections offers
"Fine-tune on these corrections", which fills the Train page."""

import numpy as np
from PySide6.QtCore import Qt

from robotapp.dataset import DatasetReader

from .test_evaluate_page import EVAL_TIMEOUT_MS, page_window, run_dir  # noqa: F401 (fixtures)


def test_t_takes_over_and_hands_back_and_the_recording_flags_it(qtbot, page_window, run_dir):  # noqa: F811
    page = page_window.evaluate_page
    page.select_checkpoint(str(run_dir / "last"))
    page.rig.setCurrentIndex(1)  # virtual rig, real time, judged by hand
    page.episodes.setValue(1)
    page.episode_time.setValue(15.0)  # long enough to take over and hand back on a busy machine
    assert page.takeover.record.isChecked()  # recorded unless asked not to
    page.start_button.click()
    qtbot.waitUntil(lambda: page.job is not None and page.job.session is not None
                    and page.job.session.mode.value == "policy", timeout=EVAL_TIMEOUT_MS)
    job = page.job

    field = page.replay.dataset
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_T)  # a T typed in a field of the page is text, not a take-over
    assert field.text() == "t" and job.control == "policy" and not job.switch.wanted()[0]
    field.clear()

    page.setFocus()
    qtbot.keyClick(page, Qt.Key.Key_T)
    assert page.message.text() == "taken over from the policy"
    qtbot.waitUntil(lambda: job.control == "human", timeout=10_000)  # the hand came onto the follower
    qtbot.waitUntil(lambda: page.takeover.button.text() == "Hand back (T)"
                    and "virtual hand drives" in page.takeover.state.text(), timeout=5000)
    page.takeover.button.click()  # the button does what T does
    qtbot.waitUntil(lambda: job.control == "policy", timeout=10_000)

    qtbot.waitUntil(lambda: job.waiting_for_mark is not None, timeout=EVAL_TIMEOUT_MS)
    page.setFocus()
    qtbot.keyClick(page, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: page.job is None, timeout=EVAL_TIMEOUT_MS)
    episode = page.results[-1].episodes[0]
    assert len(episode.interventions) == 1 and episode.corrected == "taken over"
    with DatasetReader(job.record) as r:
        flags = np.asarray(r.episode_data(0)["intervention"]).reshape(-1)
    first, last = episode.interventions[0]
    assert flags[first:last + 1].all() and flags.sum() == last - first + 1

    # the run had corrections: fine-tune the run it came from on its demos and these corrections
    assert page.fine_tune_button.isVisibleTo(page)
    page.fine_tune_button.click()
    window, train = page_window, page_window.train_page
    assert window.tabs.currentWidget() is train
    assert train.fine_tune_from.text() == str(run_dir)  # the run the evaluated checkpoint came from
    assert train.dataset.text() == str(run_dir.parent / "ds") and train.more_datasets.paths() == [str(job.record)]
    assert train.out.text() != str(run_dir)  # a new run beside it: the old checkpoints stay as they are
