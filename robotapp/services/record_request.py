"""What a user asks for when starting a recording from a form, checked field by field so a window can say which
field is wrong in one line before anything touches the rig or the disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from robotapp.core.recording import RecordingPlan


@dataclass(frozen=True)
class FieldError:
    field: str  # the label the user sees, e.g. "Dataset folder"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def dataset_folder_problem(root: Path, resume: bool, *, add: str, new: str) -> str | None:
    """What is wrong with recording into root (None: nothing), with advice that works when followed. `add` and
    `new` say how this interface asks for resuming or not, e.g. "add --resume" / "leave out --resume"."""
    if root.exists() and not root.is_dir():
        return f"{root} is a file, not a folder: choose a folder for the dataset"
    holds_files = root.is_dir() and any(root.iterdir())
    has_dataset = (root / "meta" / "info.json").is_file()
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

    def validate(self, is_virtual: bool) -> list[FieldError]:
        errors = []
        text = self.dataset.strip()
        if not text:
            errors.append(FieldError("Dataset folder", "empty: choose where the dataset goes"))
        else:
            problem = dataset_folder_problem(Path(text).expanduser(), self.resume,
                                             add="tick 'Add to existing dataset'",
                                             new="untick 'Add to existing dataset'")
            if problem:
                errors.append(FieldError("Dataset folder", problem))
        if not self.task.strip():
            errors.append(FieldError("Task", "empty: say what the episodes show, e.g. 'pick up the red cube'"))
        if self.episodes < 1:
            errors.append(FieldError("Episodes", f"must be at least 1, got {self.episodes}"))
        if self.episode_time <= 0:
            errors.append(FieldError("Episode time", f"must be more than 0 s, got {self.episode_time:g}"))
        for name, value in (("Reset time", self.reset_time), ("Warm-up time", self.warmup_time)):
            if value < 0:
                errors.append(FieldError(name, f"cannot be negative, got {value:g}"))
        if self.demonstrator and not is_virtual:
            errors.append(FieldError("Demonstrator", "drives the virtual leader: it needs the virtual rig"))
        return errors

    def plan(self) -> RecordingPlan:
        return RecordingPlan(Path(self.dataset.strip()).expanduser(), self.task.strip(), self.episodes,
                             self.episode_time, self.reset_time, self.warmup_time)
