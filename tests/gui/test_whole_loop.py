"""The whole loop through the window on the virtual rig: record 3 demonstrator episodes (Teleop & Record page)
-> look at them (Dataset page) -> "Train on it": a tiny ACT for a few steps in a separate process (Train page)
-> "Evaluate this checkpoint": 2 lock-step episodes judged by the world (Evaluate page)."""

import json

from robotapp.gui.common import table_texts
from robotapp.gui.dataset_rows import COLUMNS
from robotapp.jobs.training_job import read_log
from tests.policies.helpers import TINY_ACT

from .conftest import mode_of
from .test_record import fill


def test_record_train_evaluate(window, qtbot, tmp_path):
    teleop = window.teleop_page
    window.tabs.setCurrentWidget(teleop)
    root = tmp_path / "loop"
    fill(teleop.record, root, episodes=3, episode_time=1.0, reset_time=0.3, warmup_time=0.3)
    teleop.record.start_button.click()
    qtbot.waitUntil(lambda: teleop.recording, timeout=20_000)
    qtbot.waitUntil(lambda: not teleop.recording, timeout=90_000)
    assert "3 episode(s) saved" in teleop.record.message.text()
    qtbot.waitUntil(lambda: mode_of(window) == "hold", timeout=5000)

    ds = window.dataset_page
    window.tabs.setCurrentWidget(ds)
    ds.path.setText(str(root))
    ds.open_button.click()
    qtbot.waitUntil(lambda: ds.reader is not None and not ds.busy, timeout=30_000)
    assert ds.table.rowCount() == 3 and table_texts(ds.table, COLUMNS.index("task")) == ["pick up the red cube"] * 3
    qtbot.waitUntil(lambda: ds.player.episode is not None, timeout=30_000)  # episode 0 plays

    ds._train()  # "Train on it"
    train = window.train_page
    assert window.tabs.currentWidget() is train and train.dataset.text() == str(root)
    train.out.setText(str(tmp_path / "run"))
    train.steps.setValue(4)
    train.save_every.setValue(2)
    train.log_every.setValue(1)
    train.overrides.setText(json.dumps(TINY_ACT))
    train.start_button.click()
    qtbot.waitUntil(lambda: train.job is not None and not train.job.running and not train._timer.isActive(),
                    timeout=120_000)
    assert "training ended at step 4" in train.message.text(), train.job.tail(5)
    assert list(train.loss.data()[0]) == [r["step"] for r in read_log(tmp_path / "run" / "train_log.csv")]

    train.ckpt_list.setCurrentRow(train.ckpt_list.count() - 1)
    train.eval_button.click()
    ev = window.evaluate_page
    assert window.tabs.currentWidget() is ev and ev.checkpoint.text().endswith("000004")
    ev.episodes.setValue(2)
    ev.episode_time.setValue(1.0)
    ev.start_button.click()
    qtbot.waitUntil(lambda: ev.job is None and bool(ev.results), timeout=120_000)
    assert ev.message.text().startswith("success: ") and "/2 (rate" in ev.message.text()
    assert table_texts(ev.table, 1) == ["4"] and table_texts(ev.table, 2) == ["2"]
