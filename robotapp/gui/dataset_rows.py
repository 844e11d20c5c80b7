"""What the Dataset page shows of a dataset's episodes: the table's rows, the flags in full, where a person
took over from the policy (the "intervention" frames of an evaluation, as spans), a name for an episode that
outlives renumbering (when it was recorded), and what a delete renumbered, in words."""

from __future__ import annotations

import datetime as _dt

import numpy as np

from robotapp.dataset.features import INTERVENTION_KEY

COLUMNS = ["#", "recorded", "frames", "seconds", "loop Hz", "dropped", "flags", "taken over", "task"]
TAKEN_OVER = COLUMNS.index("taken over")  # shown only for a dataset with the intervention feature
TAKEN_OVER_WORDS = "taken over by a person"


def intervention_spans(flags) -> list[tuple[int, int]]:
    """The runs of True frames as [start, end) frame ranges: [F, T, T, F, T] -> [(1, 3), (4, 5)]."""
    f = np.asarray(flags, dtype=bool).reshape(-1)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], f, [False]]).astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def spans_summary(spans: list[tuple[int, int]], fps: float) -> str:
    """'2 spans, 1.5 s' ('' when a person never took over)."""
    if not spans:
        return ""
    frames = sum(b - a for a, b in spans)
    return f"{len(spans)} span{'s' if len(spans) != 1 else ''}, {frames / fps:.1f} s"


def spans_tooltip(spans: list[tuple[int, int]], fps: float) -> str:
    """'interventions: 2 spans, 0.5 s — taken over by a person at 0.20–0.50 s, 0.80–1.00 s'."""
    if not spans:
        return "interventions: none (the policy drove every frame)"
    when = ", ".join(f"{a / fps:.2f}–{b / fps:.2f} s" for a, b in spans)
    return f"interventions: {spans_summary(spans, fps)} — {TAKEN_OVER_WORDS} at {when}"


def episode_spans(reader) -> list[list[tuple[int, int]]] | None:
    """Each episode's intervention spans, or None for a dataset without the feature."""
    if INTERVENTION_KEY not in reader.features:
        return None
    return [intervention_spans(reader.episode_data(e.index)[INTERVENTION_KEY]) for e in reader.episodes]


def recorded_label(iso: str | None) -> str:
    """An episode's recording time, local, to the second ("" when the dataset has none, e.g. lerobot's)."""
    if not iso:
        return ""
    try:
        return _dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return ""


def episode_rows(reader, spans: list[list[tuple[int, int]]] | None = None) -> list[list[object]]:
    """spans: episode_spans(reader), for the "taken over" column (empty without)."""
    rows = []
    for e in reader.episodes:
        extra = reader.extra(e.index)
        tel = extra.get("telemetry") or {}
        dropped = sum((tel.get("camera_dropped") or {}).values())
        rows.append([e.index, recorded_label(extra.get("recorded_at")), e.length, f"{e.length / reader.fps:.1f}",
                     f"{tel['loop_hz']:.0f}" if "loop_hz" in tel else "", dropped if tel else "",
                     f"⚑ {len(tel['flags'])}" if tel.get("flags") else "",
                     spans_summary(spans[e.index], reader.fps) if spans else "", ", ".join(e.tasks)])
    return rows


def table_contents(reader) -> tuple[list[list[object]], list[str], list[str] | None]:
    """On a worker: the table's rows, each episode's flags in full, and where a person took over (the "taken
    over" column's tooltips; None for a dataset without the intervention feature)."""
    spans = episode_spans(reader)
    tips = None if spans is None else [spans_tooltip(s, reader.fps) for s in spans]
    return episode_rows(reader, spans), flag_texts(reader), tips


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
