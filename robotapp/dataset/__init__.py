"""LeRobot v3.0 datasets: recording with streaming video (writer), reading (reader), crash recovery, edits
(trash, trim, merge), validation (check) and the Hub (hub). No Qt here.

    from robotapp.dataset import DatasetWriter, DatasetReader, build_features
    feats = build_features(["shoulder_pan", ..., "gripper"], [("front", 240, 320)])
    w = DatasetWriter.create(root, fps=30, features=feats, robot_type="koch")
    w.add_frame({"observation.state": q, "observation.images.front": img}, action, "pick the cube")
    w.save_episode().wait()
"""

from robotapp.dataset.errors import DatasetBusyError, DatasetError
from robotapp.dataset.features import DEFAULT_FEATURES, build_features, normalize_features
from robotapp.dataset.meta import check_compatible
from robotapp.dataset.reader import DatasetReader, EpisodeInfo
from robotapp.dataset.recovery import recover
from robotapp.dataset.video import VideoSettings
from robotapp.dataset.writer import DatasetWriter, EpisodeResult, WriterStats

__all__ = [
    "DEFAULT_FEATURES", "DatasetBusyError", "DatasetError", "DatasetReader", "DatasetWriter", "EpisodeInfo",
    "EpisodeResult", "VideoSettings", "WriterStats", "build_features", "check_compatible", "normalize_features",
    "recover",
]
