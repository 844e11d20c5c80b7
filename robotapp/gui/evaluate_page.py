"""Evaluate page: a checkpoint, a rig and a number of episodes -> an evaluation run on a worker
(robotapp/jobs/eval_job.py) with live camera previews. The virtual world judges its own episodes; by hand
(always on a real rig) S / F / P mark success / fail / partial, with a note. The tally carries a 95% interval;
each finished run adds a row to the table comparing checkpoints, which is kept on disk beside the window's settings
and read back at start. A finished run offers "Record more" (into the dataset the policy was trained on) and
"Train again" (that dataset and run, on the Train page). Below: replay a recorded episode."""

from __future__ import annotations

import contextlib
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from robotapp.core.rig_opener import is_virtual_rig
from robotapp.eval.checkpoint_table import read_table, training_origin, write_table
from robotapp.eval.checkpoint_table import rows as table_rows
from robotapp.eval.seeds import EVAL_SEED_BASE
from robotapp.jobs.eval_job import EvalJob, EvalSpec, EvalStopped

from .common import MessageLine, error_text, fill_table, make_table, thumbnail
from .keys import shortcut
from .page import Page
from .replay_panel import ReplayPanel
from .takeover_box import TakeoverBox

PREVIEW_MS = 66
PREVIEW_WIDTH = 300
MARK_KEYS = {"S": "success", "F": "fail", "P": "partial"}
# A new key: "evaluate/seed" held the old default 0 for every window saved before, which would keep the window
# evaluating on the scenes recordings start from.
SEED_KEY = "first_seed"
TABLE_COLUMNS = ["checkpoint", "step", "episodes", "success", "partial", "rate", "95% CI", "mean s"]


