"""Train page: a tiny ACT run in a separate process (the CLI's trainer). The curve is the CSV, the window stays
responsive while it trains, stop saves a checkpoint and resume continues, a checkpoint opens the Evaluate page,
bad input names its field."""

import json
import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from robotapp.jobs.training_job import read_log
from tests.policies.helpers import TINY_ACT, make_episodes, write_dataset

from .conftest import make_window

TRAIN_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("train") / "ds", make_episodes(2, length=20, hw=(120, 160),
                                                                                 cams=("front",)))


@pytest.fixture
def page_window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    w.tabs.setCurrentWidget(w.train_page)
    yield w
    w.close()


def fill(page, dataset, out, steps, save_every=3):
    page.dataset.setText(str(dataset))
    page.out.setText(str(out))
    page.steps.setValue(steps)
    page.save_every.setValue(save_every)
    page.log_every.setValue(1)
    page.overrides.setText(json.dumps(TINY_ACT))


class LateTimer:
    """A 10 ms QTimer that records how late each tick fires: the GUI event loop's latency."""

    def __init__(self, parent):
        self.late_ms: list[float] = []
        self._last = None
        self.timer = QTimer(parent, interval=10, timeout=self._tick)
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.late_ms.append(max(0.0, (now - self._last) * 1000 - 10))
        self._last = now


def test_training_curve_matches_the_csv_and_the_window_stays_responsive(qtbot, page_window, dataset, tmp_path):
    page = page_window.train_page
    fill(page, dataset, tmp_path / "run", steps=8)
    late = LateTimer(page)
    page.start_button.click()
    qtbot.waitUntil(lambda: page.job is not None and not page.job.running and not page._timer.isActive(),
                    timeout=TRAIN_TIMEOUT_MS)
    late.timer.stop()
    assert "training ended at step 8" in page.message.text(), page.message.text() + page.job.tail(5)
    rows = read_log(tmp_path / "run" / "train_log.csv")
    x, y = page.loss.data()
    assert [r["step"] for r in rows] == list(range(1, 9)) == list(x)
    np.testing.assert_allclose(y, [r["loss"] for r in rows], rtol=1e-6)
    assert page.progress.text().startswith("step 8/8")
    assert [page.ckpt_list.item(i).text() for i in range(page.ckpt_list.count())] == ["step 3", "step 6", "step 8"]
    p99 = float(np.percentile(late.late_ms, 99))
    print(f"event-loop latency while training: p50 {np.percentile(late.late_ms, 50):.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(late.late_ms):.1f} ms over {len(late.late_ms)} ticks")
    assert np.percentile(late.late_ms, 50) < 50  # the median tick is on time even on a loaded 2-core machine

    page.ckpt_list.setCurrentRow(1)
    page.eval_button.click()
    assert page_window.tabs.currentWidget() is page_window.evaluate_page
    assert page_window.evaluate_page.checkpoint.text().endswith("000006")


def test_stop_saves_a_checkpoint_and_resume_continues(qtbot, page_window, dataset, tmp_path):
    page = page_window.train_page
    fill(page, dataset, tmp_path / "run", steps=100_000, save_every=0)
    page.start_button.click()
    qtbot.waitUntil(lambda: len(page.job.rows) >= 2, timeout=TRAIN_TIMEOUT_MS)
    assert page.stop_button.isEnabled() and not page.start_button.isEnabled()
    page.stop_button.click()
    qtbot.waitUntil(lambda: not page.job.running and not page._timer.isActive(), timeout=TRAIN_TIMEOUT_MS)
    stopped_at = int(page.job.rows[-1]["step"])
    assert page.ckpt_list.count() == 1 and page.ckpt_list.item(0).text() == f"step {stopped_at}"
    page.steps.setValue(stopped_at + 3)
    page.resume_button.click()
    qtbot.waitUntil(lambda: not page.job.running and not page._timer.isActive(), timeout=TRAIN_TIMEOUT_MS)
    assert "training ended" in page.message.text(), page.job.tail(5)
    x, _ = page.loss.data()
    assert list(x) == [r["step"] for r in read_log(tmp_path / "run" / "train_log.csv")]
    assert x[-1] == stopped_at + 3


@pytest.mark.parametrize("field,setup,message", [
    ("dataset", lambda p, d, t: p.dataset.setText(str(t / "nope")), "dataset:"),
    ("overrides", lambda p, d, t: p.overrides.setText("{oops"), "overrides: not JSON"),
    ("resume", None, "run folder: nothing to resume"),
])
def test_bad_input_names_the_field(qtbot, page_window, dataset, tmp_path, field, setup, message):
    page = page_window.train_page
    fill(page, dataset, tmp_path / "run", steps=5)
    if setup is not None:
        setup(page, dataset, tmp_path)
    (page.resume_button if field == "resume" else page.start_button).click()
    assert page.message.is_error and page.message.text().startswith(message), page.message.text()
    assert page.job is None
