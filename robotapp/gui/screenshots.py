"""Save a screenshot of each page of the app, driven on the virtual rig as a user would, into a folder per
window size:

    .venv/bin/python -m robotapp.gui.screenshots docs/screenshots                     # 1280x800 and 1920x1080
    .venv/bin/python -m robotapp.gui.screenshots /tmp/shots --size 1600x1000

Each moment of the story is shot at every size (the window is resized, laid out again, grabbed), so the pictures
at each size show the same state. Runs offscreen (QT_QPA_PLATFORM=offscreen unless a display is set). User files
go to a temporary ROBOTAPP_HOME, so taking screenshots never touches your calibrations, rig configs or window
settings. The virtual servos are served in-process rather than on ptys: on a busy machine a pty's server thread
can miss a bus timeout, and a fault banner is not what these pictures are for (the window is the same either
way)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZES = ((1280, 800), (1920, 1080))  # the smallest screen the window is laid out for, and a common large one
# a small ACT for the pictures: trains 120 steps in well under a minute on a laptop CPU
SMALL_ACT = dict(image_size=(48, 64), vision_backbone="small_cnn", backbone_width=8, dim_model=32, n_heads=4,
                 dim_feedforward=64, n_encoder_layers=1, n_decoder_layers=1, n_vae_encoder_layers=1, latent_dim=8,
                 chunk_size=8, n_action_steps=4, batch_size=8, scheduler_warmup_steps=10)


def wait_until(app, cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(f"screenshots: gave up waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def _pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def take(out_dir: Path, sizes=SIZES, stories: tuple[str, ...] = ("koch", "so101")) -> list[Path]:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from robotapp.services.process_rig_host import window_host

    from .main_window import MainWindow

    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(str(Path(os.environ["ROBOTAPP_HOME"]) / "gui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(window_host(), settings=settings)  # as the app makes it
    window.setWindowState(Qt.WindowState.WindowNoState)  # not maximized on the offscreen screen: sized below
    window.resize(*sizes[0])
    window.show()
    host = window.host
    saved: list[Path] = []

    def shot(name: str) -> None:
        for width, height in sizes:
            window.resize(width, height)
            wait_until(app, lambda w=width, h=height: (window.width(), window.height()) == (w, h), 5,
                       f"the window at {width}x{height} (its minimum is larger)")
            _pump(app, 0.3)
            path = out_dir / f"{width}x{height}" / f"{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(path))
            saved.append(path)
            print(f"saved {path}", flush=True)

    if "koch" in stories:
        window.open_rig("virtual")
        wait_until(app, lambda: host.is_open, 60, "the virtual rig to open")
        _koch_story(app, window, shot)
    if "so101" in stories:
        _so101_story(app, window, shot)
    window.close()
    return saved


def _so101_story(app, window, shot) -> None:
    """The Rig page with an SO-101: the virtual SO-101 chosen and opened, its Feetech servos in the doctor's
    table, and its leader's demonstrator on the Teleop page."""
    host, rig = window.host, window.rig_page
    window.tabs.setCurrentWidget(rig)
    rig.set_profile("virtual-so101")
    rig.open_rig()
    wait_until(app, lambda: host.is_open and host.rig_name == "virtual-so101", 60, "the virtual SO-101 to open")
    rig.tabs.setCurrentWidget(rig.motors)
    rig.motors.scan()
    wait_until(app, lambda: rig.motors.scan_table.rowCount() == 6, 20, "the SO-101's motor scan")
    shot("rig_so101_motors")
    rig.tabs.setCurrentWidget(rig.doctor)
    rig.doctor.start()
    wait_until(app, lambda: rig.doctor.run is None and rig.doctor.mirror.rowCount() == 6, 60, "the SO-101's doctor")
    shot("rig_so101_doctor")
    _teleop_with_demonstrator(app, window, shot, "teleop_so101")


def _teleop_with_demonstrator(app, window, shot, name: str):
    """The Teleop page engaged, the demonstrator playing on the leader for a few seconds, shot as `name`."""
    teleop = window.teleop_page
    window.tabs.setCurrentWidget(teleop)
    teleop.align_button.click()
    wait_until(app, lambda: window.host.snapshot().mode.value == "teleop", 20, f"teleop ({name})")
    teleop.leader_panel.demo_button.click()
    _pump(app, 7.0)
    shot(name)
    return teleop


