"""What the writer hands back: the result of one saved episode, and its running counters."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from robotapp.dataset.errors import DatasetError


@dataclass
class EpisodeResult:
    """What save_episode returns at once; `wait()` blocks until the episode is durable and in the dataset."""

    episode_index: int
    length: int
    tasks: list[str]
    dropped_frames: dict[str, int]
    ended_at: float  # time.monotonic() when save_episode was called
    error: str | None = None
    staged_s: float | None = None  # episode end -> frames and videos fsynced in staging (crash-safe)
    durable_s: float | None = None  # episode end -> published in the dataset (crash-safe and visible)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def durable(self) -> bool:
        return self._done.is_set() and self.error is None

    def wait(self, timeout: float | None = None) -> bool:
        """True once durable; False on timeout; DatasetError if the episode could not be saved."""
        if not self._done.wait(timeout):
            return False
        if self.error:
            raise DatasetError(f"episode {self.episode_index} was not saved: {self.error}")
        return True


@dataclass
class WriterStats:
    frames_in_episode: int
    saved_episodes: int  # episodes in the dataset (published)
    pending_episodes: int  # saved by the caller, not yet durable
    dropped: dict[str, int]  # frames refused by each camera's full queue, since the writer opened
    dropped_in_episode: dict[str, int]
    backlog: dict[str, int]  # frames waiting in each camera's queue
    encoded: dict[str, int]
    encode_s: dict[str, float]  # seconds each encoder spent encoding
    errors: list[str]
