"""The shell: a header with the rig's name, the state and the E-STOP (always visible; Space whatever has the
focus, see keys.py for the rule and its one exception), the pages, and the status bar. Timers drive everything:
session events are drained into the one shown state (shown_state.py) and handed to the pages, the header and the
status bar are redrawn from that state, and a heartbeat tells the session the window is alive (if the GUI thread
hangs, the session holds the follower). Ctrl+Q quits, asking first only while a recording or a training runs."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from robotapp.core.modes import ACTIVE
from robotapp.core.rig_opener import VIRTUAL, is_virtual_rig
from robotapp.dataset.layout import is_dataset
from robotapp.services.process_rig_host import window_host
from robotapp.services.rig_host import RigHost, saved_rig_exists, settings_path

from .common import AppContext, MessageLine, Watcher, error_text
from .dataset_page import DatasetPage
from .evaluate_page import EvaluatePage
from .keys import SpaceStop, shortcut, takes_text
from .page import Page
from .rig.rig_page import RigPage
from .statusbar import StatusPanel
from .teleop.teleop_page import TeleopPage
from .train_page import TrainPage
from .window_size import fit_to_screen, keep_on_screen

BADGE_STYLE = "font-weight: 700; color: white; border-radius: 5px; padding: 3px 10px; background: {};"
ESTOP_STYLE = ("QPushButton { background: #c62828; color: white; font-weight: 800; font-size: 15px; "
               "padding: 8px 22px; border-radius: 6px; } QPushButton:pressed { background: #8e0000; }")


def startup_rig(last: str | None) -> str:
    """The rig to open at start: the last one if it is a virtual rig or its config is still there, else the
    virtual rig."""
    return last if is_virtual_rig(last) or saved_rig_exists(last) else VIRTUAL


class MainWindow(QMainWindow):
    def __init__(self, host: RigHost | None = None, settings: QSettings | None = None):
        super().__init__()
        self.host = host or window_host()
        if settings is None:
            settings_path().parent.mkdir(parents=True, exist_ok=True)
            settings = QSettings(str(settings_path()), QSettings.Format.IniFormat)
        self.settings = settings
        self.watcher = Watcher(self)
        self.ctx = AppContext(self.host, self.watcher, settings)
        self.setWindowTitle("robotapp")
        fit_to_screen(self)  # a laptop's 1280×800 to a large monitor; a saved geometry replaces it (_restore)

        self.rig_label = QLabel()
        self.rig_label.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.state_badge = QLabel()  # the mode, E-STOP or FAULT, from the one shown state
        self.message = MessageLine()
        self._problem_shown = ""  # the shown state's problem the header line was last given
        self.estop_button = QPushButton("E-STOP  (Space)")
        self.estop_button.setStyleSheet(ESTOP_STYLE)
        self.estop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must never "click" another button
        self.estop_button.clicked.connect(self.estop)
        self.clear_button = QPushButton("Clear E-STOP")
        self.clear_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # cleared by a click only, never by Space
        self.clear_button.clicked.connect(self.clear_estop)
        self.clear_button.setEnabled(False)
        header = QHBoxLayout()
        header.addWidget(self.rig_label)
        header.addWidget(self.state_badge)
        header.addWidget(self.message, 1)
        header.addWidget(self.clear_button)
        header.addWidget(self.estop_button)

        self.tabs = QTabWidget()
        self.rig_page = RigPage(self.ctx)
        self.rig_page.open_requested.connect(self.open_rig)
        self.teleop_page = TeleopPage(self.ctx)
        self.dataset_page = DatasetPage(self.ctx)
        self.train_page = TrainPage(self.ctx)
        self.evaluate_page = EvaluatePage(self.ctx)
        self.train_page.evaluate_requested.connect(self.evaluate_checkpoint)
        self.dataset_page.train_requested.connect(self.train_dataset)
        self.teleop_page.open_dataset_requested.connect(self.show_dataset)
        self.evaluate_page.record_more_requested.connect(self.record_more)
        self.evaluate_page.train_again_requested.connect(self.train_again)
        self.evaluate_page.fine_tune_requested.connect(self.fine_tune)
        self.pages: list[Page] = [self.rig_page, self.teleop_page, self.dataset_page, self.train_page,
                                  self.evaluate_page]
        for page, title in zip(self.pages, ("Rig", "Teleop && Record", "Dataset", "Train", "Evaluate"),
                               strict=True):
            self.tabs.addTab(page, title)  # "&&": a literal & (a single one would mark a mnemonic)
        self.tabs.currentChanged.connect(self._page_shown)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 0)
        layout.addLayout(header)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.status = StatusPanel()
        self.statusBar().addWidget(self.status, 1)

        self._events_timer = QTimer(self, interval=50, timeout=self._dispatch_events)
        self._status_timer = QTimer(self, interval=200, timeout=self.render_state)
        self._heartbeat_timer = QTimer(self, interval=250, timeout=self.host.heartbeat)
        for t in (self._events_timer, self._status_timer, self._heartbeat_timer):
            t.start()
        self._restore()
        self.render_state()
        # Space reaches the E-STOP before any focused widget; a text field or QShortcut cannot swallow it
        self.space_stop = SpaceStop(self, self.estop, self.follower_driven)
        QApplication.instance().installEventFilter(self.space_stop)
        self.quit_shortcut = shortcut(QKeySequence("Ctrl+Q"), self, self.request_quit,
                                      Qt.ShortcutContext.ApplicationShortcut)  # its dialogs too
        self.quit_box: QMessageBox | None = None
        self._closed = False
        self._focus_page()  # not the first field of the chain when the window shows

    # ------------------------------------------------------------------ rig
    def open_rig(self, name: str) -> None:
        self.settings.setValue("rig/last", name)
        self.message.info(f"opening rig {name!r}...")
        self.watcher.watch(self.host.open(name), lambda _: self._rig_opened(),
                           lambda e: self.message.error(error_text(e)))
        self.render_state()

    def open_last_rig(self) -> None:
        """At start: the rig used last time if it is virtual or its config is still there, else the virtual rig."""
        self.open_rig(startup_rig(self.settings.value("rig/last")))

    def _rig_opened(self) -> None:
        self.message.info(f"rig {self.host.rig_name!r} is open")
        for page in self.pages:
            page.on_rig_opened()

    # ------------------------------------------------------------------ page to page
    def evaluate_checkpoint(self, path: str) -> None:
        self.evaluate_page.select_checkpoint(path)
        self.tabs.setCurrentWidget(self.evaluate_page)

    def train_dataset(self, path: str) -> None:
        self.train_page.set_dataset(path)
        self.tabs.setCurrentWidget(self.train_page)

    def show_dataset(self, path: str) -> None:
        """The Dataset page with `path` loaded (a recording just finished into it)."""
        self.dataset_page.open_folder(path)
        self.tabs.setCurrentWidget(self.dataset_page)

    def record_more(self, dataset: str) -> None:
        """More episodes into the dataset the evaluated policy was trained on."""
        self.teleop_page.record.add_to(dataset)
        self.tabs.setCurrentWidget(self.teleop_page)

    def train_again(self, dataset: str, run: str) -> None:
        self.train_page.set_dataset(dataset)
        if run:
            self.train_page.out.setText(run)
        self.tabs.setCurrentWidget(self.train_page)

    def fine_tune(self, run: str, datasets: list) -> None:
        """The Train page filled for a fine-tune of `run` on its demos and an evaluation's corrections."""
        self.train_page.fine_tune(run, list(datasets))
        self.tabs.setCurrentWidget(self.train_page)

    # ------------------------------------------------------------------ e-stop
    def estop(self) -> None:
        evaluation = self.evaluate_page.estop()  # its follower belongs to the evaluation's own session
        if self.host.estop("E-STOP pressed in the window"):
            self.message.error("E-STOP: follower stopped; clear it to continue")
        elif evaluation:
            self.message.error("E-STOP: evaluation stopped; its follower is held")
        else:
            self.message.error("E-STOP: no rig is open")
        self.render_state()

    def follower_driven(self) -> bool:
        """Something drives a follower now (then Space is the E-STOP in a text field as well; keys.py)."""
        session, snap = self.host.session, self.host.snapshot()
        if session is not None and snap is not None and (snap.mode in ACTIVE or session.recording is not None):
            return True
        return self.evaluate_page.driving()

    def clear_estop(self) -> None:
        session = self.host.session
        if session is None:
            return
        self.watcher.watch(session.clear_estop(wait=False), lambda _: self._cleared(),
                           lambda e: self.message.error(error_text(e)))

    def _cleared(self) -> None:
        self._dispatch_events()  # the clear's own event first: the state shown is the one after it
        self.render_state()  # news only if the state agrees: a motor still at fault is shown as the fault
        if not self.ctx.state.view().stopped:
            self.message.info("E-STOP cleared")

    # ------------------------------------------------------------------ quit
    def busy_with(self) -> str:
        """What quitting now would cut short ("" for nothing worth a question)."""
        if self.ctx.state.view().recording or self.teleop_page.starting:
            return "a recording is running (the episode in progress is saved)"
        job = self.train_page.job
        if job is not None and job.running:
            return "a training run is going (it stops and saves a checkpoint)"
        return ""

    def request_quit(self) -> None:
        """Ctrl+Q: close the window (which quits the app), asking first while something would be cut short."""
        busy = self.busy_with()
        if not busy:
            self.close()
            return
        if self.quit_box is not None:  # already asking
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Quit robotapp?", f"Quit now? {busy[0].upper()}{busy[1:]}.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.button(QMessageBox.StandardButton.Yes).setText("Quit")
        box.button(QMessageBox.StandardButton.No).setText("Keep going")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda _: self._quit_answered(box.clickedButton() is
                                                            box.button(QMessageBox.StandardButton.Yes)))
        self.quit_box = box
        box.open()  # not exec(): the window's timers, and the E-STOP, keep running while it asks

    def _quit_answered(self, quit_now: bool) -> None:
        if self.quit_box is not None:
            self.quit_box.deleteLater()
            self.quit_box = None
        if quit_now:
            self.close()

    # ------------------------------------------------------------------ focus
    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 (Qt naming)
        """Tab moves along the chain; a focused control that was disabled or hidden hands the focus to its page
        instead of the next widget (often a text field, its text selected, that Space and jog keys typed into)."""
        fw = QApplication.focusWidget()
        if fw is not None and fw.isEnabled() and fw.isVisible():
            return super().focusNextPrevChild(next)
        self._focus_page()
        return True

    def _page_shown(self, _index: int) -> None:
        """The shown page takes the focus (its keys work at once) unless it already has it, and never in a
        field: Qt would hand the page's first field the focus, text selected."""
        fw, page = QApplication.focusWidget(), self.tabs.currentWidget()
        if takes_text(fw) or fw is None or not (fw is page or page.isAncestorOf(fw)):
            self._focus_page()

    def _focus_page(self) -> None:
        (self.tabs.currentWidget() or self).setFocus(Qt.FocusReason.OtherFocusReason)

    # ------------------------------------------------------------------ timers
    def _dispatch_events(self) -> None:
        events = self.host.drain_events()
        for event in events:
            self.ctx.state.on_event(event)  # first: a page handling the event sees the state it made
            for page in self.pages:
                page.on_event(event)
        if events:
            self.render_state()  # the header and the status bar change with the pages, not up to 200 ms later

    def render_state(self) -> None:
        """The header and the status bar, drawn from the one shown state (timers call it; so may a test)."""
        host = self.host
        kind = (("virtual SO-101" if host.rig_name == "virtual-so101" else "virtual rig") if host.is_virtual
                else f"rig {host.rig_name}" if host.rig_name else "no rig")
        self.rig_label.setText(f"robotapp · {kind}")
        view = self.ctx.state.view()
        self.status.render(view, host)
        self._render_header(view)
        if host.state == "failed" and not self.message.is_error:
            self.message.error(host.error)

    def _render_header(self, view) -> None:
        self.clear_button.setEnabled(view.estop)
        colour = "#c62828" if view.stopped or view.recording else "#ef6c00" if view.outside else \
            "#2e7d32" if view.mode is not None else "#616161"
        self.state_badge.setText(view.badge + (" · doctor: problem" if view.outside and not view.stopped else ""))
        self.state_badge.setStyleSheet(BADGE_STYLE.format(colour))
        problem = view.problem
        if view.stopped and not self.message.is_error:
            self.message.error(problem)  # a stop wins over news: "E-STOP cleared" never shows beside a fault
        elif problem != self._problem_shown:  # announced once; news written later is not overwritten by it
            if problem:
                self.message.error(problem)
            elif self.message.text() == self._problem_shown:
                self.message.clear()  # the problem it named is gone
        self._problem_shown = problem

    # ------------------------------------------------------------------ settings
    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            keep_on_screen(self)  # saved on a bigger monitor, or one that is gone
        self.tabs.setCurrentIndex(int(self.settings.value("window/page", 0)))
        last_dataset = self.dataset_page.path.text().strip()
        if last_dataset and is_dataset(last_dataset):
            self.dataset_page.open_dataset()  # the dataset of last time, loaded again (its path alone is not)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/page", self.tabs.currentIndex())
        for page in self.pages:
            page.save_settings(self.settings)
        self.settings.sync()

    def closeEvent(self, event):  # noqa: N802 (Qt naming)
        if self._closed:  # closed already (Ctrl+Q, then the owner's close): nothing left to shut down
            super().closeEvent(event)
            return
        self._closed = True
        if self.quit_box is not None:
            self.quit_box.done(0)  # closed unanswered (counts as "keep going"): no dialog outlives the window
        QApplication.instance().removeEventFilter(self.space_stop)
        self.save_settings()
        for t in (self._events_timer, self._status_timer, self._heartbeat_timer):
            t.stop()
        for page in self.pages:
            page.shutdown()
        self.watcher.shutdown()
        self.host.shutdown()  # saves a recording's current episode, then closes the rig
        super().closeEvent(event)
