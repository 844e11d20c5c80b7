"""Dataset page: open (or create) a dataset; its episodes with length, task, telemetry and flags; the selected
episode played back (episode_player.py) and trimmed (a preview first; Confirm writes it; Undo trim puts it back
until the next edit); delete to the trash and restore; merge; validate; push and pull to the Hub. Every read and
edit runs on a worker; the reader is closed while an edit runs and reopened after, so the list always shows what
is on disk, with the edited episode still selected. Episodes are numbered by position, so a delete renumbers the
ones after it: the message says which, and the "recorded" column is a name that does not change."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
)

from robotapp.dataset.layout import is_dataset
from robotapp.services.rig_host import default_dataset_dir

from .common import MessageLine, error_text, fill_table, make_table
from .dataset_rows import COLUMNS, TAKEN_OVER, numbers, recorded_label, renumbering, table_contents
from .episode_player import EpisodePlayer, load_episode
from .page import Page


class DatasetPage(Page):
    train_requested = Signal(str)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.reader = None
        self.busy = False
        self.trim_undo = None  # robotapp.dataset.trim.TrimUndo of the last trim, until another edit
        self.hub_api = None  # None: the Hugging Face Hub (huggingface_hub.HfApi); tests pass a local stand-in
        self.path = QLineEdit()
        self.path.setPlaceholderText(str(default_dataset_dir() / "my-dataset"))
        self.path.returnPressed.connect(lambda: self.open_dataset())
        buttons = {}
        for name, slot in (("Browse…", self._browse), ("Open", lambda: self.open_dataset()), ("Create", self.create_dataset),
                           ("Validate", self.validate), ("Train on it", self._train)):
            buttons[name] = QPushButton(name)
            buttons[name].clicked.connect(slot)
        self.open_button, self.create_button = buttons["Open"], buttons["Create"]
        self.validate_button = buttons["Validate"]
        top = QHBoxLayout()
        top.addWidget(self.path, 1)
        for b in buttons.values():
            top.addWidget(b)
        self.message = MessageLine()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: the services report no fractions
        self.progress.setMaximumHeight(10)
        self.progress.setTextVisible(False)
        self.progress.hide()

        self.table = make_table(COLUMNS)
        self.table.itemSelectionChanged.connect(self._selected)
        self.delete_button = QPushButton("Delete to trash")
        self.delete_button.clicked.connect(self.delete_selected)
        ep_box = QGroupBox("Episodes")
        eb = QVBoxLayout(ep_box)
        eb.addWidget(self.table, 1)
        eb.addWidget(self.delete_button)
        self.trash = QListWidget()
        self.restore_button = QPushButton("Restore")
        self.restore_button.clicked.connect(self.restore_selected)
        trash_box = QGroupBox("Trash")
        tb = QVBoxLayout(trash_box)
        tb.addWidget(self.trash, 1)
        tb.addWidget(self.restore_button)
        self.merge_with = QLineEdit()
        self.merge_with.setPlaceholderText("other dataset(s), comma-separated")
        self.merge_out = QLineEdit()
        self.merge_out.setPlaceholderText("new dataset folder")
        self.merge_button = QPushButton("Merge into new dataset")
        self.merge_button.clicked.connect(self.merge)
        self.repo_id = QLineEdit()
        self.repo_id.setPlaceholderText("Hub repo id, e.g. you/koch_pick_cube")
        self.push_button = QPushButton("Push")
        self.push_button.clicked.connect(self.push)
        self.pull_button = QPushButton("Pull")
        self.pull_button.clicked.connect(self.pull)
        more = QGroupBox("Merge · Hub")
        mb = QVBoxLayout(more)
        for w in (self.merge_with, self.merge_out, self.merge_button):
            mb.addWidget(w)
        hub_row = QHBoxLayout()
        hub_row.addWidget(self.repo_id, 1)
        hub_row.addWidget(self.push_button)
        hub_row.addWidget(self.pull_button)
        mb.addLayout(hub_row)
        self.problems = QListWidget()
        self.problems.setMaximumHeight(90)
        left = QSplitter()
        left.setOrientation(left.orientation().Vertical)
        for w in (ep_box, trash_box, more):
            left.addWidget(w)
        left.setSizes([420, 140, 160])
        self.player = EpisodePlayer(key_scope=self)  # Left/Right step a frame anywhere on the page
        self.player.trim_requested.connect(self.trim)
        self.player.undo_requested.connect(self.undo_trim)
        self.player.problem.connect(self.message.error)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.player)
        split.setSizes([600, 800])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.problems)
        layout.addWidget(split, 1)
        self.problems.hide()
        last = ctx.settings.value("dataset/path", "") if ctx is not None else ""
        self.path.setText(str(last or ""))
        self._update_buttons()

    # ------------------------------------------------------------------ jobs
    def _job(self, what: str, fn, on_ok, edits: bool = False, reopen: bool = True, select: int | None = None) -> None:
        """Run fn on a worker with the progress bar showing; an edit closes the reader first and reopens after
        (also after a failure, unless the job was the opening itself: that would try again forever)."""
        if self.busy:
            self.message.error("dataset: wait for the running operation to finish")
            return
        self.busy = True
        self.progress.show()
        self.message.info(what + "…")
        self._update_buttons()
        if edits:
            self.player.set_episode(None)
            self._close_reader()

        def done(result):
            self._idle()
            on_ok(result)

        def failed(exc):
            self._idle()
            self.message.error(error_text(exc))
            if edits and reopen and is_dataset(self._root()):
                self.open_dataset(note="", select=select)  # show what is on disk, keep the error in view

        self.ctx.watcher.run(fn, done, failed)

    def _idle(self) -> None:
        self.busy = False
        self.progress.hide()
        self._update_buttons()

    def _root(self) -> str:
        return self.path.text().strip()

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder", self._root() or str(default_dataset_dir()))
        if path:
            self.path.setText(path)
            self.open_dataset()

    # ------------------------------------------------------------------ open / create
    def open_folder(self, path: str) -> None:
        """Show the dataset in this folder (e.g. the one just recorded); a bad folder says why in one line."""
        self.path.setText(str(path))
        self.open_dataset()

    def open_dataset(self, note: str | None = None, select: int | None = None) -> None:
        """Open the folder in the path field; `note` replaces the summary ("" keeps the message); `select`: the
        episode to select (else the first)."""
        root = self._root()
        if not root:
            self.message.error("dataset: give a folder")
            return
        if not is_dataset(root):
            self.message.error(f"dataset: {root} is not a LeRobot dataset (no meta/info.json)")
            return

        def load():
            from robotapp.dataset import DatasetReader
            from robotapp.dataset.trash import list_trash

            reader = DatasetReader(root)
            return reader, *table_contents(reader), list_trash(root)

        self._job(f"opening {root}", load, lambda r: self._opened(*r, note=note, select=select), edits=True,
                  reopen=False)

    def _opened(self, reader, rows, flag_texts, taken_over, trash, note=None, select=None) -> None:
        self.reader = reader
        if self.trim_undo is not None and Path(self.trim_undo.root).resolve() != Path(reader.root).resolve():
            self._forget_undo()
        fill_table(self.table, rows, problem_column=COLUMNS.index("flags"))
        for r, text in enumerate(flag_texts):  # the flags in full, on hover
            self.table.item(r, COLUMNS.index("flags")).setToolTip(text)
        self.table.setColumnHidden(TAKEN_OVER, taken_over is None)  # only an evaluation's has interventions
        for r, text in enumerate(taken_over or []):
            self.table.item(r, TAKEN_OVER).setToolTip(text)
        self.trash.clear()
        for t in trash:  # named as it was, and when it was recorded: its old number is taken now
            recorded = recorded_label(t.recorded_at)
            self.trash.addItem(f"was episode {t.original_index}" + (f" · recorded {recorded}" if recorded else "")
                               + f" · {t.length} frames")
            item = self.trash.item(self.trash.count() - 1)
            item.setData(256, t.id)
            item.setData(257, f"episode {t.original_index}" + (f" (recorded {recorded})" if recorded else ""))
        flagged = sum(1 for r in rows if r[COLUMNS.index("flags")])
        if note:
            self.message.info(note)
        elif note is None:
            self.message.info(f"{reader.root}: {len(rows)} episodes, {reader.num_frames} frames at {reader.fps} fps, "
                              f"cameras {', '.join(k.removeprefix('observation.images.') for k in reader.video_keys) or 'none'}"
                              + (f"; {flagged} flagged" if flagged else "")
                              + (f"; {sum(1 for r in rows if r[TAKEN_OVER])} taken over by a person"
                                 if taken_over is not None else ""))
        if rows:
            row = min(max(0, select or 0), len(rows) - 1)
            self.table.selectRow(row)
            self.table.scrollToItem(self.table.item(row, 0))
        self._update_buttons()

    def create_dataset(self) -> None:
        root, host = self._root(), self.ctx.host
        if not root:
            self.message.error("dataset: give a folder for the new dataset")
            return
        if Path(root).exists() and any(Path(root).iterdir()):
            self.message.error(f"dataset: {root} exists and is not empty")
            return
        if not host.is_open:
            self.message.error("rig: open a rig first (the new dataset takes its joints and cameras)")
            return
        self._job(f"creating {root}", lambda: host.create_dataset(root), lambda _: self.open_dataset())

    # ------------------------------------------------------------------ episode
    def selected_episodes(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def _selected(self) -> None:
        eps = self.selected_episodes()
        self._update_buttons()
        if len(eps) != 1 or self.reader is None or self.busy:
            return
        reader, ep = self.reader, eps[0]
        self.ctx.watcher.run(lambda: load_episode(reader, ep), self._loaded,
                             lambda e: self.message.error(error_text(e)))

    def _loaded(self, episode: dict) -> None:
        if self.selected_episodes() == [episode["episode"]] and self.reader is not None:
            self.player.set_episode(episode)

    # ------------------------------------------------------------------ edits
    def delete_selected(self) -> None:
        eps, root = self.selected_episodes(), self._root()
        if not eps:
            self.message.error("episodes: select the episodes to delete")
            return
        from robotapp.dataset.trash import delete_episodes

        count = self.table.rowCount()
        note = f"{numbers(eps)} moved to the trash: {renumbering(count, eps)}"
        self._forget_undo()
        self._job(f"moving {numbers(eps)} to the trash", lambda: delete_episodes(root, eps),
                  lambda _: self.open_dataset(note=note, select=eps[0]), edits=True, select=eps[0])

    def restore_selected(self) -> None:
        items, root = self.trash.selectedItems(), self._root()
        if not items:
            self.message.error("trash: select the episodes to restore")
            return
        from robotapp.dataset.trash import restore

        ids = [i.data(256) for i in items]
        was = [i.data(257) for i in items]
        self._forget_undo()
        self._job("restoring from the trash", lambda: restore(root, ids),
                  lambda eps: self.open_dataset(note=f"{'; '.join(was)} back from the trash as {numbers(eps)}, "
                                                     "at the end; no other episode was renumbered",
                                                select=eps[0]), edits=True)

    def trim(self, episode: int, start: int, end: int) -> None:
        """Confirmed in the player's preview (which checks the marks): cut on disk, keeping what Undo needs."""
        from robotapp.dataset.trim import trim_episode_undoable

        root, before = self._root(), self.player.frame_count()
        self._forget_undo()
        self._job(f"trimming episode {episode}", lambda: trim_episode_undoable(root, episode, start=start, end=end),
                  lambda r: self._trimmed(episode, start, end, before, *r), edits=True, select=episode)

    def _trimmed(self, episode: int, start: int, end: int, before: int, n: int, undo) -> None:
        self.trim_undo = undo
        self.player.show_undo(f"Undo trim of episode {episode}" if undo is not None else None)
        self.open_dataset(note=f"episode {episode} trimmed: {before} → {n} frames (cut {start} at the start, "
                               f"{end} at the end); Undo trim puts them back", select=episode)

    def undo_trim(self) -> None:
        undo = self.trim_undo
        if undo is None:
            self.message.error("undo trim: no trim to undo")
            return
        from robotapp.dataset.trim import undo_trim

        self._forget_undo()
        self._job(f"undoing the trim of episode {undo.episode}", lambda: undo_trim(undo),
                  lambda n: self.open_dataset(note=f"trim of episode {undo.episode} undone: {n} frames again",
                                              select=undo.episode), edits=True, select=undo.episode)

    def _forget_undo(self) -> None:
        self.trim_undo = None
        self.player.show_undo(None)

    def merge(self) -> None:
        others = [p.strip() for p in self.merge_with.text().split(",") if p.strip()]
        out = self.merge_out.text().strip()
        if not others:
            self.message.error("merge: give the other dataset folder(s)")
            return
        if not out:
            self.message.error("merge: give a folder for the merged dataset")
            return
        from robotapp.dataset.merge import merge_datasets

        sources = [self._root(), *others]
        self._job(f"merging {len(sources)} datasets", lambda: merge_datasets(sources, out),
                  lambda meta: self._merged(out, len(meta.episodes)))

    def _merged(self, out: str, n: int) -> None:
        self.path.setText(out)
        self.open_dataset(note=f"merged into {out}: {n} episodes")

    def validate(self) -> None:
        root = self._root()
        if not root:
            self.message.error("dataset: give a folder")
            return
        from robotapp.dataset.check import check_dataset

        self._job(f"validating {root}", lambda: check_dataset(root), self._validated)

    def _validated(self, problems) -> None:
        self.problems.clear()
        self.problems.setVisible(bool(problems))
        for p in problems:
            self.problems.addItem(str(p))
        if problems:
            self.message.error(f"validate: {len(problems)} problem(s); the first: {problems[0]}")
        else:
            self.message.info("validate: no problems found (LeRobot v3.0)")

    def push(self) -> None:
        repo, root = self.repo_id.text().strip(), self._root()
        if "/" not in repo:
            self.message.error("Hub repo id: give it as owner/name")
            return
        from robotapp.dataset.hub import push

        self._job(f"pushing to {repo}", lambda: push(root, repo, api=self.hub_api), lambda url: self.message.info(f"pushed to {url}"))

    def pull(self) -> None:
        repo, root = self.repo_id.text().strip(), self._root()
        if "/" not in repo:
            self.message.error("Hub repo id: give it as owner/name")
            return
        if not root:
            self.message.error("dataset: give the folder to pull into")
            return
        from robotapp.dataset.hub import pull

        self._forget_undo()
        self._job(f"pulling {repo}", lambda: pull(repo, root, api=self.hub_api),
                  lambda meta: self.open_dataset(note=f"pulled {repo}: {len(meta.episodes)} episodes"), edits=True)

    def _train(self) -> None:
        if self.reader is None:
            self.message.error("dataset: open one first")
            return
        self.train_requested.emit(str(self.reader.root))

    # ------------------------------------------------------------------ misc
    def _update_buttons(self) -> None:
        has = self.reader is not None and not self.busy
        self.delete_button.setEnabled(has and bool(self.selected_episodes()))
        self.restore_button.setEnabled(has and self.trash.count() > 0)
        for b in (self.merge_button, self.push_button, self.validate_button):
            b.setEnabled(has)

    def _close_reader(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        self.table.setRowCount(0)

    def save_settings(self, settings) -> None:
        settings.setValue("dataset/path", self._root())

    def shutdown(self) -> None:
        self.player.stop()
        self._close_reader()
