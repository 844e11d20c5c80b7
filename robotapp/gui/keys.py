"""Keys that must reach the rig whatever has the keyboard focus, and a focus that never wanders into a field.

Space, the E-STOP (issue 17):
- An application-wide event filter sees Space before the focused widget does, for every widget of the main
  window and of the dialogs it opens (message boxes, file dialogs; app.py asks Qt for its own dialogs, which
  this filter can see, not the platform's). So a line edit, a spin box, a table, a plot, a combo box or a
  button never gets the key: it stops the follower at once (Session.estop acts from the GUI thread), a button
  is never "clicked" by it and a field's text is never changed by it. Auto-repeats of a held Space are
  swallowed too (the first press already stopped; the stop holds until it is cleared).
- One exception, so that a task or a path can hold a space: an editable text field (line edit, text edit)
  types a space while nothing drives a follower — no rig open, or the session idle, held, stopped or
  faulted with no recording running, and no evaluation episode running. Whenever a follower is driven
  (align, teleop, record, replay, policy, an evaluation), Space in a text field is the E-STOP like anywhere
  else. Spin boxes never take spaces, so in them Space is always the E-STOP.
- Clearing an E-STOP is its button (which never takes the focus), never Space.

Focus: a control that becomes disabled or hidden while it has the focus hands it to its page (Qt's default is
the next widget in the Tab chain, often a text field with its text selected); showing another page never leaves
the focus in one of its fields either. Only a click or the Tab key puts the focus into a field, so jog letters
and Space land in a field only when the user put the focus there."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

ESTOP_KEY = Qt.Key.Key_Space
_KEY_EVENTS = (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress, QEvent.Type.KeyRelease)


def _in_spin_box(w: QWidget) -> bool:
    return isinstance(w, QAbstractSpinBox) or (isinstance(w, QLineEdit)
                                               and isinstance(w.parentWidget(), QAbstractSpinBox))


def takes_text(w: QWidget | None) -> bool:
    """A field that letters typed at it would change (the focus must never fall into one by itself)."""
    if w is None:
        return False
    if _in_spin_box(w):
        return True
    if isinstance(w, QComboBox):
        return w.isEditable()
    if isinstance(w, QLineEdit | QTextEdit | QPlainTextEdit):
        return not w.isReadOnly()
    return False


def wants_spaces(w: QWidget | None) -> bool:
    """A free-text field where a space is part of what one types (a task, a path, a note)."""
    return takes_text(w) and not _in_spin_box(w)


def shortcut(key, parent: QWidget, fn: Callable[[], object],
             context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetWithChildrenShortcut) -> QShortcut:
    """A QShortcut with the context asked for: PySide6's QShortcut(key, parent, callable, context=...) drops
    the context and makes a window-wide shortcut (a key on any page would act on this one)."""
    sc = QShortcut(QKeySequence(key), parent)
    sc.setContext(context)
    sc.activated.connect(fn)
    return sc


class SpaceStop(QObject):
    """The application-wide filter that makes Space the E-STOP for `window` and its dialogs (rule above)."""

    def __init__(self, window: QWidget, estop: Callable[[], None], driving: Callable[[], bool]):
        super().__init__(window)
        self._window = window
        self._estop = estop
        self._driving = driving

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        kind = event.type()
        if kind not in _KEY_EVENTS or event.key() != ESTOP_KEY or not isinstance(obj, QWidget):
            return False  # also the key's first pass through the QWindow: the widget pass follows
        if not self._ours(obj) or (wants_spaces(obj) and not self._driving()):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # no shortcut acts on it; the key press itself comes back through here
        elif kind == QEvent.Type.KeyPress and not event.isAutoRepeat():
            self._estop()
        return True  # the focused widget never sees it (a button's release would click it)

    def _ours(self, w: QWidget | None) -> bool:
        """In the window, or in a dialog or popup opened from it (however deep)."""
        while w is not None:
            top = w.window()
            if top is self._window:
                return True
            w = top.parentWidget()
        return False
