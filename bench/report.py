"""Renders the suite's results (JSON) as docs/benchmarks.md: per measure a table of our figure, lerobot's figure
from the same run and the ratio, then where we are behind and why.

    .venv/bin/python bench/report.py .bench/results.json docs/benchmarks.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Why a figure is behind lerobot's and what would close the gap, by row id (shown only when we are behind).
GAPS = {
    "P1.plain": "Both send the same bytes through the same dynamixel-sdk calls (one status packet per servo); what "
                "differs is the Python around them (ours checks names and registers and builds a numpy array). "
                "Keeping the result buffer per (register, motors) like the SDK group objects would take most of it "
                "away; our default, Fast Sync Read, is the row to compare.",
    "P1.fast": "Fast Sync Read puts one combined status packet on the wire instead of six; behind here means the "
               "load's noise or the emulator's cost of building that packet, not the protocol.",
    "P1.units": "Our Arm converts with numpy; at six values the array set-up costs about what lerobot's six scalar "
                "formulas do. Precomputed scale/offset arrays per arm would close it.",
    "P3.samples": "Per step the network dominates (see 'network alone'): the same ResNet-18 and transformer math, "
                  "so the end-to-end figure follows the network row; profiling one step of each with torch.profiler "
                  "would name the layer (channels-last convolutions and frozen BN are the first suspects on CPU).",
    "P3.net_step": "Same weights, same batch: the gap is our implementation of the same layers; torch.profiler on "
                   "both steps names the op (channels-last ResNet-18 with frozen BN is the first suspect on CPU).",
    "P3.first_step": "Ours decodes every frame of the dataset into its frame cache (resized, in memory) before the "
                     "first step: seconds here, minutes on a large dataset; lerobot starts at once and decodes per "
                     "sample in its DataLoader workers, every epoch. Serving the first steps straight from the "
                     "videos while the cache fills in the background would close it.",
    "P5.infer": "The network dominates the call: see 'network alone'.",
    "P5.net_infer": "Same weights and input: the gap is our layers; see P3's network step.",
    "P6.fps": "Both seek to the keyframe before each requested frame and decode forward with PyAV (dav1d); the "
              "difference is per-frame overhead in the reader. Decoding the cameras of one frame concurrently "
              "would more than close it.",
    "P6.open": "Our reader loads the data files into numpy arrays on open (fast reads after); lerobot memory-maps "
               "Arrow files. Loading columns lazily would close it on large datasets.",
}


def fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    a = abs(v)
    digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 0.1 else 3
    if unit == "frames":
        digits = 0 if float(v).is_integer() else 1
    return f"{v:,.{digits}f}"


def cell(s: dict | None, unit: str, pcts: dict | None = None) -> str:
    if not s or s.get("median") is None:
        return "—"
    text = f"**{fmt(s['median'], unit)}** ({fmt(s['min'], unit)}–{fmt(s['max'], unit)})"
    for name, p in (pcts or {}).items():
        if p and p.get("median") is not None:
            text += f"; {name} {fmt(p['median'], unit)}"
    return text


def overlap(row: dict) -> bool:
    """True when each tool's median lies inside the other's min-max of runs: a difference this run cannot tell
    apart from the load's noise (one outlying run alone does not make it so)."""
    o, t = row["ours"], row["lerobot"] or {}
    if o.get("min") is None or t.get("min") is None:
        return False
    return t["min"] <= o["median"] <= t["max"] and o["min"] <= t["median"] <= o["max"]


def ratio(row: dict) -> tuple[str, float | None]:
    o, t = row["ours"].get("median"), (row["lerobot"] or {}).get("median")
    if o is None or t is None:
        return ("—", None)
    if row["unit"] == "frames":  # counts: a ratio of drops says nothing useful
        return ("same" if o == t else ("fewer" if o < t else "more"), None)
    if min(o, t) <= 0:
        return ("—", None)
    r = t / o if row["better"] == "lower" else o / t
    if 0.95 <= r <= 1.05:
        return (f"{r:.2f}× (even)", r)
    if overlap(row):
        return (f"{r:.2f}× (within the spread)", r)
    return (f"**{r:.2f}× {'faster' if r > 1 else 'slower'}**" if row["unit"] not in ("Hz",) else
            f"**{r:.2f}× {'better' if r > 1 else 'worse'}**", r)


def _busy(res: dict) -> bool:
    """Did other work load the machine? Above one runnable process per core at the start or the end."""
    cores = res['machine'].get('cores') or 1
    return max(res['load_start'][0], res['load_end'][0]) > cores


