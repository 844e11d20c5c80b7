"""Replay a recorded episode on the open rig's follower: its actions at the dataset fps through the session's
replay mode (the follower first moves slowly to the first action), with the episode's recorded camera views
shown in step, frame by frame, so one sees what the arm is replaying. The episode (its actions and its videos,
small) is read on a worker."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from policies.frame_keys import ACTION_KEY, camera_name
from robotapp.core.modes import Mode
from robotapp.core.replay import ReplaySource

from .camera_views import CameraViews
from .common import MessageLine, error_text

VIEW_HEIGHT = 120  # the recorded views are small: the live previews and the tables keep the room
TICK_MS = 33


class ReplayPanel(QGroupBox):
    def __init__(self, ctx, parent=None):
        super().__init__("Replay a recorded episode on the follower", parent)
        self.ctx = ctx
        self.dataset = QLineEdit()
        self.dataset.setPlaceholderText("dataset folder")
        self.episode = QSpinBox(minimum=0, maximum=1_000_000)
        self.episode.setPrefix("episode ")
        self.replay_button = QPushButton("Replay")
        self.replay_button.clicked.connect(self.replay)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.message = MessageLine()
        self.cameras = CameraViews(caption="recorded · {name}")
        self.cameras.hide()
        self.videos: dict[str, np.ndarray] = {}
        row = QHBoxLayout()
        row.addWidget(self.dataset, 1)
        row.addWidget(self.episode)
        row.addWidget(self.replay_button)
        row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.bar)
        layout.addWidget(self.cameras)
        layout.addWidget(self.message)
        self.source: ReplaySource | None = None
        self._timer = QTimer(self, interval=TICK_MS, timeout=self._tick)

    def replay(self) -> None:
        session = self.ctx.host.session
        if session is None:
            self.message.error("rig: open a rig first (Rig page)")
            return
        path, ep = self.dataset.text().strip(), self.episode.value()
        if not path:
            self.message.error("dataset: give the folder of a recorded dataset")
            return
        self.message.info(f"reading episode {ep}…")
        rig = self.ctx.host.rig_name
        self.ctx.watcher.run(lambda: _read_episode(path, ep, rig), self._go, lambda e: self.message.error(error_text(e)))

    def _go(self, loaded) -> None:
        actions, fps, self.videos = loaded
        self.cameras.set_cameras(list(self.videos))
        self._show_recorded(0)
        session = self.ctx.host.session
        if session is None:
            self.message.error("rig: the rig was closed")
            return
        self.source = ReplaySource(actions, fps)
        self.ctx.watcher.watch(session.run_source(Mode.REPLAY, self.source, wait=False),
                               lambda _: self._started(), lambda e: self.message.error(error_text(e)))

    def _started(self) -> None:
        self.message.info(f"replaying episode {self.episode.value()} ({len(self.source.actions)} frames)")
        self._timer.start()

    def stop(self) -> None:
        session = self.ctx.host.session
        if session is not None and self.source is not None:
            self.ctx.watcher.watch(session.hold(wait=False))

    def _tick(self) -> None:
        src = self.source
        if src is None:
            self._timer.stop()
            return
        self.bar.setValue(int(100 * src.progress))
        self._show_recorded(max(0, src.frame))
        snap = self.ctx.host.snapshot()
        if snap is None or snap.mode != Mode.REPLAY:
            self._timer.stop()
            done = src.progress >= 1.0 - 1e-9 or src.frame + 1 >= len(src.actions)
            if done:
                self.bar.setValue(100)
                self.message.info(f"replayed episode {self.episode.value()}")
            else:
                self.message.error(f"replay ended at frame {max(0, src.frame)}: {getattr(snap, 'message', '')}")

    def _show_recorded(self, k: int) -> None:
        """The recorded cameras at frame k (the first one while the follower moves to the start)."""
        self.cameras.show_images({name: frames[min(k, len(frames) - 1)] for name, frames in self.videos.items()
                                  if len(frames)})


def _read_episode(path: str, ep: int, rig: str):
    """On a worker: the episode's actions, the fps, and each camera's frames scaled to VIEW_HEIGHT; refused when
    the dataset was recorded on another robot than the open rig."""
    from robotapp.dataset import DatasetReader
    from robotapp.eval.robot_match import check_replay_robot_type

    with DatasetReader(path) as r:
        check_replay_robot_type(path, r.robot_type, rig, hint="; open the {} rig on the Rig page")
        videos = {}
        for key in r.video_keys:
            h, w = r.features[key]["shape"][:2]
            size = (VIEW_HEIGHT, int(round(w * VIEW_HEIGHT / h))) if h > VIEW_HEIGHT else None
            videos[camera_name(key)] = r.decode_episode_video(ep, key, size)
        return r.episode_data(ep)[ACTION_KEY].copy(), r.fps, videos
