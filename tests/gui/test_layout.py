"""The window fits any screen from 1280×800 up: at 1280×800, 1600×1000 and 1920×1080 the E-STOP, the mode and
the status bar are inside the window on every page without scrolling, every control of every page (and of the
Rig page's tabs) can be seen whole (side panels may scroll to it), no field is narrower than its minimum size
hint, the Evaluate log is whole, and the Rig page's camera cards keep their own size. The window opens fitted to
the screen it opens on (a process of its own per screen set: tests/gui/screen_fit_probe.py)."""

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QScrollArea,
    QTabWidget,
    QWidget,
)

from .conftest import make_window

SIZES = [(1280, 800), (1600, 1000), (1920, 1080)]
CONTROLS = (QLineEdit, QAbstractSpinBox, QComboBox, QAbstractButton)
LAPTOP_WORK_AREA = (1280, 800 - 100)  # a 1280×800 screen less a panel and a title bar


def window_rect(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def shown_part(widget: QWidget, window: QWidget) -> QRect:
    """The part of `widget` left after every ancestor (a scroll area's viewport, a splitter pane, the window)
    has cut it to its own rectangle, in window coordinates."""
    shown = window_rect(widget, window)
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        shown = shown.intersected(window_rect(parent, window))
        parent = parent.parentWidget()
    return shown.intersected(window.rect())


def whole_problem(widget: QWidget, window: QWidget, what: str) -> str:
    """'' when `widget` is shown and whole inside the window, else what is wrong with it."""
    if not widget.isVisible():
        return f"{what}: not visible"
    full, shown = window_rect(widget, window), shown_part(widget, window)
    if shown != full:
        return f"{what}: clipped, {rect_text(shown)} shown of {rect_text(full)}"
    hint = widget.minimumSizeHint()
    if widget.width() < hint.width() or widget.height() < hint.height():
        return f"{what}: {widget.width()}×{widget.height()}, smaller than its minimum {hint.width()}×{hint.height()}"
    return ""


def rect_text(r: QRect) -> str:
    return f"{r.width()}×{r.height()} at ({r.x()}, {r.y()})"


def scroll_to(widget: QWidget, page: QWidget) -> None:
    """Scroll every scroll area of `page` that holds `widget` so that it shows (as a user would)."""
    for area in page.findChildren(QScrollArea):
        inner = area.widget()
        if inner is not None and inner.isAncestorOf(widget):
            area.ensureWidgetVisible(widget, 0, 0)


def is_control(widget: QWidget) -> bool:
    """A field or button a user works; the line edit inside a spin box or combo box is its parent's part."""
    if not isinstance(widget, CONTROLS):
        return False
    return not (isinstance(widget, QLineEdit) and isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox)))


def describe(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") else ""
    return f"{type(widget).__name__} {text[:30]!r}" if text else type(widget).__name__


def settled(qtbot, check) -> list[str]:
    """The problems check() finds once the window's layout has caught up: a label given a longer text, or a
    window just shown, is laid out on a later pass of the event loop. What is still wrong after 5 s is wrong."""
    found: list[str] = []

    def fine() -> bool:
        found[:] = [p for p in check() if p]
        return not found

    with contextlib.suppress(qtbot.TimeoutError):  # then `found` says what is wrong
        qtbot.waitUntil(fine, timeout=5000)
    return found


def tab_views(page: QWidget):
    """Each view of a page: the page itself, or each tab of its tab widgets in turn (the Rig page's setup tabs)."""
    tab_widgets = page.findChildren(QTabWidget)
    if not tab_widgets:
        yield ""
        return
    for tabs in tab_widgets:
        for k in range(tabs.count()):
            tabs.setCurrentIndex(k)
            yield f" / {tabs.tabText(k)}"


def always_shown(window) -> dict[str, QWidget]:
    """What must be in view on every page without any scrolling."""
    widgets = {"E-STOP": window.estop_button, "status bar": window.statusBar(), "status bar mode": window.status.mode}
    if hasattr(window, "state_badge"):  # the header's mode badge
        widgets["header mode"] = window.state_badge
    return widgets


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_page_fits_the_window(qtbot, tmp_path, size):
    window = make_window(qtbot, tmp_path / "gui.ini")
    try:
        window.showNormal()
        window.resize(*size)
        qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=10_000)
        # the window can be made as small as a laptop's work area: its minimum fits
        minimum = window.minimumSizeHint()
        assert minimum.width() <= LAPTOP_WORK_AREA[0] and minimum.height() <= LAPTOP_WORK_AREA[1], minimum
        # what the open rig fills in: the leader's hand, the ports (a role box per row), the camera cards
        rig = window.rig_page
        rig.cameras.refresh()
        qtbot.waitUntil(lambda: window.teleop_page.leader_panel.isVisibleTo(window.teleop_page)
                        and rig.ports.table.rowCount() >= 2 and len(rig.cameras.cards) >= 2, timeout=20_000)

        def view_problems(page: QWidget, where: str) -> list[str]:
            found = [whole_problem(w, window, f"{where}: {name}") for name, w in always_shown(window).items()]
            for widget in page.findChildren(QWidget):
                if widget.isVisible() and is_control(widget):
                    scroll_to(widget, page)
                    found.append(whole_problem(widget, window, f"{where}: {describe(widget)}"))
            return found

        problems = []
        for page_index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(page_index)
            page, title = window.tabs.widget(page_index), window.tabs.tabText(page_index).replace("&&", "&")
            for view in tab_views(page):
                problems += settled(qtbot, lambda p=page, w=f"{title}{view}": view_problems(p, w))
        assert not problems, f"at {size[0]}×{size[1]}:\n" + "\n".join(problems)
    finally:
        window.close()


