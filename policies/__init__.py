"""ACT and Diffusion policies, their data pipeline and trainer (one idea per module; start with config.py and base.py).

    from policies import make_config, make_policy, load_policy
    cfg = make_config("act", "cpu-small", features=reader.features)
    policy = load_policy("out/last")            # a folder or a Hub repo id
    policy.reset(); action = policy.select_action(observation)
"""

import os

# OpenMP threads that spin while they wait steal the core from everything else on a busy machine (the
# control loop, the other training process): 10x slower steps measured on 2 loaded cores. Passive waits
# cost nothing when the machine is idle. Must be set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


from .base import Policy
from .config import ACTConfig, DiffusionConfig, PolicyConfig, make_config
from .io import CheckpointError, check_features, load_policy, make_policy, push_to_hub, save_policy

__all__ = ["ACTConfig", "CheckpointError", "DiffusionConfig", "Policy", "PolicyConfig", "check_features",
           "load_policy", "make_config", "make_policy", "push_to_hub", "save_policy"]
