"""`robotapp gui` before Qt starts: missing system libraries are named in one line with the packages that bring
them (exit 1, PySide6 never imported), only those the chosen Qt platform loads are asked for, and the README's
apt line installs every one of them."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from robotapp.cli.main import main
from robotapp.gui import system_libraries as libs

X11 = {"DISPLAY": ":0"}


def missing(*names):
    return lambda soname: soname not in names


def test_a_missing_xcb_library_is_named_with_its_package():
    line = libs.startup_problem(X11, "linux", missing("libxcb-cursor.so.0", "libxkbcommon-x11.so.0"))
    assert line == ("Qt cannot start: missing system libraries libxcb-cursor.so.0, libxkbcommon-x11.so.0: on "
                    "Debian/Ubuntu: sudo apt install libxcb-cursor0 libxkbcommon-x11-0")


def test_nothing_missing_is_no_problem():
    assert libs.startup_problem(X11, "linux", lambda soname: True) == ""


def test_only_the_chosen_platforms_libraries_are_asked_for():
    asked = []
    no_xcb = missing(*(name for name, _ in libs.XCB_LIBRARIES))
    for env in ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},
                {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}):
        assert libs.startup_problem(env, "linux", lambda s: asked.append(s) or no_xcb(s)) == ""
    assert asked and not set(asked) & {name for name, _ in libs.XCB_LIBRARIES}
    # the libraries every platform needs are still asked for (libQt6Gui links them)
    line = libs.startup_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", missing("libEGL.so.1"))
    assert line.endswith("libEGL.so.1: on Debian/Ubuntu: sudo apt install libegl1")


def test_other_systems_and_no_display():
    assert libs.startup_problem({}, "darwin", lambda s: False) == ""
    assert libs.startup_problem({}, "win32", lambda s: False) == ""
    assert libs.startup_problem({}, "linux", lambda s: True).startswith("no display to open the window on")


def test_the_real_loader():
    assert libs.loadable("libc.so.6") and not libs.loadable("libnot-a-library-robotapp.so.9")


def test_robotapp_gui_says_it_in_one_line_and_exits_1(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(libs, "loadable", missing("libxcb-cursor.so.0"))
    assert main(["gui", "--quit-after", "1"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("robotapp gui: Qt cannot start: missing system libraries libxcb-cursor.so.0: on "
                            "Debian/Ubuntu: sudo apt install libxcb-cursor0\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux")
def test_qt_is_not_imported_before_the_check_fails(tmp_path):
    """In a fresh interpreter: PySide6 is not loaded when the check refuses (Qt would abort the process)."""
    code = ("import sys\nfrom robotapp.gui import system_libraries as libs\n"
            "libs.loadable = lambda s: s != 'libxcb-cursor.so.0'\n"
            "from robotapp.cli.main import main\n"
            "code = main(['gui'])\n"
            "print('PySide6' in sys.modules, code)\n")
    env = {"PATH": "/usr/bin:/bin", "DISPLAY": ":99", "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.stdout.split() == ["False", "1"], run.stderr
    assert run.stderr.count("\n") == 1 and "libxcb-cursor0" in run.stderr


def test_the_readme_installs_every_library_the_check_knows():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    apt = " ".join(re.search(r"sudo apt install (.*?)\n  ```", readme, re.S).group(1).replace("\\\n", " ").split())
    packages = set(apt.split())
    assert {package for _, package in libs.QT_LIBRARIES + libs.XCB_LIBRARIES} <= packages
