"""What the Dataset page shows of a dataset's episodes: the table's rows, the flags in full, a name for an
episode that outlives renumbering (when it was recorded), and what a delete renumbered, in words."""

from __future__ import annotations

import datetime as _dt

COLUMNS = ["#", "recorded", "frames", "seconds", "loop Hz", "dropped", "flags", "task"]


def recorded_label(iso: str | None) -> str:
    """An episode's recording time, local, to the second ("" when the dataset has none, e.g. lerobot's)."""
    if not iso:
        return ""
    try:
        return _dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return ""


def episode_rows(reader) -> list[list[object]]:
    rows = []
    for e in reader.episodes:
        extra = reader.extra(e.index)
        tel = extra.get("telemetry") or {}
        dropped = sum((tel.get("camera_dropped") or {}).values())
        rows.append([e.index, recorded_label(extra.get("recorded_at")), e.length, f"{e.length / reader.fps:.1f}",
                     f"{tel['loop_hz']:.0f}" if "loop_hz" in tel else "", dropped if tel else "",
                     f"⚑ {len(tel['flags'])}" if tel.get("flags") else "", ", ".join(e.tasks)])
    return rows


def flag_texts(reader) -> list[str]:
    return ["\n".join((reader.extra(e.index).get("telemetry") or {}).get("flags") or []) for e in reader.episodes]


def _span(lo: int, hi: int) -> str:
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def numbers(eps: list[int]) -> str:
    """'episode 3' or 'episodes 2, 5'."""
    return f"episode {eps[0]}" if len(eps) == 1 else f"episodes {', '.join(map(str, eps))}"


def renumbering(count: int, removed: list[int]) -> str:
    """What removing `removed` from `count` episodes did to the others' numbers, e.g. 'episodes 4–9 are now
    3–8' (the episodes after a removed one move up; their data is unchanged)."""
    gone = set(removed)
    runs: list[list[int]] = []  # [first old number, last old number, shift]
    new = 0
    for old in range(count):
        if old in gone:
            continue
        shift = old - new
        if shift:
            if runs and runs[-1][1] == old - 1 and runs[-1][2] == shift:
                runs[-1][1] = old
            else:
                runs.append([old, old, shift])
        new += 1
    if not runs:
        return "no other episode was renumbered"
    return "; ".join(f"{'episode' if lo == hi else 'episodes'} {_span(lo, hi)} {'is' if lo == hi else 'are'} now "
                     f"{_span(lo - s, hi - s)}" for lo, hi, s in runs)
