"""What a user asks for when starting a recording from a form, checked field by field so a window can say which
field is wrong in one line before anything touches the rig or the disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .recording import RecordingPlan


@dataclass(frozen=True)
class FieldError:
    field: str  # the label the user sees, e.g. "Dataset folder"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


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
            root = Path(text).expanduser()
            holds_files = root.is_dir() and any(root.iterdir())
            if root.exists() and not root.is_dir():
                errors.append(FieldError("Dataset folder", f"{root} is a file, not a folder"))
            elif self.resume and not (root / "meta" / "info.json").is_file():
                errors.append(FieldError("Dataset folder", f"no dataset at {root} to add episodes to; untick "
                                         f"'Add to existing dataset' to start a new one"))
            elif not self.resume and holds_files:
                errors.append(FieldError("Dataset folder", f"{root} already holds files: tick 'Add to existing "
                                         f"dataset', or pick a new folder"))
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