class EvaluatePage(Page):
    record_more_requested = Signal(str)  # the dataset to record more episodes into
    train_again_requested = Signal(str, str)  # the dataset and the training run folder
    fine_tune_requested = Signal(str, list)  # the run to start from, the datasets (its demos + the corrections)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.job: EvalJob | None = None
        self.results = []  # EvalResult per finished run, the comparison table's rows (kept in results_path)
        self._results_unreadable = False  # the file on disk did not read back: kept aside before writing it
        self.checkpoint = QLineEdit()
        self.checkpoint.setPlaceholderText("a checkpoint folder (run/checkpoints/<step> or run/last)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        ck_row = QHBoxLayout()
        ck_row.addWidget(self.checkpoint, 1)
        ck_row.addWidget(browse)
        self.rig = QComboBox()
        for name, label in (("virtual", "virtual rig"), ("virtual-so101", "virtual SO-101")):
            self.rig.addItem(f"{label} (lock-step, the world judges)", (name, False))
            self.rig.addItem(f"{label} (real time, judged by hand)", (name, True))
        self.episodes = QSpinBox(minimum=1, maximum=1000, value=10)
        # the first scene: as `robotapp eval`, past every default recording's seeds (robotapp.eval.seeds)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=EVAL_SEED_BASE)
        self.episode_time = QDoubleSpinBox(minimum=0.5, maximum=600, value=20.0, suffix=" s", decimals=1)
        form = QFormLayout()
        form.addRow("Checkpoint", ck_row)
        form.addRow("Rig", self.rig)
        form.addRow("Episodes", self.episodes)
        form.addRow("Seed", self.seed)
        form.addRow("Episode time", self.episode_time)
        self.start_button = QPushButton("Run evaluation")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        self.message = MessageLine()
        self.record_more_button = QPushButton("Record more")
        self.record_more_button.clicked.connect(lambda: self.record_more_requested.emit(self.origin[0]))
        self.train_again_button = QPushButton("Train again")
        self.train_again_button.clicked.connect(lambda: self.train_again_requested.emit(*self.origin))
        self.fine_tune_button = QPushButton("Fine-tune on these corrections")
        self.fine_tune_button.clicked.connect(self._fine_tune)
        self.next_steps = QWidget()  # shown once a run finished whose checkpoint names its dataset
        nx = QHBoxLayout(self.next_steps)
        nx.setContentsMargins(0, 0, 0, 0)
        nx.addWidget(self.record_more_button)
        nx.addWidget(self.train_again_button)
        nx.addWidget(self.fine_tune_button)
        self.next_steps.hide()
        self.origin = ("", "")  # (dataset, training run) of the last finished run's checkpoint
        self.corrections = ""  # the last finished run's recording, when a person or the corrector took over
        self._last_record = None  # where the running (or last) evaluation records its episodes
        self.takeover = TakeoverBox()
        self.takeover.button.clicked.connect(self.toggle_takeover)
        shortcut("T", self, self.toggle_takeover)  # only while the focus is on this page, as S / F / P

        self.mark_box = QGroupBox("Judge the episode (keys S / F / P)")
        self.note = QLineEdit()
        self.note.setPlaceholderText("note (optional; Enter), then S, F or P")
        self.note.returnPressed.connect(self.setFocus)  # typing S in the note is text; after Enter it marks
        mk_col = QVBoxLayout(self.mark_box)
        mk_col.addWidget(self.note)
        mk = QHBoxLayout()
        mk_col.addLayout(mk)
        self.mark_buttons = {}
        for key, outcome in MARK_KEYS.items():
            b = QPushButton(f"{outcome} ({key})")
            b.clicked.connect(lambda _=False, o=outcome: self.mark(o))
            mk.addWidget(b)
            self.mark_buttons[outcome] = b
            shortcut(key, self, partial(self.mark, outcome))  # only while the focus is on this page

        left = QVBoxLayout()
        run_box = QGroupBox("Evaluation")
        rb = QVBoxLayout(run_box)
        rb.addLayout(form)
        rb.addLayout(buttons)
        rb.addWidget(self.message)
        rb.addWidget(self.next_steps)
        left.addWidget(run_box)
        left.addWidget(self.takeover)
        left.addWidget(self.mark_box)
        self.log = QListWidget()
        self.log.setWordWrap(True)  # a long line wraps in the narrow column instead of running off its edge
        self.log.setResizeMode(QListWidget.ResizeMode.Adjust)  # and wraps again when the window is resized
        self.log.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left.addWidget(self.log, 1)
        left_w = QWidget()
        left_w.setLayout(left)
        left_w.setMaximumWidth(480)

        self.tally = QLabel("no evaluation yet")
        self.tally.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.tally.setWordWrap(True)  # a long checkpoint name wraps instead of running off the column
        self.previews = QHBoxLayout()
        self.preview_labels: dict[str, QLabel] = {}
        self.table = make_table(TABLE_COLUMNS)
        self.replay = ReplayPanel(ctx)
        right = QVBoxLayout()
        right.addWidget(self.tally)
        right.addLayout(self.previews)
        right.addWidget(QLabel("Checkpoints compared"))
        right.addWidget(self.table, 1)
        right.addWidget(self.replay)
        layout = QHBoxLayout(self)
        layout.addWidget(left_w)
        layout.addLayout(right, 1)
        self._timer = QTimer(self, interval=PREVIEW_MS, timeout=self._tick)
        self._restore()
        self._update_buttons()

    # ------------------------------------------------------------------ form
    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Checkpoint folder", self.checkpoint.text())
        if path:
            self.checkpoint.setText(path)

    def select_checkpoint(self, path: str) -> None:
        self.checkpoint.setText(path)
        self.message.info(f"checkpoint {path} selected")

    def on_rig_opened(self) -> None:
        name = self.ctx.host.rig_name
        if name and not is_virtual_rig(name) and self.rig.findText(f"rig {name}", Qt.MatchFlag.MatchStartsWith) < 0:
            self.rig.addItem(f"rig {name} (real time, judged by hand; the rig is closed for the run)", (name, True))

    def spec(self) -> EvalSpec:
        rig, by_hand = self.rig.currentData()
        return EvalSpec(checkpoint=self.checkpoint.text().strip(), episodes=self.episodes.value(),
                        seed=self.seed.value(), episode_time=self.episode_time.value(), rig=rig,
                        by_hand=by_hand or not is_virtual_rig(rig), fast=not by_hand and is_virtual_rig(rig),
                        corrections=self.takeover.corrector.isChecked() and is_virtual_rig(rig),
                        record="" if self.takeover.record.isChecked() else None)

    # ------------------------------------------------------------------ run
    def start(self) -> None:
        if self.job is not None:
            self.message.error("an evaluation is running: stop it first")
            return
        try:
            job = EvalJob(self.spec())
        except ValueError as e:
            self.message.error(error_text(e))
            return
        self.job = job
        self.log.clear()
        self._clear_previews()
        host = self.ctx.host
        if not is_virtual_rig(job.spec.rig) and host.rig_name == job.spec.rig and host.state != "closed":
            self.message.info(f"closing rig {job.spec.rig} for the evaluation…")
            self.ctx.watcher.watch(host.close(), lambda _: self._launch(job), self._failed)
        else:
            self._launch(job)
        self._update_buttons()

    def _launch(self, job: EvalJob) -> None:
        self._last_record = job.record
        self.message.info(f"evaluating {job.spec.checkpoint} on {job.spec.episodes} episode(s)…")
        self.ctx.watcher.watch(job.start(), self._finished, self._failed)
        self._timer.start()
        self._tick()  # the header says which episode runs from the start, not "no evaluation yet"

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
            self.message.info("stopping after this episode…")

    def driving(self) -> bool:
        """An evaluation is running an episode (or about to): not while it waits for a person's mark."""
        return self.job is not None and self.job.waiting_for_mark is None

    def estop(self) -> bool:
        """The window's E-STOP: the evaluation's follower is stopped by its own session's e-stop and the run
        ends. Returns whether one was running."""
        if self.job is None:
            return False
        self.job.estop("E-STOP pressed in the window")
        self.message.error("E-STOP: evaluation stopped")
        return True

    def toggle_takeover(self) -> None:
        job = self.job
        if job is None:
            self.message.error("take over: no evaluation is running")
            return
        taken = job.toggle_takeover()
        self.message.info("taken over from the policy" if taken else "handed back to the policy")
        self.takeover.show_job(job, is_virtual_rig(job.spec.rig))

    def _fine_tune(self) -> None:
        dataset, run = self.origin
        if run and self.corrections:
            self.fine_tune_requested.emit(run, [d for d in (dataset, self.corrections) if d])

    def mark(self, outcome: str) -> None:
        job = self.job
        if job is None or job.waiting_for_mark is None:
            self.message.error("judge: no episode is waiting for a mark")
            return
        episode = job.waiting_for_mark
        job.mark(outcome, self.note.text().strip())
        self.note.clear()
        self.message.info(f"episode {episode + 1} marked {outcome}")

    def _finished(self, result) -> None:
        self._tick()
        self.job = None
        self._timer.stop()
        self.results.append(result)
        self._fill_table()
        saved = self._save_results()
        reopen = "; reopen the rig on the Rig page" if not is_virtual_rig(result.rig) else ""
        self.message.info(f"{result.summary()} — {result.policy}{reopen}")
        if saved:
            self.message.error(saved)
        taken_over = any(e.interventions for e in result.episodes)
        self.corrections = str(self._last_record) if self._last_record and taken_over else ""
        self._offer_next_steps(result.policy)
        self._update_buttons()

    def _offer_next_steps(self, policy: str) -> None:
        self.origin = training_origin(policy)
        dataset, run = self.origin
        self.next_steps.setVisible(bool(dataset))
        self.fine_tune_button.setVisible(bool(run and self.corrections))
        self.fine_tune_button.setToolTip(f"fine-tune {run} on {dataset} and the corrections in {self.corrections}")
        self.record_more_button.setToolTip(f"record more episodes into {dataset}")
        self.train_again_button.setToolTip(f"train on {dataset} again" + (f" (run {run})" if run else ""))

    def _failed(self, exc: BaseException) -> None:
        self._tick()
        self.job = None
        self._timer.stop()
        if isinstance(exc, EvalStopped):
            self.message.info("evaluation stopped")
        else:
            self.message.error(f"evaluation: {error_text(exc)}")
        self._update_buttons()

    def _tick(self) -> None:
        job = self.job
        if job is None:
            return
        while self.log.count() < len(job.lines):
            self.log.addItem(job.lines[self.log.count()])
            self.log.scrollToBottom()
        self.tally.setText(tally_text(job))
        self.mark_box.setEnabled(job.waiting_for_mark is not None)
        self.takeover.show_job(job, is_virtual_rig(job.spec.rig))
        rig = job.rig
        if rig is not None and self.isVisible():
            for name, cam in list(rig.cameras.items()):
                try:
                    image = cam.read_latest().image
                except Exception:  # the rig closed between two lines: the next tick has no rig
                    continue
                label = self.preview_labels.get(name)
                if label is None:
                    label = self.preview_labels[name] = QLabel()
                    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                    label.setToolTip(name)
                    self.previews.addWidget(label)
                label.setPixmap(thumbnail(image, PREVIEW_WIDTH))

    def _clear_previews(self) -> None:
        """A new run may have other cameras: the old labels go at once (hidden now, deleted later)."""
        for label in self.preview_labels.values():
            self.previews.removeWidget(label)
            label.hide()
            label.deleteLater()
        self.preview_labels.clear()

    def _fill_table(self) -> None:
        rows = []
        for row in table_rows(self.results):
            rows.append([_short(row["policy"]), row["step"] if row["step"] is not None else "", row["episodes"],
                         row["successes"], row["partial"], f"{100 * row['rate']:.0f}%",
                         f"[{100 * row['ci95_low']:.0f}%, {100 * row['ci95_high']:.0f}%]",
                         f"{row['mean_episode_s']:.1f}"])
        fill_table(self.table, rows)

    def _update_buttons(self) -> None:
        running = self.job is not None
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.next_steps.setEnabled(not running)
        self.mark_box.setEnabled(running and self.job.waiting_for_mark is not None)
        if not running:
            self.takeover.show_job(None, False)

    # ------------------------------------------------------------------ kept for next time
    @property
    def results_path(self) -> Path:
        """The comparison table on disk (plus a .csv beside it), next to the window's settings file."""
        return Path(self.ctx.settings.fileName()).parent / "evaluations.json"

    def _restore(self) -> None:
        s = self.ctx.settings
        self.checkpoint.setText(str(s.value("evaluate/checkpoint", "") or ""))
        for key, box, kind in (("episodes", self.episodes, int), (SEED_KEY, self.seed, int),
                               ("episode_time", self.episode_time, float)):
            with contextlib.suppress(TypeError, ValueError):  # else the field keeps its default
                box.setValue(kind(s.value(f"evaluate/{key}", box.value())))
        with contextlib.suppress(TypeError, ValueError):  # one of the virtual rig's choices (a named rig's
            self.rig.setCurrentIndex(min(max(int(s.value("evaluate/virtual_choice", 0)), 0), 1))  # comes later)
        path = self.results_path
        if not path.exists():
            return
        try:
            self.results = read_table(path)
        except ValueError as e:
            self._results_unreadable = True
            self.message.error(f"saved evaluations: {error_text(e)}")
            return
        self._fill_table()
        if self.results:
            last = self.results[-1]
            lo, hi = last.interval
            self.tally.setText(f"last evaluation: {success_text(last.successes, len(last.episodes), lo, hi)} — "
                               f"{_short(last.policy)}")
            self._offer_next_steps(last.policy)

    def _save_results(self) -> str:
        """Writes the table; returns a problem in one line ("" when saved). A file that did not read back is
        moved aside first, never overwritten."""
        path = self.results_path
        try:
            if self._results_unreadable and path.exists():
                aside = path.with_name(f"{path.stem}.unreadable{path.suffix}")
                path.replace(aside)
                self._results_unreadable = False
            write_table(self.results, path.with_suffix(""))
        except OSError as e:
            return f"saved evaluations: could not write {path}: {error_text(e)}"
        return ""

    def save_settings(self, settings) -> None:
        settings.setValue("evaluate/checkpoint", self.checkpoint.text().strip())
        settings.setValue("evaluate/episodes", self.episodes.value())
        settings.setValue(f"evaluate/{SEED_KEY}", self.seed.value())
        settings.setValue("evaluate/episode_time", self.episode_time.value())
        settings.setValue("evaluate/virtual_choice", self.rig.currentIndex() if self.rig.currentIndex() < 2 else 0)

    def shutdown(self) -> None:
        self._timer.stop()
        if self.job is not None:
            self.job.stop()


def success_text(s: int, n: int, lo: float, hi: float) -> str:
    return f"{s}/{n} success ({100 * s / n:.0f}%, 95% CI [{100 * lo:.0f}%, {100 * hi:.0f}%])"


def tally_text(job) -> str:
    """The header while a run goes: which episode runs (or waits for a mark) and the successes so far, counted
    over the episodes judged; at the end, the tally with its interval."""
    s, n, lo, hi = job.tally()
    total, waiting = job.spec.episodes, job.waiting_for_mark
    so_far = success_text(s, n, lo, hi) if n else ""
    if waiting is not None:
        return f"episode {waiting + 1}/{total}: press S, F or P" + (f"  ·  {so_far} so far" if so_far else "")
    if n < total and not (job.future is not None and job.future.done()):
        return f"episode {n + 1}/{total} running" + (f"  ·  {so_far} so far" if so_far else "")
    return f"{so_far} of {total}" if so_far else f"no episode judged of {total}"


def _short(policy: str) -> str:
    """run/checkpoints/000040 -> run/000040 (the full path is in the log and the tooltip-free table stays narrow)."""
    p = Path(policy)
    return f"{p.parent.parent.name}/{p.name}" if p.parent.name == "checkpoints" else p.name
