"""What a user asks for when starting a recording, from the window's form or `robotapp record`, checked field by
field (RecordRequest.problems: every rule of a recording, written once) so the interface can say which field is
wrong in one line, in its own words, before anything touches the rig or the disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from robotapp.core.field_error import FieldError
from robotapp.core.recording import RecordingPlan, RecordingWords, plan_problems
from robotapp.dataset.layout import is_dataset
from robotapp.dataset.unused import is_unused_dataset

# the window's labels (teleop page, Record panel)
WINDOW_WORDS = RecordingWords("Dataset folder", "Task", "Episodes", "Episode time", "Reset time", "Warm-up time",
                              "Demonstrator", "Fast", "the virtual rig", "tick 'Add to existing dataset'",
                              "untick 'Add to existing dataset'")


def dataset_folder_problem(root: Path, resume: bool, *, add: str, new: str) -> str | None:
    """What is wrong with recording into root (None: nothing), with advice that works when followed. `add` and
    `new` say how this interface asks for resuming or not, e.g. "add --resume" / "leave out --resume".

    A dataset that was created and never got an episode (what a failed, stopped or killed first recording
    leaves: dataset/unused.py) counts as an empty folder: a new recording is accepted there without resuming (and
    replaces it); resuming opens it as any dataset."""
    if root.exists() and not root.is_dir():
        return f"{root} is a file, not a folder: choose a folder for the dataset"
    holds_files = root.is_dir() and any(root.iterdir()) and not is_unused_dataset(root)
    has_dataset = is_dataset(root)
    if resume and not has_dataset:
        if holds_files:  # neither resuming nor starting afresh can work here
            return (f"no dataset at {root} to add episodes to: it holds other files but no meta/info.json; "
                    f"choose the dataset's own folder, or {new} and choose a new or empty folder")
        return f"no dataset at {root} to add episodes to: {new} to start a new one there"
    if not resume and holds_files:
        if has_dataset:
            return f"{root} already holds files of a dataset: {add} to add episodes to it, or choose a new folder"
        return (f"{root} already holds files but no dataset (no meta/info.json): choose a new or empty folder "
                f"for the dataset")
    return None


@dataclass
class RecordRequest:
    dataset: str
    task: str
    episodes: int = 10
    episode_time: float = 30.0
    reset_time: float = 5.0
    warmup_time: float = 2.0
    resume: bool = False  # add episodes to an existing dataset
    demonstrator: bool = False  # virtual rig: the scripted demonstrator moves the leader
    align: bool = True  # move the follower slowly onto the leader first instead of refusing
    seed: int = 0  # virtual rig: episode k starts from world seed seed + k
    fast: bool = False  # virtual rig + demonstrator: lock-step with the world, faster than real time

    def problems(self, is_virtual: bool, words: RecordingWords = WINDOW_WORDS) -> list[FieldError]:
        """Every rule of a recording, every problem in field order, named in `words`."""
        w = words
        errors = []
        text = self.dataset.strip()
        if not text:
            errors.append(FieldError(w.dataset, "empty: choose where the dataset goes"))
        else:
            problem = dataset_folder_problem(Path(text).expanduser(), self.resume, add=w.resume, new=w.no_resume)
            if problem:
                errors.append(FieldError(w.dataset, problem))
        errors += plan_problems(self.task, self.episodes, self.episode_time, self.reset_time, self.warmup_time, w)
        if self.demonstrator and not is_virtual:
            errors.append(FieldError(w.demonstrator, f"drives the virtual leader: it needs {w.virtual_rig}"))
        if self.fast and not self.demonstrator:  # the demonstrator needs the virtual rig: so does --fast
            errors.append(FieldError(w.fast, f"records faster than real time: only the {w.demonstrator} can keep up"))
        return errors

    def plan(self) -> RecordingPlan:
        return RecordingPlan(Path(self.dataset.strip()).expanduser(), self.task.strip(), self.episodes,
                             self.episode_time, self.reset_time, self.warmup_time)
