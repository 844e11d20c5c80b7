"""Train page (part 2 of the desktop app fills it in)."""

from .placeholder import PlaceholderPage


class TrainPage(PlaceholderPage):
    title = "Train"
    explanation = ("Train ACT or Diffusion policies on a dataset in a separate process, with live loss curves. "
                   "Until then: `robotapp train --help`.")
