"""ACT and Diffusion policies, their data pipeline and trainer (one idea per module; start with config.py and
base.py).

    from policies import make_config, make_policy, load_policy
    cfg = make_config("act", "cpu-small", features=reader.features)
    policy = load_policy("out/last")            # a folder or a Hub repo id
    policy.reset(); action = policy.select_action(observation)

Names are imported lazily, so `policies.config` and `policies.frame_keys` load without torch.
"""

from __future__ import annotations

import importlib
import os

# OpenMP threads that spin while they wait steal the core from everything else on a busy machine (the
# control loop, the other training process): 10x slower steps measured on 2 loaded cores. Passive waits
# cost nothing when the machine is idle. Must be set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_EXPORTS = {
    "Policy": "base", "ACTConfig": "config", "DiffusionConfig": "config", "PolicyConfig": "config",
    "make_config": "config", "CheckpointError": "policy_folder", "check_features": "policy_folder",
    "load_policy": "io", "make_policy": "io", "push_to_hub": "policy_folder", "save_policy": "policy_folder",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'policies' has no attribute {name!r}")