@pytest.mark.parametrize("size", [(1280, 800), LAPTOP_WORK_AREA], ids=["1280x800", "laptop-work-area"])
def test_named_controls_are_whole_on_a_laptop(qtbot, tmp_path, size):
    """The controls users found cut off or out of reach on a 1280×800 laptop, by name; also in the smaller
    room a maximized window has there (the screen less a panel and a title bar)."""
    window = make_window(qtbot, tmp_path / "gui.ini")
    try:
        window.showNormal()
        window.resize(*size)
        qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=10_000)
        teleop = window.teleop_page
        window.tabs.setCurrentWidget(teleop)
        qtbot.waitUntil(lambda: teleop.leader_panel.isVisible(), timeout=10_000)
        # the mode and the teleop buttons stay in view while the side panel scrolls to the leader's buttons
        leader = teleop.leader_panel
        for button in (leader.demo_button, leader.home_button, leader.scene_button):
            named = [(describe(button), button), ("teleop mode", teleop.mode_label), ("Engage", teleop.engage_button),
                     *always_shown(window).items()]

            def scrolled_to(b=button, n=named) -> list[str]:
                scroll_to(b, teleop)
                return [whole_problem(w, window, name) for name, w in n]

            problems = settled(qtbot, scrolled_to)
            assert not problems, problems

        evaluate = window.evaluate_page
        window.tabs.setCurrentWidget(evaluate)
        problems = settled(qtbot, lambda: [whole_problem(evaluate.log, window, "Evaluate log")])
        assert not problems, problems
        lines = evaluate.log.viewport().height() // evaluate.log.fontMetrics().height()
        assert lines >= 5, f"the Evaluate log shows {lines} line(s)"
        # a long line of the log wraps in its column: nothing runs off its right edge
        evaluate.log.addItem("episode 10/10 (seed 9): fail (cube left 5.8 cm outside the zone) in 20.0 s [3/10, 2 s]")
        qtbot.waitUntil(lambda: evaluate.log.visualItemRect(evaluate.log.item(0)).height() > 0, timeout=5000)
        row = evaluate.log.visualItemRect(evaluate.log.item(0))
        assert row.right() < evaluate.log.viewport().width(), f"a log line {row.width()} wide in a " \
            f"{evaluate.log.viewport().width()} wide log"
    finally:
        window.close()


def test_camera_cards_keep_their_size(qtbot, window):
    """Cards as big as their thumbnail and fields, side by side from the left, whatever room the tab has."""
    rig = window.rig_page
    window.tabs.setCurrentWidget(rig)
    rig.tabs.setCurrentWidget(rig.cameras)
    rig.cameras.refresh()
    qtbot.waitUntil(lambda: len(rig.cameras.cards) >= 2, timeout=20_000)

    def card_problems(size) -> list[str]:
        cards, spacing = rig.cameras.cards, rig.cameras.strip_layout.spacing()
        found = [f"at {size}: card {c.width()}×{c.height()} for content {c.sizeHint().width()}×"
                 f"{c.sizeHint().height()}" for c in cards if c.size() != c.sizeHint()]
        found += [f"at {size}: cards not in one row" for c in cards if c.y() != cards[0].y()]
        found += [f"at {size}: a {right.x() - left.geometry().right() - 1} px gap between camera cards"
                  for left, right in zip(cards, cards[1:], strict=False)
                  if right.x() - left.geometry().right() - 1 > spacing]
        return found + [whole_problem(c.role, window, f"at {size}: role field") for c in cards]

    for size in ((1920, 1080), (1280, 800)):
        window.showNormal()
        window.resize(*size)
        qtbot.waitUntil(lambda s=size: (window.width(), window.height()) == s, timeout=10_000)
        problems = settled(qtbot, lambda s=size: card_problems(s))
        assert not problems, problems


def run_probe(tmp_path: Path, screen: tuple[int, int], *args: str) -> dict:
    """The main window as it opens on a screen of this size, in a Qt of its own."""
    config = {"name": "screen", "x": 0, "y": 0, "width": screen[0], "height": screen[1], "logicalDpi": 96,
              "logicalBaseDpi": 96, "dpr": 1}
    (tmp_path / "screens.json").write_text(json.dumps({"screens": [config]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={tmp_path / 'screens.json'}",
               ROBOTAPP_HOME=str(tmp_path / "home"))
    probe = Path(__file__).with_name("screen_fit_probe.py")
    done = subprocess.run([sys.executable, str(probe), str(tmp_path), *args], env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 1, done.stdout + done.stderr[-3000:]
    return rows[0]


def inside(inner: list[int], outer: list[int]) -> bool:
    return QRect(*outer).contains(QRect(*inner))


@pytest.mark.parametrize("screen", [(1280, 800), (1600, 1000), (1920, 1080), (3840, 2160)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_window_opens_fitted_to_its_screen(tmp_path, screen):
    """A laptop screen gets a maximized window; a big one most of its area; never more than the screen."""
    row = run_probe(tmp_path, screen)
    assert inside(row["frame"], row["available"]), row
    client = [0, 0, row["geometry"][2], row["geometry"][3]]
    assert inside(row["estop"], client) and inside(row["status"], client), row
    if screen == (1280, 800):
        assert row["maximized"], row
    # it uses the room: most of the screen's width and height
    assert row["frame"][2] >= 0.8 * screen[0] and row["frame"][3] >= 0.8 * screen[1], row


def test_a_geometry_saved_on_a_bigger_screen_is_fitted_back(tmp_path):
    row = run_probe(tmp_path, (1280, 800), "--saved-geometry", "1800x1050")
    assert inside(row["frame"], row["available"]), row
    client = [0, 0, row["geometry"][2], row["geometry"][3]]
    assert inside(row["estop"], client) and inside(row["status"], client), row
