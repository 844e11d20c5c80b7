"""Evaluate page (part 2 of the desktop app fills it in)."""

from .placeholder import PlaceholderPage


class EvaluatePage(PlaceholderPage):
    title = "Evaluate"
    explanation = ("Replay episodes and run trained policies on the follower, with success marks and rates per "
                   "checkpoint. Until then: `robotapp replay --help`.")
