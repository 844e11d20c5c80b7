"""Condition (c) of bench/record_under_load.py: a recording in the main window's own session while the window
runs its event loop (Teleop page showing, plots and camera previews redrawing), as a person records. The window's
host is the one the app uses (its rig and session in the control process; BENCH_HOST=inprocess keeps them in the
window's process, as before issue 19's fix, for comparison)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication


def record_in_window(plan, work: Path, timeout: float, size_fps) -> dict:
    """The main window (offscreen unless a display is set) on the Teleop page, its rig opened as the Rig page does;
    the recording runs in that window's session on a thread while this one runs the Qt event loop."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from record import CAMS

    from robotapp.gui.main_window import MainWindow
    from robotapp.services.process_rig_host import ProcessRigHost
    from robotapp.services.rig_host import RigHost

    app = QApplication.instance() or QApplication(["robotapp-bench"])
    width, height, fps = size_fps
    transport = {"transport": os.environ["BENCH_TRANSPORT"]} if os.environ.get("BENCH_TRANSPORT") else {}
    in_window_process = os.environ.get("BENCH_HOST") == "inprocess"
    host = (RigHost if in_window_process else ProcessRigHost)(virtual_options={"cameras": CAMS, "width": width, "height": height, "camera_fps": fps,
                                    **transport})
    window = MainWindow(host, QSettings(str(work / "gui.ini"), QSettings.Format.IniFormat))
    window.show()
    window.tabs.setCurrentWidget(window.teleop_page)

    def run_until(done, seconds: float) -> None:
        loop = QEventLoop()
        check = QTimer(interval=50, timeout=lambda: done() and loop.quit())
        check.start()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        if not done():
            loop.exec()
        check.stop()

    try:
        window.open_rig("virtual")
        run_until(lambda: host.is_open or host.state == "failed", 180)
        if not host.is_open:
            raise RuntimeError(f"the window could not open the virtual rig: {host.error or host.state}")
        out: dict = {}

        def recording():
            try:
                if in_window_process:
                    out.update(drive_host(host, plan, timeout))
                else:  # the session is in the control process: drive it there
                    out.update(host.call_in_control("gui_record_window:drive_host", plan, timeout)
                               .result(timeout + 60))
            except BaseException as e:  # noqa: BLE001 - reported by the caller
                out["error"] = e

        plots, previews = window.teleop_page.plots, window.teleop_page.previews
        redraws0, t0 = plots.redraws, time.monotonic()
        thread = threading.Thread(target=recording, name="bench-recording")
        thread.start()
        run_until(lambda: not thread.is_alive(), timeout + 60)
        thread.join(5)
        if "error" in out:
            raise out["error"]
        if thread.is_alive():
            raise TimeoutError("the recording did not end")
        out["gui"] = {"plot_redraws_per_s": (plots.redraws - redraws0) / (time.monotonic() - t0),
                      "preview_fps": previews.fps()}
        return out
    finally:
        window.close()
        app.processEvents()


def drive_host(host, plan, timeout: float) -> dict:
    """The recording, driven where the session is (this process, or the control process through call_in_control)."""
    from record_under_load import drive

    host.virtual_leader.release()  # as RigHost.start_recording does for the demonstrator
    return drive(host.session, host.rig, plan, timeout)

