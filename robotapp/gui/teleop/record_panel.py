"""Recording controls: the form (dataset, task, times, number of episodes), start / next / re-record / stop, the
phase with its countdown, one telemetry badge per saved episode (green, or amber when flagged), and once a
recording has saved episodes "Open in Dataset". The form is kept in the window's settings for the next start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from robotapp.dataset.layout import is_dataset
from robotapp.services.record_request import RecordRequest
from robotapp.services.rig_host import default_dataset_dir

from ..common import MessageLine

DEFAULT_TASK = "pick up the red cube and put it in the green zone"
PHASE_STYLE = {  # background per phase: the phase must be readable from across the room
    "warmup": "#f9a825", "episode": "#c62828", "reset": "#1565c0", "saving": "#6a1b9a", "done": "#2e7d32",
    "": "#616161"}
PHASE_WORDS = {"warmup": "GET READY", "episode": "RECORDING", "reset": "RESET THE SCENE", "saving": "SAVING",
               "done": "FINISHING"}


def _seconds(label: str, value: float, maximum: float, minimum: float = 0.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(minimum, maximum)
    box.setDecimals(1)
    box.setPrefix(f"{label} ")
    box.setSuffix(" s")
    box.setValue(value)
    box.setToolTip(f"{label} time in seconds")
    return box


class RecordPanel(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("Record", parent)
        self.dataset = QLineEdit(str(default_dataset_dir() / "pick_cube"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.dataset, 1)
        row.addWidget(browse)
        self.resume = QCheckBox("Add to existing dataset")
        self.task = QLineEdit(DEFAULT_TASK)
        self.episode_time = _seconds("episode", 20.0, 3600.0, 0.5)
        self.reset_time = _seconds("reset", 5.0, 600.0)
        self.warmup_time = _seconds("warm-up", 2.0, 600.0)
        times = QHBoxLayout()
        for box in (self.episode_time, self.reset_time, self.warmup_time):
            times.addWidget(box)
        self.episodes = QSpinBox()
        self.episodes.setRange(1, 10000)
        self.episodes.setValue(10)
        self.align = QCheckBox("Move the follower onto the leader first")
        self.align.setChecked(True)
        self.demonstrator = QCheckBox("Demonstrator drives the leader (virtual rig)")
        form = QFormLayout()
        form.addRow("Dataset folder", row)
        form.addRow("", self.resume)
        form.addRow("Task", self.task)
        form.addRow("Times", times)
        form.addRow("Episodes", self.episodes)
        form.addRow("", self.align)
        form.addRow("", self.demonstrator)
        self.form_widgets = [self.dataset, browse, self.resume, self.task, self.episode_time, self.reset_time,
                             self.warmup_time, self.episodes, self.align, self.demonstrator]

        self.start_button = QPushButton("Start recording")
        self.next_button = QPushButton("Next →")
        self.rerecord_button = QPushButton("Re-record ←")
        self.stop_button = QPushButton("Stop (Esc)")
        self.open_dataset_button = QPushButton("Open in Dataset")
        self.open_dataset_button.setToolTip("the dataset just recorded, on the Dataset page")
        self.open_dataset_button.hide()  # offered once a recording saved episodes
        self.recorded = ""  # the dataset the last recording saved episodes into
        buttons = QHBoxLayout()
        for b in (self.start_button, self.next_button, self.rerecord_button, self.stop_button):
            buttons.addWidget(b)
        self.phase = QLabel()
        self.phase.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.phase.setMinimumHeight(44)
        self.message = MessageLine()
        self.badges = QWidget()
        self.badge_row = QHBoxLayout(self.badges)
        self.badge_row.setContentsMargins(0, 0, 0, 0)
        self.badge_row.addStretch(1)
        badge_scroll = QScrollArea()
        badge_scroll.setWidget(self.badges)
        badge_scroll.setWidgetResizable(True)
        badge_scroll.setFixedHeight(44)
        badge_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.phase)
        layout.addWidget(QLabel("Saved episodes (hover for telemetry):"))
        layout.addWidget(badge_scroll)
        layout.addWidget(self.message)
        layout.addWidget(self.open_dataset_button)
        self.show_phase("", 0.0, 0, 0)
        self.set_recording(False)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.dataset.text())
        if folder:
            self.dataset.setText(folder)

    def request(self) -> RecordRequest:
        return RecordRequest(self.dataset.text(), self.task.text(), self.episodes.value(),
                             self.episode_time.value(), self.reset_time.value(), self.warmup_time.value(),
                             self.resume.isChecked(), self.demonstrator.isChecked() and self.demonstrator.isEnabled(),
                             self.align.isChecked())

    def set_virtual(self, virtual: bool) -> None:
        self.demonstrator.setEnabled(virtual and not self._recording)
        self.demonstrator.setVisible(virtual)

    def recording_finished(self, dataset: str, saved: int) -> None:
        """A recording into `dataset` ended: offer it on the Dataset page; more episodes go into it next time."""
        if saved > 0 or is_dataset(dataset):
            self.recorded = dataset
            self.open_dataset_button.show()
        if is_dataset(dataset) and self.dataset.text().strip() == dataset:
            self.resume.setChecked(True)  # the folder holds a dataset now: a new one there would be refused

    def add_to(self, dataset: str) -> None:
        """Set the form to add episodes to `dataset` (Evaluate's "Record more")."""
        if self._recording:
            self.message.error(f"Dataset folder: a recording is running; stop it to record into {dataset}")
            return
        self.dataset.setText(dataset)
        self.resume.setChecked(is_dataset(dataset))
        self.message.info(f"more episodes go into {dataset}: press Start recording")

    @property
    def locked(self) -> bool:
        """The form is locked for a recording (set_recording)."""
        return self._recording

    def set_recording(self, recording: bool) -> None:
        self._recording = recording
        for w in self.form_widgets:
            w.setEnabled(not recording)
        self.start_button.setEnabled(not recording)
        for b in (self.next_button, self.rerecord_button, self.stop_button):
            b.setEnabled(recording)

    def show_phase(self, phase: str, remaining: float, episode: int, target: int) -> None:
        words = PHASE_WORDS.get(phase, "NOT RECORDING")
        if phase in ("warmup", "episode", "reset"):
            number = f"  ·  episode {min(episode + 1, target)}/{target}" if target else ""
            text = f"{words}{number}  ·  {remaining:4.1f} s"
        elif phase:
            text = f"{words}  ·  {episode}/{target} saved"
        else:
            text = words
        self.phase.setText(text)
        self.phase.setStyleSheet(f"background: {PHASE_STYLE.get(phase, '#616161')}; color: white; "
                                 f"font-size: 17px; font-weight: 700; border-radius: 6px; padding: 6px;")

    def add_badge(self, episode_index: int, summary: str, telemetry: dict, flagged: bool) -> QLabel:
        hz = telemetry.get("loop_hz", 0.0)
        text = f"ep {episode_index} · {telemetry.get('frames', 0)} fr · {hz:.0f} Hz" + (" · ⚑" if flagged else " ✓")
        badge = QLabel(text)
        color = "#ef6c00" if flagged else "#2e7d32"
        badge.setStyleSheet(f"background: {color}; color: white; border-radius: 9px; padding: 3px 8px;")
        flags = telemetry.get("flags") or []
        badge.setToolTip(summary + ("\n\nFlags:\n- " + "\n- ".join(flags) if flags else ""))
        badge.setProperty("flagged", flagged)
        self.badge_row.insertWidget(self.badge_row.count() - 1, badge)
        return badge

    def badge_list(self) -> list[QLabel]:
        return [self.badge_row.itemAt(i).widget() for i in range(self.badge_row.count() - 1)]

    def clear_badges(self) -> None:
        for badge in self.badge_list():
            badge.setParent(None)
            badge.deleteLater()

    # -- settings -----------------------------------------------------------------------------------------------
    def restore(self, settings) -> None:
        """The form as saved last time; a value that does not read back keeps the field's default."""
        def get(key, default, kind):
            value = settings.value(f"record/{key}")
            try:
                return kind(value) if value is not None else default
            except (TypeError, ValueError):
                return default
        self.dataset.setText(get("dataset", self.dataset.text(), str))
        self.task.setText(get("task", self.task.text(), str))
        self.episode_time.setValue(get("episode_time", self.episode_time.value(), float))
        self.reset_time.setValue(get("reset_time", self.reset_time.value(), float))
        self.warmup_time.setValue(get("warmup_time", self.warmup_time.value(), float))
        self.episodes.setValue(get("episodes", self.episodes.value(), int))
        for key, box in self._checks():
            box.setChecked(get(key, "true" if box.isChecked() else "false", str) == "true")
        recorded = get("recorded", "", str)
        if recorded and is_dataset(recorded):
            self.recorded = recorded
            self.open_dataset_button.show()

    def save(self, settings) -> None:
        """Into the window's settings (also at each start, so a crash mid-recording keeps them)."""
        for key, value in (("dataset", self.dataset.text()), ("task", self.task.text()),
                           ("episode_time", self.episode_time.value()), ("reset_time", self.reset_time.value()),
                           ("warmup_time", self.warmup_time.value()), ("episodes", self.episodes.value()),
                           ("recorded", self.recorded)):
            settings.setValue(f"record/{key}", value)
        for key, box in self._checks():
            settings.setValue(f"record/{key}", "true" if box.isChecked() else "false")

    def _checks(self) -> tuple[tuple[str, QCheckBox], ...]:
        return (("resume", self.resume), ("align", self.align), ("demonstrator", self.demonstrator))
