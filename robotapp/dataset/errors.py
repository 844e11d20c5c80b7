"""The one error type of the dataset package.

Every message is one line that names the thing at fault (file, episode, feature, camera), so the CLI can print it
as is. It subclasses ValueError so `robotapp` turns it into "robotapp dataset: <message>" and exit code 2."""

from __future__ import annotations


class DatasetError(ValueError):
    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class DatasetBusyError(DatasetError):
    """Another writer or editor holds the dataset (a recording in progress, an edit running)."""
