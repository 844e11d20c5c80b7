"""Before Qt starts on Linux: the system libraries it loads, checked by name. A missing one makes Qt abort with
a message about its platform plugin ("could not load the Qt platform plugin "xcb" even though it was found"),
which is installed; this names the libraries that are missing and the packages that bring them, in one line.
Qt-free on purpose: it runs before PySide6 is imported (importing it already needs some of these)."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# (soname, Debian/Ubuntu package), from the NEEDED entries of the PySide6 wheel's libraries (readelf -d);
# the wheel brings its own ICU and nothing else.
QT_LIBRARIES = (  # libQt6Gui, libQt6DBus: needed whatever the platform
    ("libEGL.so.1", "libegl1"), ("libGL.so.1", "libgl1"), ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"), ("libxkbcommon.so.0", "libxkbcommon0"), ("libX11.so.6", "libx11-6"),
    ("libglib-2.0.so.0", "libglib2.0-0"), ("libgthread-2.0.so.0", "libglib2.0-0"),
    ("libdbus-1.so.3", "libdbus-1-3"),
)
XCB_LIBRARIES = (  # platforms/libqxcb.so and libQt6XcbQpa: the X11 window; Qt 6.5+ needs xcb-cursor too
    ("libxcb-cursor.so.0", "libxcb-cursor0"), ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-util.so.1", "libxcb-util1"), ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"), ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"), ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-shape.so.0", "libxcb-shape0"), ("libxcb-shm.so.0", "libxcb-shm0"), ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"), ("libxcb-xkb.so.1", "libxcb-xkb1"), ("libxcb.so.1", "libxcb1"),
    ("libX11-xcb.so.1", "libx11-xcb1"), ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
)


def loadable(soname: str) -> bool:
    """Whether the dynamic loader finds the library, as Qt's loading would (same search path)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Qt picks X11 (xcb): a DISPLAY, no QT_QPA_PLATFORM override, and not a Wayland session (Qt 6 tries
    Wayland first there, and its plugin needs none of the xcb libraries)."""
    if env.get("QT_QPA_PLATFORM"):
        return False
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland":
        return False
    return bool(env.get("DISPLAY"))


def startup_problem(env: Mapping[str, str] | None = None, platform: str | None = None,
                    finder: Callable[[str], bool] | None = None) -> str:
    """One line saying why Qt cannot start here ("" when nothing is known to stop it). finder(soname) says
    whether a library loads (default: `loadable`, looked up when called)."""
    env = os.environ if env is None else env
    finder = finder or loadable
    if not (platform or sys.platform).startswith("linux"):
        return ""  # macOS and Windows: Qt comes whole in the wheel
    if not env.get("QT_QPA_PLATFORM") and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set): run it in a desktop "
                "session, or with QT_QPA_PLATFORM=offscreen for a test without one")
    wanted = QT_LIBRARIES + (XCB_LIBRARIES if uses_xcb(env) else ())
    missing = [(name, package) for name, package in wanted if not finder(name)]
    if not missing:
        return ""
    packages = list(dict.fromkeys(package for _, package in missing))
    return (f"Qt cannot start: missing system libraries {', '.join(name for name, _ in missing)}: on Debian/Ubuntu: "
            f"sudo apt install {' '.join(packages)}")
