"""Policy evaluation on the rig: episodes, success marks, rates with Wilson intervals, per-checkpoint tables."""

from .success_rate import success_line, wilson_interval

__all__ = ["success_line", "wilson_interval"]