def _koch_story(app, window, shot) -> None:
    """The whole loop on the virtual Koch, page by page."""
    host, rig = window.host, window.rig_page
    window.tabs.setCurrentWidget(rig)
    wait_until(app, lambda: rig.ports.table.rowCount() >= 2, 10, "the ports list")
    shot("rig_ports")

    rig.tabs.setCurrentWidget(rig.cameras)
    rig.cameras.refresh()
    shot("rig_cameras")

    rig.tabs.setCurrentWidget(rig.motors)
    rig.motors.scan()
    wait_until(app, lambda: rig.motors.scan_table.rowCount() == 6, 20, "the motor scan")
    rig.motors.start_setup()
    for _ in range(2):  # two motors through the wizard, the third one asked for
        wait_until(app, lambda: rig.motors.flow.done_button.isEnabled(), 20, "the setup wizard's next step")
        rig.motors.flow.proceed()
    wait_until(app, lambda: rig.motors.flow.done_button.isEnabled(), 20, "the setup wizard's next step")
    shot("rig_motors")
    rig.motors.flow.cancel()

    rig.tabs.setCurrentWidget(rig.calibration)
    rig.calibration.arm_id.setText("screenshot-follower")  # leave the virtual rig's own calibration alone
    rig.calibration.start()
    wait_until(app, lambda: rig.calibration.auto_middle_button.isEnabled(), 20, "calibration: middle step")
    rig.calibration.auto_middle_button.click()
    wait_until(app, lambda: rig.calibration.auto_sweep_button.isEnabled(), 20, "calibration: sweep step")
    rig.calibration.auto_sweep_button.click()
    wait_until(app, lambda: len(rig.calibration.bars.ranges) == 6 and rig.calibration.bars.ranges[4].low < -20,
               30, "calibration: wrist_roll crossing the encoder's zero")
    _pump(app, 0.8)
    shot("rig_calibration")
    wait_until(app, lambda: not rig.calibration.run.status().auto_sweeping, 30, "the sweep")
    rig.calibration.finish_button.click()
    wait_until(app, lambda: rig.calibration.report.rowCount() == 6, 20, "the calibration to be saved")
    shot("rig_calibration_saved")

    rig.tabs.setCurrentWidget(rig.doctor)
    for spec, box in rig.doctor.inject:
        box.setChecked(spec != "overload:gripper")
    rig.doctor.start()
    wait_until(app, lambda: rig.doctor.run is None and rig.doctor.health.rowCount() == 12, 30, "the doctor")
    shot("rig_doctor")
    for _spec, box in rig.doctor.inject:  # a clean check again: the injected problems are not the story's
        box.setChecked(False)
    rig.doctor.start()
    wait_until(app, lambda: rig.doctor.run is None and not window.ctx.state.view().outside, 30, "a clean doctor")

    teleop = _teleop_with_demonstrator(app, window, shot, "teleop")

    rec = teleop.record
    rec.dataset.setText(str(Path(os.environ["ROBOTAPP_HOME"]) / "datasets" / "screenshot"))
    rec.episodes.setValue(3)
    rec.episode_time.setValue(4.0)
    rec.reset_time.setValue(1.0)
    rec.warmup_time.setValue(0.5)
    rec.demonstrator.setChecked(True)
    teleop.disengage_button.click()
    wait_until(app, lambda: host.snapshot().mode.value == "hold", 10,
               f"hold (mode {host.snapshot().mode.value}: {host.snapshot().message})")
    rec.start_button.click()
    wait_until(app, lambda: len(rec.badge_list()) >= 2 and host.snapshot().phase == "episode", 60,
               "two saved episodes and the third running")
    _pump(app, 1.5)
    shot("record")
    wait_until(app, lambda: not teleop.recording, 60, "the recording to end")

    dataset_root = rec.dataset.text()
    ds = window.dataset_page
    window.tabs.setCurrentWidget(ds)
    ds.path.setText(dataset_root)
    ds.open_dataset()
    wait_until(app, lambda: ds.reader is not None and not ds.busy, 30, "the dataset to open")
    ds.table.selectRow(1)
    wait_until(app, lambda: ds.player.episode is not None and ds.player.episode["episode"] == 1, 30,
               "episode 1 to load")
    ds.player.slider.setValue(60)
    ds.player.trim_start.setValue(8)
    ds.player.trim_end.setValue(12)
    shot("dataset")

    train = window.train_page
    ds._train()
    train.out.setText(str(Path(os.environ["ROBOTAPP_HOME"]) / "runs" / "screenshot"))
    train.steps.setValue(120)
    train.save_every.setValue(40)
    train.log_every.setValue(2)
    train.overrides.setText(json.dumps(SMALL_ACT))
    train.start_button.click()
    wait_until(app, lambda: train.job is not None and len(train.job.rows) >= 25, 240, "training to log 25 rows")
    shot("train_running")
    wait_until(app, lambda: not train.job.running and not train._timer.isActive(), 240, "training to end")
    shot("train")

    ev = window.evaluate_page
    ev.episodes.setValue(3)
    ev.episode_time.setValue(3.0)
    for row in range(train.ckpt_list.count()):
        train.ckpt_list.setCurrentRow(row)
        train.eval_button.click()
        ev.start_button.click()
        if row == train.ckpt_list.count() - 1:
            wait_until(app, lambda: ev.job is not None and ev.preview_labels and len(ev.job.outcomes) >= 1, 120,
                       "the evaluation's first episode")
            shot("evaluate_running")
        wait_until(app, lambda: ev.job is None, 240, "the evaluation to end")
    ev.replay.dataset.setText(dataset_root)
    ev.replay.episode.setValue(1)
    ev.replay.replay()
    wait_until(app, lambda: host.snapshot().mode.value == "replay", 30, "the replay to start")
    _pump(app, 1.5)
    shot("evaluate")


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x800") from None
    if width < 640 or height < 480:
        raise argparse.ArgumentTypeError(f"{text} is smaller than 640x480")
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robotapp.gui.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="docs/screenshots", help="folder (a subfolder per size)")
    parser.add_argument("--size", action="append", type=parse_size, metavar="WxH",
                        help="window size, repeatable (default: 1280x800 and 1920x1080)")
    parser.add_argument("--story", action="append", choices=["koch", "so101"],
                        help="which pictures, repeatable (default both): the whole loop on the virtual Koch, or "
                             "the virtual SO-101's Rig and Teleop pages")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MUJOCO_GL", "egl")
    with tempfile.TemporaryDirectory(prefix="robotapp-screenshots-") as home:
        os.environ["ROBOTAPP_HOME"] = home
        take(Path(args.out).resolve(), tuple(args.size or SIZES), tuple(args.story or ("koch", "so101")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
