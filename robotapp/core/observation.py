"""The frame of a rig, in one place: the dataset schema a rig produces, how one observation is built from it
(the follower's state and each camera's newest image, read once), and opening a dataset writer for it.

Recording, policy mode and evaluation all build their observations with `ObservationBuilder`, so a policy sees
exactly what a recording stores. The keys are policies.frame_keys'; the drivers below know nothing of them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hardware.rig import Rig
from policies.frame_keys import STATE_KEY, image_key
from robotapp.dataset import DatasetWriter, build_features
from robotapp.dataset.layout import is_dataset

FRESH_GRACE_S = 0.004  # the longest a frame waits for a camera image that is due (real time only)
CAMERA_GONE = -2  # the sequence number recorded for a camera that gave no image (its last one is repeated)


def rig_features(rig: Rig, extra: dict[str, dict] | None = None) -> dict[str, dict]:
    """The dataset schema this rig produces: the follower's joints as action and state, one video feature per
    camera at the size its frames have, and `extra` per-frame features (e.g. an evaluation's intervention flag)."""
    return {**build_features(rig.follower.names, rig.camera_shapes()), **(extra or {})}


def robot_type(rig: Rig) -> str:
    """What datasets call the robot: the profile's robot_type (lerobot's name, e.g. so101_follower), or its name."""
    return rig.follower.profile.robot_type or rig.follower.profile.name


def open_rig_writer(root: str | Path, rig: Rig, fps: int, *, resume: bool, codec: str = "av1",
                    keep_empty: bool = False, extra_features: dict[str, dict] | None = None) -> DatasetWriter:
    """The one way to open a writer for what a rig records: a new dataset, or with resume=True more episodes in
    an existing one whose fps, schema and robot type must match the rig's.

    A new dataset may go where an unused one is (created, never an episode: dataset/unused.py), which it
    replaces; and unless keep_empty (an empty dataset asked for), it is removed again if the writer closes
    without having saved an episode, so a failed or stopped first recording leaves nothing in the way."""
    features = rig_features(rig, extra_features)
    if resume:
        return DatasetWriter.open(root, fps=fps, features=features, robot_type=robot_type(rig))
    return DatasetWriter.create(root, fps=fps, features=features, robot_type=robot_type(rig), codec=codec,
                                replace_unused=True, remove_if_unused=not keep_empty)


def open_or_create_rig_writer(root: str | Path, rig: Rig, fps: int, extra_features: dict[str, dict] | None = None,
                              codec: str = "av1") -> DatasetWriter:
    """Evaluations append to the folder's dataset when there is one."""
    return open_rig_writer(root, rig, fps, resume=is_dataset(root), extra_features=extra_features, codec=codec)


@dataclass
class Observation:
    values: dict[str, np.ndarray]  # STATE_KEY and one image key per camera
    seqs: dict[str, int]  # camera -> sequence number of its image (CAMERA_GONE when repeated after a loss)
    drops: dict[str, int]  # camera -> the camera's dropped-frame counter


class ObservationBuilder:
    """Builds a rig's observations, one per dataset frame. Each camera is read once per frame; in real time a
    camera whose next image is due within a few ms is waited for (bounded) rather than repeating the last one,
    and a camera that went away repeats its last image (its sequence number says so)."""

    def __init__(self, rig: Rig, fps: int, realtime: bool):
        self.rig, self.realtime = rig, realtime
        self.period = 1.0 / fps
        self._last_images: dict[str, np.ndarray] = {}
        self._last_seqs: dict[str, int] = {}

    def build(self, state: np.ndarray) -> Observation:
        values = {STATE_KEY: np.asarray(state, np.float32)}
        seqs, drops = {}, {}
        wait_until = time.monotonic() + min(FRESH_GRACE_S, 0.15 * self.period)
        for name, cam in self.rig.cameras.items():
            try:
                frame = cam.read_latest()
                if self.realtime and frame.seq == self._last_seqs.get(name):
                    frame = self._due_frame(cam, frame, wait_until)
                self._last_images[name] = frame.image
                self._last_seqs[name] = seqs[name] = frame.seq
            except Exception:  # a camera that went away: repeat its last image and count it as dropped
                if name not in self._last_images:
                    raise
                seqs[name] = CAMERA_GONE
            drops[name] = cam.drops
            values[image_key(name)] = self._last_images[name]
        return Observation(values, seqs, drops)

    def _due_frame(self, cam, frame, wait_until: float):
        """Without this a camera whose frames land just around the recording instant alternates repeated and
        skipped frames (two 30 Hz clocks in phase, with jitter)."""
        now = time.monotonic()
        if now < wait_until and now >= frame.t_capture + self.period - (wait_until - now):
            try:
                return cam.wait_new(frame.seq, wait_until - now)
            except Exception:  # not in time (or the camera went away): the last image, counted as repeated
                return frame
        return frame
