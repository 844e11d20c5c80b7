"""How big the main window opens: it fits the screen it opens on. The layout is made for screens from 1280×800
up: on a laptop-sized screen the window opens maximized (the window manager fits it between its panels and
title bar, which the app cannot measure before the window is shown); on a larger screen it takes most of the
free area, centred, so it uses the room without hiding everything behind it. A geometry restored from the last
session (perhaps saved on a larger monitor) is pulled back onto the screen it opens on."""

from __future__ import annotations

from PySide6.QtCore import QMargins, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

MIN_SUPPORTED = QSize(1280, 800)  # the smallest screen every page is laid out for (tests/gui/test_layout.py)
LAPTOP = QSize(1440, 900)  # screens up to this size (in either direction) open the window maximized
SHARE = 0.9  # the part of a larger screen's free area the window takes
FRAME = QMargins(8, 40, 8, 8)  # a title bar and borders, assumed until the window manager has framed the window


def opens_maximized(available: QSize) -> bool:
    return available.width() <= LAPTOP.width() or available.height() <= LAPTOP.height()


def fitting_rect(available: QRect) -> QRect:
    """The window's first geometry on a screen whose free area is `available` (not maximized)."""
    size = QSize(round(available.width() * SHARE), round(available.height() * SHARE))
    rect = QRect(0, 0, size.width(), size.height())
    rect.moveCenter(available.center())
    return rect


def _available(window: QWidget) -> QRect:
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget) -> None:
    """First opening (no saved geometry): maximized on a laptop-sized screen, else most of the screen."""
    available = _available(window)
    window.setGeometry(fitting_rect(available))  # the size it returns to when un-maximized
    if opens_maximized(available.size()):
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)


def frame_margins(window: QWidget) -> QMargins:
    frame, inner = window.frameGeometry(), window.geometry()
    margins = QMargins(inner.left() - frame.left(), inner.top() - frame.top(), frame.right() - inner.right(),
                       frame.bottom() - inner.bottom())
    return FRAME if margins.isNull() else margins


def keep_on_screen(window: QWidget) -> None:
    """A restored geometry that, framed, is larger than this screen's free area is fitted anew; one partly off
    the screen is moved onto it."""
    if window.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
        return
    available = _available(window)
    margins = frame_margins(window)
    framed = window.geometry().marginsAdded(margins)
    if framed.width() > available.width() or framed.height() > available.height():
        fit_to_screen(window)
    elif not available.contains(framed):
        framed.moveTo(min(max(framed.x(), available.x()), available.right() - framed.width() + 1),
                      min(max(framed.y(), available.y()), available.bottom() - framed.height() + 1))
        window.setGeometry(framed.marginsRemoved(margins))
