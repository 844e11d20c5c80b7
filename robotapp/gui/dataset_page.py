"""Dataset page: open (or create) a dataset; its episodes with length, task, telemetry and flags; the selected
episode played back (episode_player.py) and trimmed; delete to the trash and restore; merge; validate; push and
pull to the Hub. Every read and edit runs on a worker; the reader is closed while an edit runs and reopened
after, so the list always shows what is on disk."""

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
from .episode_player import EpisodePlayer, load_episode
from .page import Page

COLUMNS = ["#", "frames", "seconds", "loop Hz", "dropped", "flags", "task"]


def episode_rows(reader) -> list[list[object]]:
    rows = []
    for e in reader.episodes:
        tel = reader.extra(e.index).get("telemetry") or {}
        dropped = sum((tel.get("camera_dropped") or {}).values())
        rows.append([e.index, e.length, f"{e.length / reader.fps:.1f}",
                     f"{tel['loop_hz']:.0f}" if "loop_hz" in tel else "", dropped if tel else "",
                     f"⚑ {len(tel['flags'])}" if tel.get("flags") else "", ", ".join(e.tasks)])
    return rows


def flag_texts(reader) -> list[str]:
    return ["\n".join((reader.extra(e.index).get("telemetry") or {}).get("flags") or []) for e in reader.episodes]


class DatasetPage(Page):
    train_requested = Signal(str)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.reader = None
        self.busy = False
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
        self.player = EpisodePlayer()
        self.player.trim_requested.connect(self.trim)
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
    def _job(self, what: str, fn, on_ok, edits: bool = False, reopen: bool = True) -> None:
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
                self.open_dataset(note="")  # show what is on disk, keep the error in view

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
    def open_dataset(self, note: str | None = None) -> None:
        """Open the folder in the path field; `note` replaces the summary message ("" keeps the message)."""
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
            return reader, episode_rows(reader), flag_texts(reader), list_trash(root)

        self._job(f"opening {root}", load, lambda r: self._opened(*r, note=note), edits=True, reopen=False)

    def _opened(self, reader, rows, flag_texts, trash, note=None) -> None:
        self.reader = reader
        fill_table(self.table, rows, problem_column=COLUMNS.index("flags"))
        for r, text in enumerate(flag_texts):  # the flags in full, on hover
            self.table.item(r, COLUMNS.index("flags")).setToolTip(text)
        self.trash.clear()
        for t in trash:
            self.trash.addItem(f"episode {t.original_index} · {t.length} frames · {t.deleted_at[:19]}")
            self.trash.item(self.trash.count() - 1).setData(256, t.id)
        flagged = sum(1 for r in rows if r[COLUMNS.index("flags")])
        if note:
            self.message.info(note)
        elif note is None:
            self.message.info(f"{reader.root}: {len(rows)} episodes, {reader.num_frames} frames at {reader.fps} fps, "
                              f"cameras {', '.join(k.removeprefix('observation.images.') for k in reader.video_keys) or 'none'}"
                              + (f"; {flagged} flagged" if flagged else ""))
        if rows:
            self.table.selectRow(0)
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

        self._job(f"moving episode(s) {', '.join(map(str, eps))} to the trash", lambda: delete_episodes(root, eps),
                  lambda _: self.open_dataset(note=f"episode(s) {', '.join(map(str, eps))} moved to the trash"),
                  edits=True)

    def restore_selected(self) -> None:
        items, root = self.trash.selectedItems(), self._root()
        if not items:
            self.message.error("trash: select the episodes to restore")
            return
        from robotapp.dataset.trash import restore

        ids = [i.data(256) for i in items]
        self._job("restoring from the trash", lambda: restore(root, ids),
                  lambda eps: self.open_dataset(note=f"restored as episode(s) {', '.join(map(str, eps))}"), edits=True)

    def trim(self, episode: int, start: int, end: int) -> None:
        if start == 0 and end == 0:
            self.message.error("trim: set the frames to cut at the start or the end first")
            return
        from robotapp.dataset.trim import trim_episode

        root = self._root()
        self._job(f"trimming episode {episode}", lambda: trim_episode(root, episode, start=start, end=end),
                  lambda n: self.open_dataset(note=f"episode {episode} trimmed to {n} frames"), edits=True)

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
