"""Feature schemas in lerobot's shape: {name: {"dtype", "shape", "names"}}.

User features are "action", "observation.state" (and any other float vectors), per-frame flags of dtype "bool"
and shape [1] (INTERVENTION_FEATURE: True on frames where a person drove the follower instead of the policy;
lerobot writes its own "next.done" the same way: a plain boolean column) and one "observation.images.<cam>"
of dtype "video" per camera. The five bookkeeping columns every lerobot frame carries (timestamp, frame_index,
episode_index, index, task_index) are added by `normalize_features`."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence

from policies.frame_keys import ACTION_KEY, IMAGE_PREFIX, STATE_KEY, image_key
from robotapp.dataset.errors import DatasetError

DEFAULT_FEATURES: dict[str, dict] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}
VECTOR_DTYPES = ("float32", "float64", "int64", "int32")
BOOL_DTYPE = "bool"  # one flag per frame (shape [1]); the parquet column is a plain boolean column
INTERVENTION_KEY = "intervention"
INTERVENTION_FEATURE: dict = {"dtype": BOOL_DTYPE, "shape": [1], "names": None}


def build_features(joints: Sequence[str], cameras: Iterable[tuple[str, int, int]] | Mapping[str, tuple[int, int]],
                   *, suffix: str = ".pos", action_joints: Sequence[str] | None = None) -> dict[str, dict]:
    """Features for an arm with these joints and cameras given as (name, height, width) or {name: (h, w)}.

    >>> build_features(["shoulder_pan", "gripper"], [("front", 240, 320)])["observation.images.front"]["shape"]
    [240, 320, 3]
    """
    if not joints:
        raise DatasetError("build_features: no joints given")
    cams = cameras.items() if isinstance(cameras, Mapping) else ((c[0], (c[1], c[2])) for c in cameras)
    names = [f"{j}{suffix}" for j in joints]
    act = [f"{j}{suffix}" for j in (action_joints or joints)]
    feats = {
        ACTION_KEY: {"dtype": "float32", "shape": [len(act)], "names": act},
        STATE_KEY: {"dtype": "float32", "shape": [len(names)], "names": names},
    }
    for cam, (h, w) in cams:
        feats[image_key(cam)] = {"dtype": "video", "shape": [int(h), int(w), 3],
                                     "names": ["height", "width", "channels"]}
    return normalize_features(feats, with_defaults=False)


def normalize_features(features: Mapping[str, Mapping], *, with_defaults: bool = True) -> dict[str, dict]:
    """Check a features dict and return a clean copy (shapes as lists, bookkeeping columns added)."""
    if not isinstance(features, Mapping) or not features:
        raise DatasetError("features must be a non-empty dict {name: {dtype, shape, names}}")
    out: dict[str, dict] = {}
    for key, ft in features.items():
        # camera keys become folder names (videos/<key>/...): nothing that could name another folder
        if not isinstance(key, str) or not key.strip(".") or any(c in key for c in "/\\\0"):
            raise DatasetError(f"feature name {key!r} is not valid (a name without '/', '\\' or only dots)")
        if not isinstance(ft, Mapping) or "dtype" not in ft or "shape" not in ft:
            raise DatasetError(f"feature '{key}' needs 'dtype' and 'shape' (got {ft!r})")
        dtype = ft["dtype"]
        try:
            shape = [int(s) for s in ft["shape"]]
        except (TypeError, ValueError):
            raise DatasetError(f"feature '{key}': shape {ft['shape']!r} is not a list of integers") from None
        if any(s <= 0 for s in shape) or not shape:
            raise DatasetError(f"feature '{key}': shape {shape} must be non-empty with positive sizes")
        clean = copy.deepcopy(dict(ft))
        clean["shape"] = shape
        clean.setdefault("names", None)
        if dtype == "video":
            if len(shape) != 3 or shape[2] != 3:
                raise DatasetError(f"feature '{key}': a video feature has shape [height, width, 3], got {shape}")
            if shape[0] % 2 or shape[1] % 2:
                raise DatasetError(f"feature '{key}': video height and width must be even (yuv420p), got {shape}")
        elif dtype == "image":
            raise DatasetError(f"feature '{key}': dtype 'image' (PNG in parquet) is not supported, use 'video'")
        elif key in DEFAULT_FEATURES:
            pass
        elif dtype == BOOL_DTYPE:
            if shape != [1]:
                raise DatasetError(f"feature '{key}': a bool feature is one flag per frame, shape [1], got {shape}")
            if key == ACTION_KEY:
                raise DatasetError(f"feature '{key}': the action must be numbers, not dtype 'bool'")
        elif dtype not in VECTOR_DTYPES or len(shape) != 1:
            raise DatasetError(f"feature '{key}': dtype {dtype!r} with shape {shape} is not supported "
                               f"(vectors of {'/'.join(VECTOR_DTYPES)}, 'bool' of shape [1], or 'video')")
        if key.startswith(IMAGE_PREFIX) and dtype != "video":
            raise DatasetError(f"feature '{key}': camera features must have dtype 'video'")
        names = clean["names"]
        if dtype != "video" and names is not None and len(names) != shape[0]:
            raise DatasetError(f"feature '{key}': {len(names)} names for shape {shape}")
        out[key] = clean
    if ACTION_KEY not in out:
        raise DatasetError("features have no 'action' entry")
    if with_defaults:
        for key, ft in DEFAULT_FEATURES.items():
            out.setdefault(key, copy.deepcopy(ft))
    return out


def video_keys(features: Mapping[str, Mapping]) -> list[str]:
    return [k for k, ft in features.items() if ft["dtype"] == "video"]


def vector_keys(features: Mapping[str, Mapping]) -> list[str]:
    """User vector features (action, observation.state, ...), without the bookkeeping columns."""
    return [k for k, ft in features.items() if ft["dtype"] != "video" and k not in DEFAULT_FEATURES]


def observation_keys(features: Mapping[str, Mapping]) -> list[str]:
    return [k for k in features if k != ACTION_KEY and k not in DEFAULT_FEATURES]


def schema_mismatch(a: Mapping[str, Mapping], b: Mapping[str, Mapping]) -> str | None:
    """Plain words for the first difference between two feature dicts (dtype, shape, names), None if equal.
    The bookkeeping columns and the video 'info' block are ignored."""
    ka = {k for k in a if k not in DEFAULT_FEATURES}
    kb = {k for k in b if k not in DEFAULT_FEATURES}
    if ka - kb:
        return f"feature {sorted(ka - kb)[0]!r} is in the dataset but not in the other"
    if kb - ka:
        return f"feature {sorted(kb - ka)[0]!r} is not in the dataset"
    for k in sorted(ka):
        for field in ("dtype", "shape", "names"):
            va, vb = a[k].get(field), b[k].get(field)
            if field == "shape":
                va, vb = list(va or []), list(vb or [])
            if field == "names" and va is not None and vb is not None:
                va, vb = list(va), list(vb)
            if va != vb:
                return f"feature '{k}' {field} differs: {va} in the dataset, {vb} in the other"
    return None