def render(res: dict) -> str:
    m = res["machine"]
    out = ["# Benchmarks: robotapp side by side with lerobot", ""]
    out += ["Every figure below comes from one run of one command on one machine; where lerobot can run, its "
            "figure comes from the same run, on the same data, with its runs alternating with ours. "
            "Each figure is the **median of several runs, with the min–max of the runs** in brackets. "
            "The ratio says how many times better ours is (>1: ours is ahead, <1: behind).", ""]
    out += [f"- **Command:** `{res['command']}`",
            f"- **Machine:** {m['cpu_model']}, {m['cores']} cores, {m['mem_gb']:.0f} GB RAM, {m['os']}, "
            f"Python {m['python']}, torch {m['torch']} (CPU)",
            f"- **lerobot:** {res['lerobot']['note']}",
            f"- **Load average (1 min) at start / end:** {res['load_start'][0]:.1f} / {res['load_end'][0]:.1f} — "
            + ("other work shared this machine during the run, so absolute figures are pessimistic; the ratios "
               "compare runs taken side by side under the same load." if _busy(res) else
               "the suite's own processes (the bench alternates tools; the emulator serves P1's pty)."),
            f"- **Date:** {res['started']} · duration {res['duration_s'] / 60:.0f} min"
            + (" · **--quick run (short, not for quoting)**" if res.get("quick") else ""), ""]
    out += ["Both tools' processes run at `nice 10` with the same environment: `OMP_WAIT_POLICY=PASSIVE`, which "
            "our packages set for themselves on import, is given to lerobot too, so the figures compare the code "
            "and not that setting. lerobot as installed leaves OpenMP's spinning waits on; on this machine under "
            "load that made its ACT training steps 3–5× slower in trials while this suite was written, and about "
            "the same when the load dropped (not a figure of this run: it moves with the load of the moment).", ""]
    behind = []
    for key in ("P1", "P2", "P3", "P5", "P6"):
        meas = res["measures"].get(key)
        if meas is None:
            continue
        out += [f"## {meas['title']}", ""]
        if meas.get("error"):
            out += [f"Not measured: {meas['error']}", ""]
            continue
        out += [meas["setup"], ""]
        out += ["| measure | ours | lerobot | ours vs lerobot |", "|---|---|---|---|"]
        for row in meas["rows"]:
            pcts = row.get("pcts") or {}
            text, r = ratio(row)
            ler = cell(row["lerobot"], row["unit"], {k: v["lerobot"] for k, v in pcts.items()}) \
                if row["lerobot"] else f"— ({row['lerobot_note']})" if row["lerobot_note"] else "—"
            ours = cell(row["ours"], row["unit"], {k: v["ours"] for k, v in pcts.items()})
            out.append(f"| {row['label']} ({row['unit']}) | {ours} | {ler} | {text} |")
            if r is not None and r < 0.95:
                behind.append((row, r))
        out.append("")
    if res.get("notes"):
        out += ["## Runs left out", ""] + [f"- {n}" for n in res["notes"]] + [""]
    out += ["## Where we are behind", ""]
    if not behind:
        out += ["Nowhere in this run.", ""]
    for row, r in sorted(behind, key=lambda x: overlap(x[0])):
        why = GAPS.get(row["id"], "")
        if overlap(row):
            why = ("Each median lies inside the other tool's range of runs: on this loaded machine that is not a gap "
                   "this run can tell from noise. " + why)
        out.append(f"- **{row['id']} — {row['label']}: {r:.2f}×.** {why}".rstrip())
    out += ["", "## Reproduce", "",
            "```bash",
            "make bench                      # writes docs/benchmarks.md (10–20 min on 2 cores)",
            "make bench BENCH_ARGS=--quick   # a short trial run",
            "LEROBOT_PYTHON=/path/to/venv/bin/python make bench   # lerobot from another environment",
            "```", "",
            "lerobot lives in its own virtual environment (`make bench-lerobot-venv` creates `.bench/lerobot-venv` "
            "with lerobot 0.4.4 on the CPU torch); it is never a dependency of this project. Its side of each "
            "measure is a script in `bench/lerobot_side/` that imports only lerobot; ours are the scripts in "
            "`bench/`. Without that environment the page says 'lerobot not available' in lerobot's column. "
            "Raw per-run figures: `.bench/results.json`.", ""]
    return "\n".join(out)


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    Path(dst).write_text(render(json.loads(Path(src).read_text())))


if __name__ == "__main__":
    main()
