"""Dataset page (part 2 of the desktop app fills it in)."""

from .placeholder import PlaceholderPage


class DatasetPage(PlaceholderPage):
    title = "Dataset"
    explanation = ("Browse recorded datasets: episodes with their videos and telemetry, trash and restore, trim, "
                   "merge and push to the Hub. Until then: `robotapp dataset --help`.")
