"""Event-loop latency of the main window while the Train page trains (a separate process): a 10 ms QTimer records
how late each tick fires. Prints a one-row table (p50 / p99 / max late, ticks, training steps logged).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_train_latency.py DATASET [--seconds 30] [--preset cpu-small]

Without DATASET a tiny synthetic dataset (2 episodes, one 120x160 camera) is written to a temporary folder."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", nargs="?")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--preset", default="cpu-small")
    p.add_argument("--tiny", action="store_true", help="the tests' tiny ACT instead of the preset's size")
    args = p.parse_args()

    import numpy as np
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from robotapp.gui.main_window import MainWindow
    from robotapp.services.rig_host import RigHost

    tmp = Path(tempfile.mkdtemp(prefix="gui-latency-"))
    os.environ["ROBOTAPP_HOME"] = str(tmp)
    dataset = args.dataset
    if dataset is None:
        from tests.policies.helpers import make_episodes, write_dataset

        dataset = str(write_dataset(tmp / "ds", make_episodes(2, length=40, hw=(120, 160), cams=("front",))))
    app = QApplication.instance() or QApplication([])
    window = MainWindow(RigHost(), QSettings(str(tmp / "gui.ini"), QSettings.Format.IniFormat))
    window.show()
    page = window.train_page
    window.tabs.setCurrentWidget(page)
    page.dataset.setText(dataset)
    page.out.setText(str(tmp / "run"))
    page.preset.setCurrentText(args.preset)
    page.steps.setValue(1_000_000)
    page.log_every.setValue(1)
    if args.tiny:
        from tests.policies.helpers import TINY_ACT

        page.overrides.setText(json.dumps(TINY_ACT))
    late: list[float] = []
    last = [None]

    def tick():
        now = time.perf_counter()
        if last[0] is not None:
            late.append(max(0.0, (now - last[0]) * 1000 - 10))
        last[0] = now

    poll_ms: list[float] = []
    original_poll = page._poll

    def timed_poll():  # the page's own work per tick (tail the CSV, redraw the curve, list checkpoints)
        t = time.perf_counter()
        original_poll()
        poll_ms.append((time.perf_counter() - t) * 1000)

    page._timer.timeout.disconnect()
    page._timer.timeout.connect(timed_poll)
    page.start_button.click()
    loop = QEventLoop()
    timer = QTimer(interval=10, timeout=tick)

    def wait_for_steps():  # measure while steps run, not while torch imports
        if page.job and page.job.rows:
            waiter.stop()
            timer.start()
            QTimer.singleShot(int(args.seconds * 1000), loop.quit)

    waiter = QTimer(interval=50, timeout=wait_for_steps)
    waiter.start()
    loop.exec()  # the real event loop, as in the app
    timer.stop()
    rows = len(page.job.rows)
    page.stop()
    while page.job.running:
        app.processEvents()
        time.sleep(0.05)
    window.close()
    a = np.asarray(late)
    print(f"{'measure':<34} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'ticks':>6} {'log rows':>8}")
    print(f"{'GUI event loop late, training':<34} {np.percentile(a, 50):>7.1f} {np.percentile(a, 99):>7.1f} "
          f"{a.max():>7.1f} {len(a):>6} {rows:>8}  load {os.getloadavg()[0]:.1f}")
    b = np.asarray(poll_ms)
    print(f"{'Train page poll (its own work)':<34} {np.percentile(b, 50):>7.1f} {np.percentile(b, 99):>7.1f} "
          f"{b.max():>7.1f} {len(b):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
