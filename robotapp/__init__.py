"""robotapp: set up, teleoperate, record, train and evaluate low-cost Dynamixel arms, on hardware or a virtual rig."""

__version__ = "0.1.0"
