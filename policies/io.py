"""A policy of either kind: policy_classes (type name -> class), make_policy(config, stats) and
load_policy(folder or Hub repo id). The folder format itself is policies.policy_folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch

from .act import ACTPolicy
from .diffusion import DiffusionPolicy
from .policy_folder import load_folder


def policy_classes() -> dict:
    return {"act": ACTPolicy, "diffusion": DiffusionPolicy}


def make_policy(config, stats=None):
    return policy_classes()[config.type](config, stats)


def load_policy(path_or_repo: str | os.PathLike, device: str | torch.device = "cpu",
                features: Mapping | None = None, features_source: str = "dataset", revision: str | None = None):
    """Load a policy folder (or Hub repo id) of either kind onto `device`, in eval mode. With `features` (a
    dataset's or a rig's), refuse a policy whose inputs/outputs they do not provide."""
    return load_folder(path_or_repo, make_policy, device=device, features=features,
                       features_source=features_source, revision=revision)
