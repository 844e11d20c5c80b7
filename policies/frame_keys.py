"""The keys of a frame: the one place they are spelled. A frame (a dataset row, a rig's observation, a policy's
input) is a dict: ACTION_KEY "action" (float [A]), STATE_KEY "observation.state" (float [S]) and one
"observation.images.<camera>" per camera (uint8 RGB [H, W, 3]). LeRobot v3.0 datasets and policies use the same
names.

Inside a policy's batch, IMAGES_KEY holds all cameras stacked, and "<key>_is_pad" (pad_key) marks the frame
offsets that fell outside the episode.

Imports nothing, so the dataset, the rig and the GUI read these names without loading torch.
"""

from __future__ import annotations

ACTION_KEY = "action"
INTERVENTION = "intervention"  # an evaluation's per-frame flag: a person drove (robotapp.dataset's INTERVENTION_KEY)
STATE_KEY = "observation.state"
IMAGE_PREFIX = "observation.images."
IMAGES_KEY = "observation.images"  # a policy batch's cameras stacked [B, (T,) n_cam, 3, h, w]
PAD_SUFFIX = "_is_pad"


def image_key(camera: str) -> str:
    """"front" -> "observation.images.front"."""
    return IMAGE_PREFIX + camera


def camera_name(key: str) -> str:
    """"observation.images.front" -> "front"; a key that is not a camera's is refused."""
    if not is_image_key(key):
        raise ValueError(f"{key!r} is not a camera key ({IMAGE_PREFIX}<camera>)")
    return key[len(IMAGE_PREFIX):]


def is_image_key(key: str) -> bool:
    return key.startswith(IMAGE_PREFIX) and len(key) > len(IMAGE_PREFIX)


def pad_key(key: str) -> str:
    """"action" -> "action_is_pad": the mask of a feature's offsets that left the episode."""
    return key + PAD_SUFFIX
