"""Train page: datasets (one, or several trained together with their shares), policy, preset and steps, from
scratch or fine-tuning a run (`fine_tune(run, datasets)` fills the form for that) -> a training run in a separate process (the CLI's trainer, see
robotapp/jobs/training_job.py). A timer tails its train_log.csv: the loss curve, it/s and ETA, the checkpoint
list. Stop sends SIGTERM (the trainer saves the step it reached); Resume continues the run from its last
checkpoint; "Evaluate this checkpoint" opens the Evaluate page with it selected.

Before the first logged step (loading torch, the dataset, the frame cache) the progress line says what the
trainer is doing, with the seconds so far. What the trainer prints (library warnings included) stays in the
run's log file, named under the chart, never shown raw. The runs already on disk are listed with their curves,
and the one shown last is shown again next time."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from robotapp.core.field_error import FieldError, raise_first
from robotapp.jobs.training_job import (
    OUTPUT_FILE,
    POLICIES,
    PRESETS,
    TrainingJob,
    TrainSpec,
    checkpoints,
    default_processes,
    read_log,
)
from robotapp.services.rig_host import default_dataset_dir

from .common import MessageLine, error_text
from .loss_plot import LossPlot
from .page import Page
from .train_runs import CompactList, RunsList
from .train_sources import FINE_TUNE_TIP, WEIGHTS_TIP, DatasetList, FolderField, fine_tune_folder

POLL_MS = 250


def default_runs_dir() -> Path:
    return default_dataset_dir().parent / "runs"


class TrainPage(Page):
    evaluate_requested = Signal(str)  # a checkpoint folder

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.job: TrainingJob | None = None
        self.dataset = QLineEdit()
        self.dataset.setPlaceholderText("a LeRobot v3.0 dataset folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_dataset)
        ds_row = QHBoxLayout()
        ds_row.addWidget(self.dataset, 1)
        ds_row.addWidget(browse)
        self.more_datasets = DatasetList(lambda: self.dataset.text() or str(default_dataset_dir()))
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("balanced")
        self.weights.setToolTip(WEIGHTS_TIP)
        self.fine_tune_from = FolderField("(empty: from scratch) a run or checkpoint folder", "Fine-tune from",
                                          lambda: str(default_runs_dir()))
        self.fine_tune_from.setToolTip(FINE_TUNE_TIP)
        self.policy = QComboBox()
        self.policy.addItems(list(POLICIES))
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.steps = QSpinBox(minimum=1, maximum=10_000_000, value=2000, singleStep=100)
        self.save_every = QSpinBox(minimum=0, maximum=10_000_000, value=500, singleStep=100)
        self.log_every = QSpinBox(minimum=1, maximum=100_000, value=10)
        self.processes = QSpinBox(minimum=1, maximum=64, value=default_processes())
        self.processes.setToolTip("training processes working in parallel (data parallel); one per core is fastest")
        self.out = QLineEdit()
        self.out.setPlaceholderText(str(default_runs_dir() / "act-run"))
        self.overrides = QLineEdit()
        self.overrides.setPlaceholderText('config overrides as JSON, e.g. {"chunk_size": 50}')
        for spin in (self.steps, self.save_every, self.log_every, self.processes):
            spin.setMinimumWidth(110)  # 7-digit step counts fit without being cut
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow: labels above their fields
        form.setVerticalSpacing(8)
        form.addRow("Dataset", ds_row)
        form.addRow("More datasets", self.more_datasets)
        form.addRow("Weights", self.weights)
        form.addRow("Fine-tune from", self.fine_tune_from)
        form.addRow("Policy", self.policy)
        form.addRow("Preset", self.preset)
        form.addRow("Steps", self.steps)
        form.addRow("Checkpoint every", self.save_every)
        form.addRow("Log every", self.log_every)
        form.addRow("Processes", self.processes)
        form.addRow("Run folder", self.out)
        form.addRow("Overrides", self.overrides)

        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.stop_button = QPushButton("Stop (saves a checkpoint)")
        self.stop_button.clicked.connect(self.stop)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        buttons = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(b)
        self.message = MessageLine()
        self.progress = QLabel("no run")
        self.progress.setStyleSheet("font-size: 14px; font-weight: 600;")
        self.progress.setWordWrap(True)
        self.log_note = QLabel()  # where the trainer's own output (warnings included) is kept
        self.log_note.setStyleSheet("color: #555;")
        self.log_note.setWordWrap(True)
        self.log_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.runs = RunsList()
        self.runs.run_selected.connect(self.show_run)
        self.ckpt_list = CompactList()
        self.ckpt_list.setMinimumHeight(90)
        self.eval_button = QPushButton("Evaluate this checkpoint")
        self.eval_button.clicked.connect(self._evaluate_selected)
        ckpt_box = QGroupBox("Checkpoints of this run")
        cb = QVBoxLayout(ckpt_box)
        cb.addWidget(self.ckpt_list, 1)
        cb.addWidget(self.eval_button)

        run_box = QGroupBox("Training run")
        rb = QVBoxLayout(run_box)
        rb.addLayout(form)
        rb.addLayout(buttons)
        rb.addWidget(self.message)
        left_w = QWidget()
        left = QVBoxLayout(left_w)
        left.setContentsMargins(0, 0, 6, 0)
        left.addWidget(run_box)
        left.addWidget(self.runs, 1)
        left.addWidget(ckpt_box, 1)
        scroll = QScrollArea()  # a small screen scrolls the form instead of squeezing its fields
        scroll.setWidget(left_w)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(400)
        scroll.setMaximumWidth(540)

        self.loss = LossPlot()
        right = QVBoxLayout()
        right.addWidget(self.progress)
        right.addWidget(self.loss, 1)
        right.addWidget(self.log_note)
        layout = QHBoxLayout(self)
        layout.addWidget(scroll)
        layout.addLayout(right, 1)
        self._started_at = 0.0
        self.shown_run = ""  # the run folder whose curve and checkpoints are shown

        self._timer = QTimer(self, interval=POLL_MS, timeout=self._poll)
        self._restore()
        self._update_buttons()

    # ------------------------------------------------------------------ form
    def _browse_dataset(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder", self.dataset.text() or str(default_dataset_dir()))
        if path:
            self.dataset.setText(path)

    def set_dataset(self, path: str) -> None:
        self.dataset.setText(path)

    def spec(self, resume: bool) -> TrainSpec:
        """The form as a TrainSpec; FieldError (the first) for bad input."""
        text = self.overrides.text().strip()
        try:
            settings = json.loads(text) if text else {}
        except json.JSONDecodeError as e:
            raise FieldError("overrides", f"not JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(settings, dict):
            raise FieldError("overrides", 'give a JSON object, e.g. {"chunk_size": 50}')
        out = self.out.text().strip() or self.out.placeholderText()
        spec = TrainSpec(dataset=self.dataset.text().strip(), out=out, policy=self.policy.currentText(),
                         preset=self.preset.currentText(), steps=self.steps.value(),
                         save_every=self.save_every.value(), log_every=self.log_every.value(), resume=resume,
                         settings=settings, processes=self.processes.value(), more_datasets=self.more_datasets.paths(),
                         weights=self.weights.text().strip() or "balanced", fine_tune=self.fine_tune_from.text())
        raise_first(spec.problems())
        return spec

    def fine_tune(self, run: str, datasets: list[str]) -> None:
        """Fill the form to fine-tune `run` (a training run, or one of its checkpoint folders) on `datasets` (e.g.
        the demonstrations and the corrections recorded while evaluating it), into a new run folder next to it,
        and show the page, ready for Start. The run's config and normalisation stats are kept."""
        if self.job is not None and self.job.running:
            self.message.error("fine-tune: a training run is going: stop it first")
            return
        self.fine_tune_from.setText(str(run))
        self.dataset.setText(str(datasets[0]) if datasets else "")
        self.more_datasets.set_paths([str(d) for d in datasets[1:]])
        self.weights.clear()
        self.overrides.clear()  # a fine-tune keeps the policy's config
        base, kind = fine_tune_folder(run)
        if kind in POLICIES:
            self.policy.setCurrentText(kind)
        self.job, self.shown_run = None, ""
        self.out.setText(str(base))
        self._fill_checkpoints()
        self.message.info(f"fine-tune {Path(run).name} on {len(datasets)} dataset(s) into {base.name}: the policy "
                          f"keeps its config and normalisation stats; press Start training")
        tabs = self.parent()
        while tabs is not None and not isinstance(tabs, QTabWidget):
            tabs = tabs.parent()
        if tabs is not None:
            tabs.setCurrentWidget(self)

    # ------------------------------------------------------------------ run
    def start(self, resume: bool = False) -> None:
        if self.job is not None and self.job.running:
            self.message.error("a training run is already going: stop it first")
            return
        try:
            spec = self.spec(resume)
            job = TrainingJob(spec)
            job.start()
        except (ValueError, OSError) as e:
            self.message.error(error_text(e))
            return
        self.job = job
        self.shown_run = spec.out
        self.loss.set_rows(job.rows)
        self.message.info(("resuming " if resume else "training ") + f"{spec.policy} into {spec.out}")
        self._started_at = time.monotonic()
        self.progress.setText("starting the trainer…")
        self.log_note.setText(f"the trainer's own output (warnings included): {job.output_path}")
        self.runs.refresh(Path(spec.out).parent, select=spec.out)
        self._timer.start()
        self._update_buttons()

    def stop(self) -> None:
        if self.job is not None and self.job.running:
            self.job.stop()
            self.message.info("stopping: the trainer finishes its step and saves a checkpoint")

    def _poll(self) -> None:
        job = self.job
        if job is None:
            self._timer.stop()
            return
        self.loss.add_rows(job.poll())
        self._show_progress()
        self._fill_checkpoints()
        if not job.running:
            self.loss.add_rows(job.poll())
            self._timer.stop()
            code = job.returncode
            job.close()
            if code == 0:
                self.message.info(f"training ended at step {int(job.rows[-1]['step']) if job.rows else 0}")
            else:
                self.message.error(f"the trainer exited with code {code}: {job.failure()}")
            self._show_progress()
            self._fill_checkpoints()
            self.runs.refresh()
            self._update_buttons()

    def _show_progress(self) -> None:
        job = self.job
        if job is None:
            return
        if not job.rows:  # loading: say what, and that time passes
            if job.running:
                seconds = time.monotonic() - self._started_at
                self.progress.setText(f"{job.progress() or 'starting the trainer'}…  ({seconds:.0f} s)")
            return
        last = job.rows[-1]
        its = 1000 / last["step_ms"] if last.get("step_ms", 0) > 0 else math.nan
        eta = job.eta_s()
        eta_text = "" if eta is None or not job.running else f"  ·  ETA {_duration(eta)}"
        self.progress.setText(f"step {int(last['step'])}/{job.spec.steps}  ·  loss {last['loss']:.4f}  ·  "
                              f"{its:.2f} it/s{eta_text}")

    # ------------------------------------------------------------------ runs on disk
    def show_run(self, path: str) -> None:
        """Show a run on disk: its curve, its checkpoints, where it stopped; its folder becomes the run folder
        (so Resume continues it). Not while a run trains: the chart is that run's."""
        if self.job is not None and self.job.running:
            self.runs.refresh(select=self.job.spec.out)
            self.message.error("runs: a training run is going; its curve stays shown until it ends")
            return
        self.job = None
        self.shown_run = path
        self.out.setText(path)
        rows = read_log(Path(path) / "train_log.csv")
        self.loss.set_rows(rows)
        if rows:
            last = rows[-1]
            self.progress.setText(f"{Path(path).name}: step {int(last['step'])}  ·  loss {last['loss']:.4f}  "
                                  f"(on disk)")
        else:
            self.progress.setText(f"{Path(path).name}: no logged step")
        output = Path(path) / OUTPUT_FILE
        self.log_note.setText(f"the trainer's own output (warnings included): {output}" if output.is_file() else "")
        self._fill_checkpoints()

    def _fill_checkpoints(self) -> None:
        out = self._run_dir()
        names = [str(c) for c in checkpoints(out)] if out else []
        if names != [self.ckpt_list.item(i).data(256) for i in range(self.ckpt_list.count())]:
            selected, count = self.ckpt_list.currentRow(), self.ckpt_list.count()
            self.ckpt_list.clear()
            for n in names:
                self.ckpt_list.addItem(f"step {int(Path(n).name)}")
                self.ckpt_list.item(self.ckpt_list.count() - 1).setData(256, n)
            picked_older = 0 <= selected < count - 1 and selected < len(names)
            self.ckpt_list.setCurrentRow(selected if picked_older else len(names) - 1)  # else the newest
        self._update_buttons()

    def _run_dir(self) -> str:
        if self.job is not None:
            return self.job.spec.out
        return self.shown_run

    def _evaluate_selected(self) -> None:
        item = self.ckpt_list.currentItem()
        if item is None:
            self.message.error("checkpoints: select one to evaluate")
            return
        self.evaluate_requested.emit(item.data(256))

    def _update_buttons(self) -> None:
        running = self.job is not None and self.job.running
        self.start_button.setEnabled(not running)
        self.resume_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.eval_button.setEnabled(self.ckpt_list.count() > 0)

    # ------------------------------------------------------------------ settings / lifecycle
    def _restore(self) -> None:
        s = self.ctx.settings if self.ctx is not None else None
        if s is None:
            self.runs.refresh(default_runs_dir())
            return
        self.dataset.setText(str(s.value("train/dataset", "")))
        self.more_datasets.set_paths([p for p in str(s.value("train/more_datasets", "")).split("\n") if p])
        self.weights.setText(str(s.value("train/weights", "")))
        self.fine_tune_from.setText(str(s.value("train/fine_tune", "")))
        self.out.setText(str(s.value("train/out", "")))
        self.steps.setValue(int(s.value("train/steps", 2000)))
        run = str(s.value("train/run", "") or self.out.text())
        self.runs.refresh(Path(run).parent if run else default_runs_dir(), select=run or None)
        if run and Path(run).is_dir():
            self.show_run(run)

    def save_settings(self, settings) -> None:
        settings.setValue("train/dataset", self.dataset.text())
        settings.setValue("train/more_datasets", "\n".join(self.more_datasets.paths()))
        settings.setValue("train/weights", self.weights.text())
        settings.setValue("train/fine_tune", self.fine_tune_from.text())
        settings.setValue("train/out", self.out.text())
        settings.setValue("train/steps", self.steps.value())
        settings.setValue("train/run", self._run_dir())

    def shutdown(self) -> None:
        """The window closes: a running trainer is asked to stop (it saves a checkpoint and exits)."""
        self._timer.stop()
        if self.job is not None:
            self.job.close()


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
