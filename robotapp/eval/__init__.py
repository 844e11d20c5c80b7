"""Policy evaluation on the rig: episodes, success marks, rates with Wilson intervals, per-checkpoint tables."""

from .stats import success_line, wilson_interval

__all__ = ["success_line", "wilson_interval"]
