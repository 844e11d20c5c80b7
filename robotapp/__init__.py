"""robotapp: set up, teleoperate, record, train and evaluate low-cost Dynamixel arms, on hardware or a virtual rig."""

import os

# OpenMP threads that spin while they wait steal the core from everything else on a busy machine (the
# control loop, the other training process): 10x slower steps measured on 2 loaded cores. Passive waits
# cost nothing when the machine is idle. Must be set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


__version__ = "0.1.0"
