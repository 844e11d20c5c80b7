"""What the trainer reads a dataset through: the FrameSource protocol, exactly what policies.train and
policies.data use of a dataset. policies never imports the app: whoever opens the dataset hands it over,
`policies.train.train(opts, reader)` and `policies.data.FrameCache.build(reader, ...)`.

Implemented by robotapp.dataset.DatasetReader (a LeRobot v3.0 dataset folder) and by
policies.data.InMemoryDataset (arrays; tests and benchmarks). Frame keys are those of policies.frame_keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np


class EpisodeRecord(Protocol):
    """One episode: `index` is what episode_data / decode_episode_video take, `length` its frames."""

    @property
    def index(self) -> int: ...

    @property
    def length(self) -> int: ...


@runtime_checkable
class FrameSource(Protocol):
    """A dataset as the trainer reads it (robotapp.dataset.DatasetReader implements it).

    - fps: frames per second of the recording.
    - features: {key: {"dtype", "shape", "names"}} as in LeRobot's info.json (images "video"/"image" [h, w, 3]).
    - stats: {key: {"mean", "std", "min", "max", ...}} as in meta/stats.json; empty when the dataset has none
      (the frame cache then computes them).
    - episodes: one EpisodeRecord per episode, in order.
    - episode_data(ep): the episode's vector columns, at least ACTION_KEY [T, A] (and STATE_KEY [T, S] when the
      dataset has it), one row per frame.
    - decode_episode_video(ep, key): every frame of one camera for the episode, uint8 [T, H, W, 3].
    """

    @property
    def fps(self) -> float: ...

    @property
    def features(self) -> Mapping[str, Mapping[str, Any]]: ...

    @property
    def stats(self) -> Mapping[str, Mapping[str, Any]]: ...

    @property
    def episodes(self) -> Sequence[EpisodeRecord]: ...

    def episode_data(self, ep: int) -> Mapping[str, np.ndarray]: ...

    def decode_episode_video(self, ep: int, key: str) -> np.ndarray: ...
