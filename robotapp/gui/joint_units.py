"""One way to write a joint's value in the arm's calibrated units: degrees for joints, 0-100 % for a gripper. The
leader's sliders, the joint plots' titles and the value labels all go through here, so one joint never reads in
two units (or two zero points) on one page."""

from __future__ import annotations

DEGREES = "°"
PERCENT = "%"


def unit_for(is_gripper: bool) -> str:
    return PERCENT if is_gripper else DEGREES


def format_value(value: float, unit: str, decimals: int = 0) -> str:
    """'72°', '35%'; '-' for a value not known (NaN)."""
    if value != value:  # NaN
        return "-"
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]  # no "-0°"
    return f"{text}{unit}"


def plot_title(name: str, unit: str) -> str:
    return f"{name} ({unit})"
