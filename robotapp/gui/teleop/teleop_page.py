"""Teleop & Record page: camera previews and leader-vs-follower plots on the left; teleop (with the align
check), recording and, on the virtual rig, the virtual leader's hand on the right. In-window keys while the page
is shown: → next episode (or skip the wait), ← re-record, Esc stop; Q/A … Y/H jog the virtual leader while the
focus is in the page (a click on it; never while the focus is on another page). The mode, the alignment and
whether a recording runs are rendered from the window's one shown state (shown_state.py), never kept here."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from robotapp.core.events import EpisodeSaved, Event, Kind, ModeChanged, Reason, RecordingDone
from robotapp.core.modes import Mode
from robotapp.core.telemetry import too_many_held
from robotapp.gui.common import ERROR_STYLE, MessageLine, error_text
from robotapp.gui.keys import shortcut
from robotapp.gui.page import Page
from robotapp.gui.teleop.joint_plots import JointPlots
from robotapp.gui.teleop.leader_panel import JOG_KEYS, LeaderPanel
from robotapp.gui.teleop.previews import CameraPreviews
from robotapp.gui.teleop.record_panel import RecordPanel

ENGAGED = {Mode.TELEOP, Mode.ALIGN, Mode.RECORD}
MODE_WORDS = {  # what the follower does in each mode, under the mode's name
    Mode.IDLE: "the follower is free", Mode.HOLD: "the follower holds its pose",
    Mode.ALIGN: "moving the follower slowly onto the leader; it engages when aligned",
    Mode.TELEOP: "the follower copies the leader", Mode.RECORD: "the follower copies the leader",
    Mode.REPLAY: "a recorded episode drives the follower", Mode.POLICY: "a policy drives the follower"}


class TeleopPage(Page):
    open_dataset_requested = Signal(str)  # a dataset folder, for the Dataset page

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the page takes the keys, not a stray button
        self.previews = CameraPreviews(ctx.host)
        self.plots = JointPlots(ctx.host)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.previews)
        left.addWidget(self.plots)
        left.setSizes([360, 420])

        self.mode_label = QLabel("mode: -")
        self.mode_label.setStyleSheet("font-weight: 600;")
        self.mode_label.setWordWrap(True)  # a long fault message must not widen the side panel past the window
        self.engage_button = QPushButton("Engage teleop")
        self.align_button = QPushButton("Align slowly, then engage")
        self.disengage_button = QPushButton("Disengage (hold)")
        self.engage_button.clicked.connect(lambda: self.engage(align=False))
        self.align_button.clicked.connect(lambda: self.engage(align=True))
        self.disengage_button.clicked.connect(self.disengage)
        self.teleop_message = MessageLine()
        teleop = QGroupBox("Teleop")
        tl = QVBoxLayout(teleop)
        row = QHBoxLayout()
        for b in (self.engage_button, self.align_button, self.disengage_button):
            row.addWidget(b)
        tl.addWidget(self.mode_label)
        tl.addLayout(row)
        tl.addWidget(self.teleop_message)

        self.record = RecordPanel()
        self.record.start_button.clicked.connect(self.start_recording)
        self.record.next_button.clicked.connect(self.next_episode)
        self.record.rerecord_button.clicked.connect(self.rerecord)
        self.record.stop_button.clicked.connect(self.stop_recording)
        self.record.open_dataset_button.clicked.connect(
            lambda: self.open_dataset_requested.emit(self.record.recorded))
        self.record.restore(ctx.settings)
        self.leader_panel = LeaderPanel(ctx)

        side = QWidget()  # scrolls on a short screen: the record form and the virtual leader's hand
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 6, 0)
        for w in (self.record, self.leader_panel):
            sl.addWidget(w)
        sl.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        column = QWidget()  # the mode and the teleop buttons stay in view above what scrolls
        cl = QVBoxLayout(column)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(teleop)
        cl.addWidget(scroll, 1)
        column.setMinimumWidth(470)
        column.setMaximumWidth(520)
        layout = QHBoxLayout(self)
        layout.addWidget(left, 1)
        layout.addWidget(column)

        self.shortcuts = {}
        for key, fn in ((Qt.Key.Key_Right, self.next_episode), (Qt.Key.Key_Left, self.rerecord),
                        (Qt.Key.Key_Escape, self.stop_recording)):
            self.shortcuts[key] = QShortcut(QKeySequence(key), self, fn)
        # jog keys only while the focus is in this page (a field in it still takes its letters as text)
        self.jog_shortcuts = []
        for k, (up, down) in enumerate(JOG_KEYS):
            for key, sign in ((up, 1), (down, -1)):
                self.jog_shortcuts.append(shortcut(key, self, partial(self.leader_panel.jog, k, sign)))
        self.starting = False  # Start was pressed and the session has not answered yet
        self._recording_into = ""  # the dataset of the recording started from this page
        self.timer = QTimer(self, interval=100, timeout=self.refresh)
        self.timer.start()

    @property
    def session(self):
        return self.ctx.host.session

    @property
    def recording(self) -> bool:
        """A recording is starting or runs (the session's, as the whole window shows it)."""
        return self.starting or self.ctx.state.view().recording

    def _command(self, what: str, fn, on_ok=None) -> None:
        """Send a session command without waiting; its refusal comes back as the one-line message."""
        if self.session is None:
            self.teleop_message.error(f"{what}: no rig is open")
            return
        try:
            fut = fn(self.session)
        except RuntimeError as e:
            self.teleop_message.error(f"{what}: {error_text(e)}")
            return
        self.ctx.watcher.watch(fut, on_ok, lambda e: self._refused(what, e))

    def _refused(self, what: str, e: BaseException) -> None:
        target = self.record.message if what in ("Next", "Re-record", "Stop") else self.teleop_message
        target.error(f"{what}: {error_text(e)}")

    # -- teleop -------------------------------------------------------------------------------------------------
    def engage(self, align: bool) -> None:
        self.teleop_message.info("moving the follower slowly onto the leader…" if align else "engaging…")
        self._command("Align check", lambda s: s.teleop(align=align, wait=False), lambda _: self._engaged())

    def _engaged(self) -> None:
        self.teleop_message.clear()  # the mode line says what the follower does now
        self.refresh()

    def disengage(self) -> None:
        self._command("Disengage", lambda s: s.hold(wait=False),
                      lambda _: self.teleop_message.info("disengaged: the follower holds its pose"))

    # -- recording ----------------------------------------------------------------------------------------------
    def start_recording(self) -> None:
        request = self.record.request()
        problems = request.problems(is_virtual=self.ctx.host.is_virtual)
        if problems:
            self.record.message.error(str(problems[0]))
            return
        if not self.ctx.host.is_open:
            self.record.message.error("Rig: no rig is open; open one on the Rig page")
            return
        self.record.message.info("starting…")
        self.record.save(self.ctx.settings)  # kept now, not only when the window closes
        self.starting = True
        self._recording_into = request.dataset.strip()
        self.record.set_recording(True)
        self.record.clear_badges()
        self.setFocus()  # → ← Esc reach the page's shortcuts
        self.ctx.watcher.watch(self.ctx.host.start_recording(request), lambda _: self._started(request),
                               self._start_failed)

    def _started(self, request) -> None:
        self.starting = False
        self.record.message.info(f"recording into {request.dataset}: → next, ← re-record, Esc stop")

    def _start_failed(self, e: BaseException) -> None:
        self.starting = False
        self.record.set_recording(False)
        self.record.message.error(f"Start: {error_text(e)}")

    def next_episode(self) -> None:
        if self.isVisible() and self.recording:
            self._command("Next", lambda s: s.next_episode(wait=False))

    def rerecord(self) -> None:
        if self.isVisible() and self.recording:
            self._command("Re-record", lambda s: s.rerecord(wait=False))

    def stop_recording(self) -> None:
        if self.isVisible() and self.recording:
            self._command("Stop", lambda s: s.stop_recording(wait=False))

    # -- events and timers --------------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        if isinstance(event, ModeChanged):  # a command's news is old once the mode changed: the mode line says it
            self.teleop_message.clear()
        if isinstance(event, EpisodeSaved):
            self.record.add_badge(event.episode, event.message, event.telemetry, event.flagged)
            held = int(event.telemetry.get("held_frames", 0))
            if too_many_held(event.frames, held):  # its time is right, but a tenth of it may be one still image
                self.record.message.error(
                    f"episode {event.episode}: {held} of {event.frames} frames held while the computer was busy; "
                    f"press Re-record (←) during the reset to record it again")
        elif event.kind == Kind.EPISODE_DISCARDED:
            self.record.message.error(event.message)
        elif isinstance(event, RecordingDone):
            self.record.set_recording(False)
            text = f"{event.message}; {event.saved} episode(s) saved"
            if event.reason in (Reason.COMPLETED, Reason.STOPPED):  # finished, or stopped by the user
                self.record.message.info(text)
            else:  # ended by an e-stop, a fault, the watchdog...
                self.record.message.error(text)
            if self._recording_into:
                self.record.recording_finished(self._recording_into, event.saved)
        if isinstance(event, ModeChanged | RecordingDone):
            self.refresh()  # with the header and the status bar, not up to a timer tick later

    def refresh(self) -> None:
        host = self.ctx.host
        virtual = host.is_virtual
        self.record.set_virtual(virtual)
        self.leader_panel.setVisible(virtual)
        demo_recording = self.recording and self.record.demonstrator.isChecked()
        self.leader_panel.setEnabled(virtual and not demo_recording)
        view = self.ctx.state.view()
        if view.mode is None:
            self.mode_label.setText(f"mode: - (rig {host.state})")
            self.mode_label.setStyleSheet("font-weight: 600;")
            return
        if view.stopped:  # the fault (or e-stop) now, in red; never a fault that is over
            words = view.session_fault or view.problem
            self.mode_label.setStyleSheet(f"font-weight: 600; {ERROR_STYLE}")
        else:
            words = MODE_WORDS.get(view.mode, "")
            self.mode_label.setStyleSheet("font-weight: 600;")
        self.mode_label.setText(f"mode: {view.mode.value}" + (f" — {words}" if words else ""))
        engaged = view.mode in ENGAGED
        recording = self.starting or view.recording
        self.engage_button.setEnabled(not engaged and not recording)
        self.align_button.setEnabled(not engaged and not recording)
        self.disengage_button.setEnabled(view.mode in (Mode.TELEOP, Mode.ALIGN) and not recording)
        if recording != self.record.locked:
            self.record.set_recording(recording)  # the form follows the session, whoever started or ended it
        self.record.show_phase(view.phase if view.recording else "", view.phase_remaining, view.episode,
                               view.episodes_target)

    def save_settings(self, settings) -> None:
        self.record.save(settings)
