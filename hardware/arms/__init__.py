from .arm import Arm, NotCalibratedError
from .profile import ArmProfile, JointSpec, ProfileError, builtin_profiles, load_profile, profile_from_dict
from .safety import AlignmentError, GoalClamp, check_alignment
from .units import MotorCalibration, to_raw, to_units

__all__ = ["Arm", "NotCalibratedError", "ArmProfile", "JointSpec", "ProfileError", "builtin_profiles",
           "load_profile", "profile_from_dict", "AlignmentError", "GoalClamp", "check_alignment",
           "MotorCalibration", "to_raw", "to_units"]
