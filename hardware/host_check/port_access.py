"""Is the arm's serial port there, and may this user open it read/write?

The verdict comes from the device file's mode, owner and group against a uid and group list, so a test (which runs
as root, where every open succeeds) can show the refusal an ordinary user gets. For the running process itself
os.access has the last word, since it also honours ACLs (logind's uaccess) that the mode bits do not show."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence

from hardware.discovery import SerialPortInfo, list_serial_ports

from .problem import Problem, arm_label

try:
    import grp
    import pwd
except ImportError:  # Windows: COM ports, no owners or groups to name
    grp = pwd = None


def check_port(port: str, *, role: str | None = None, uid: int | None = None, gids: Sequence[int] | None = None,
               ports: Callable[[], list[SerialPortInfo]] = list_serial_ports) -> Problem | None:
    """None when the port exists and opens read/write for (uid, gids), by default this process's identity."""
    label = arm_label(role, port)
    if "://" in port:  # a pyserial URL (socket://, rfc2217://, the in-process emulator): no device file
        return None
    if not os.path.exists(port):
        plugged = [p for p in ports() if p.device != port]
        if plugged:
            what = "; ".join(p.label() for p in plugged)
            fix = "if one of them is this arm, `robotapp find-port` tells which, then use that port"
        else:
            what, fix = "nothing", "check the USB cable and that the adapter board has power"
        return Problem(f"{label}: no such port; plugged in instead: {what}: {fix}", "port")
    if grp is None:  # COM ports have no mode bits; opening tells
        return None
    st = os.stat(port)
    own = uid is None
    uid = os.geteuid() if uid is None else uid
    gids = set(_process_gids() if gids is None else gids)
    if may_open(st, uid, gids) or (own and os.access(port, os.R_OK | os.W_OK)):
        return None
    return Problem(_refusal(label, port, st, uid), "permission")


def may_open(st: os.stat_result, uid: int, gids: set[int]) -> bool:
    """Read and write allowed by the mode bits for this identity (root may open anything)."""
    if uid == 0:
        return True
    if st.st_uid == uid:
        need = stat.S_IRUSR | stat.S_IWUSR
    elif st.st_gid in gids:
        need = stat.S_IRGRP | stat.S_IWGRP
    else:
        need = stat.S_IROTH | stat.S_IWOTH
    return st.st_mode & need == need


def _refusal(label: str, port: str, st: os.stat_result, uid: int) -> str:
    group = _group_name(st.st_gid)
    user = _user_name(uid)
    owner = _user_name(st.st_uid) or st.st_uid
    where = f"{label}: permission denied for user {user or uid} (the port is {_mode(st)} {owner}:{group})"
    group_can = st.st_mode & (stat.S_IRGRP | stat.S_IWGRP) == stat.S_IRGRP | stat.S_IWGRP
    if not group_can or st.st_gid == 0:
        # joining the group would not help: open the file itself up (a udev rule makes it last)
        return f"{where}: run `sudo chmod a+rw {port}` (until it is replugged; a udev rule with MODE=\"0666\" keeps it)"
    if user and user in _members(st.st_gid):
        return (f"{where}: you are in group {group} but this login began before you joined it: log out and in "
                f"(or run `newgrp {group}`)")
    return f"{where}: run `sudo usermod -aG {group} $USER`, then log out and in"


def _process_gids() -> list[int]:
    return [os.getegid(), *os.getgroups()]


def _mode(st: os.stat_result) -> str:
    return stat.filemode(st.st_mode)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _members(gid: int) -> set[str]:
    """Who /etc/group (and the users' primary groups) says is in the group, whatever this login's groups are."""
    try:
        members = set(grp.getgrgid(gid).gr_mem)
    except KeyError:
        return set()
    return members | {u.pw_name for u in pwd.getpwall() if u.pw_gid == gid}
