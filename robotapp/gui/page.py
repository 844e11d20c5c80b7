"""The one small interface the main window calls on every page. The defaults do nothing: a page overrides what
it needs."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from robotapp.core.events import Event


class Page(QWidget):
    def on_rig_opened(self) -> None:
        """A rig was opened and its session runs."""

    def on_event(self, event: Event) -> None:
        """A session event, on the GUI thread (the window's timer drains them)."""

    def save_settings(self, settings: QSettings) -> None:
        """Keep what the page should show next time."""

    def shutdown(self) -> None:
        """The window closes: stop the page's timers and jobs; no callbacks into its widgets after this."""
