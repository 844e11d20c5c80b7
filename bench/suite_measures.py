"""The measures of bench/suite.py. Each returns {"title", "setup", "rows": [...], "notes": [...]}; a row is one
figure: {"id", "label", "unit", "better": "lower"|"higher", "ours": summary, "lerobot": summary | None,
"lerobot_note": why there is none, optional "pcts": {"p10"|"p99": {"ours": summary, "lerobot": summary}}}. Every figure is the
median of several runs (min-max beside it); the two tools' runs alternate so a load drift hits both alike."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from suite_runner import ROOT, Runner, SideFailed, interleave, summary

KOCH_MOTORS = "1:xl430-w250,2:xl430-w250,3:xl330-m288,4:xl330-m288,5:xl330-m288,6:xl330-m288"


@dataclass
class Params:
    """Run lengths; --quick shortens all of them (for trying the suite out, not for the page)."""
    repeats: int = 5
    ticks: int = 2000
    session_episodes: int = 3
    session_seconds: float = 20.0
    writer_episodes: int = 3
    writer_seconds: float = 10.0
    writer_hw: tuple[int, int] = (480, 640)
    train_repeats: int = 3
    train_steps: int = 8
    train_warmup: int = 2
    calls: int = 300
    net_steps: int = 4
    reads: int = 300
    p6_repeats: int = 7
    threads: int = 2
    num_workers: int = 2

    @classmethod
    def quick(cls) -> Params:
        return cls(repeats=2, ticks=300, session_episodes=2, session_seconds=4, writer_episodes=2, writer_seconds=3,
                   train_repeats=1, train_steps=2, train_warmup=1, calls=60, net_steps=2, reads=40, p6_repeats=2)


def _row(id_: str, label: str, unit: str, better: str, ours: list, lerobot: list | None, note: str = "",
         pcts: dict[str, tuple[list, list | None]] | None = None) -> dict:
    row = {"id": id_, "label": label, "unit": unit, "better": better, "ours": summary(ours),
           "lerobot": summary(lerobot) if lerobot else None, "lerobot_note": note if not lerobot else ""}
    if pcts:
        row["pcts"] = {k: {"ours": summary(o), "lerobot": summary(t) if t else None} for k, (o, t) in pcts.items()}
    return row


def _collect(runner: Runner, repeats: int, jobs: dict) -> tuple[dict[str, list], str]:
    """jobs: side -> (script, args). Runs them interleaved; returns side -> list of results and a note on
    lerobot's failed runs (the reason when none succeeded)."""
    res: dict[str, list] = {s: [] for s in jobs}
    errors: list[str] = []
    for _, side in interleave(repeats, list(jobs)):
        if side != "ours" and runner.lerobot_python is None:
            errors.append("lerobot not available")
            continue
        script, args = jobs[side]
        try:
            res[side].append(runner.run("ours" if side == "ours" else "lerobot", script, args))
        except SideFailed as e:
            if side == "ours":
                raise
            errors.append(str(e))
    if not errors:
        return res, ""
    if not res["lerobot"]:
        return res, errors[-1]
    runner.notes.append(f"{len(errors)} of {len(errors) + len(res['lerobot'])} lerobot runs of {jobs['lerobot'][0]} "
                        f"failed and are left out: {errors[-1]}")
    return res, ""


# ------------------------------------------------------------------------------------------------------ P1
class Emulator:
    """`robotapp emulate` in its own process serving a Koch follower on a pty, as a real servo chain is its own
    device; both tools talk to the same one. It runs at normal priority (the clients at nice 10): it stands in
    for servos, which no other work on the machine can preempt."""

    def __init__(self, timing: bool):
        cmd = [sys.executable, "-m", "robotapp", "emulate", "--motors", KOCH_MOTORS]
        self.proc = subprocess.Popen(cmd + ([] if timing else ["--no-timing"]), cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.port = self.proc.stdout.readline().strip().removeprefix("port: ")

    def close(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


def p1_bus(runner: Runner, p: Params) -> dict:
    configs = [  # id, label, wire timing, our flags, lerobot flags
        ("plain", "raw ticks, same packets (plain Sync Read); wire timing off", False, ["--plain"], []),
        ("fast", "raw ticks, ours with Fast Sync Read (its default); wire timing off", False, [], []),
        ("units", "calibrated units (degrees, gripper %): our Arm vs lerobot normalize=True; wire timing off",
         False, ["--units"], ["--units"]),
        ("plain_wire", "raw ticks, plain Sync Read; 1 Mbps wire-timing model on", True, ["--plain"], []),
        ("fast_wire", "raw ticks, ours with Fast Sync Read; 1 Mbps wire-timing model on", True, [], []),
    ]
    rows = []
    for id_, label, timing, ours_flags, ler_flags in configs:
        print(f"P1 {id_}", file=sys.stderr, flush=True)
        emu = Emulator(timing)
        try:
            jobs = {"ours": ("bus.py", ["--port", emu.port, "--ticks", str(p.ticks), *ours_flags, "--json"]),
                    "lerobot": ("lerobot_side/bus_tick.py",
                                ["--port", emu.port, "--ticks", str(p.ticks), *ler_flags, "--out"])}
            res, note = _collect(runner, p.repeats, jobs)
        finally:
            emu.close()
        med = {s: [float(np.median(r["ticks_s"])) * 1e6 for r in v] for s, v in res.items()}
        pct = {q: {s: [float(np.percentile(r["ticks_s"], q)) * 1e6 for r in v] for s, v in res.items()}
               for q in (10, 99)}
        failed = {s: sum(r.get("failed", 0) for r in v) for s, v in res.items()}
        if any(failed.values()):
            label += f" (ticks failed after retries: ours {failed['ours']}, lerobot {failed['lerobot']})"
        rows.append(_row(f"P1.{id_}", label, "µs", "lower", med["ours"], med["lerobot"], note,
                         pcts={f"p{q}": (pct[q]["ours"], pct[q]["lerobot"]) for q in (10, 99)}))
    return {"title": "P1 · Bus tick: sync-read 6 + sync-write 6 on a Koch follower",
            "setup": (f"Present_Position in, Goal_Position out, ids 1-6 (2 × XL430-W250, 4 × XL330-M288), "
                      f"Return_Delay_Time 0, 1 Mbps. Both tools open the same pty served by `robotapp emulate` "
                      f"(its own process, at normal priority: it stands in for the servos). lerobot: "
                      f"`DynamixelMotorsBus.sync_read/sync_write`; ours: `DynamixelBus.sync_read/sync_write`; both "
                      f"retry a sync read up to 3 times (lerobot: num_retry=3, as our bus does by default). Each "
                      f"run: {p.ticks} ticks after 200 warm-up; figure: median tick of each run, median over "
                      f"{p.repeats} runs per tool (min–max), p10 and p99 likewise. On a loaded machine the tick times are "
                      f"bimodal (about 0.5 ms when neither process is preempted, several ms when one is), so a "
                      f"run's median moves with the load at that moment: read the min–max and the p10 (the tick when nothing "
                      f"preempts it) before the ratio."),
            "rows": rows}


# ------------------------------------------------------------------------------------------------------ P2
def p2_record(runner: Runner, p: Params, work: Path) -> dict:
    print("P2 session", file=sys.stderr, flush=True)
    rows = []
    sess: list[dict] = []
    stops: list[str] = []
    for _ in range(3):  # the session's 200 ms watchdog ends a recording when the loop stalls: start again
        out = runner.run("ours", "record.py", ["--episodes", str(p.session_episodes - len(sess)), "--episode-time",
                                               str(p.session_seconds), "--json"])
        sess += out["episodes"]
        stops += [e for e in out.get("events", []) if e.startswith(("watchdog:", "fault:", "error:"))]
        if len(sess) >= p.session_episodes:
            break
    why = "n/a: see above"
    if stops:
        runner.notes.append(f"P2 virtual rig session: {len(stops)} recording(s) stopped by the session and started "
                            f"again ({len(sess)} of {p.session_episodes} episodes recorded in the end): "
                            + "; ".join(stops[:3]))
    col = lambda k: [e[k] for e in sess]  # noqa: E731
    rows += [
        _row("P2.session_hz", "virtual rig session: control loop Hz (target 90)", "Hz", "higher", col("loop_hz"), None,
             why),
        _row("P2.session_jitter", "virtual rig session: loop jitter p99", "ms", "lower", col("jitter_ms_p99"), None,
             why),
        _row("P2.session_dropped", "virtual rig session: camera frames dropped (3 cameras)", "frames", "lower",
             col("dropped"), None, why),
        _row("P2.session_durable", "virtual rig session: episode end → durable", "s", "lower", col("durable_s"), None,
             why),
    ]
    print("P2 writer", file=sys.stderr, flush=True)
    h, w = p.writer_hw
    frames_path = work / f"frames_{h}x{w}.npy"
    if not frames_path.exists():
        sys.path.insert(0, str(ROOT / "bench"))
        from dataset import camera_frames

        np.save(frames_path, np.stack([np.stack(camera_frames(60, h, w, i)) for i in range(3)]))
    common = ["--frames", str(frames_path), "--episodes", str(p.writer_episodes), "--seconds", str(p.writer_seconds)]
    ours = runner.run("ours", "dataset.py", [*common, "--json"])["episodes"]
    ler: dict[str, list] = {}
    notes: dict[str, str] = {}
    for mode, extra in (("default", []), ("streaming", ["--streaming"])):
        try:
            ler[mode] = runner.run("lerobot", "lerobot_side/writer.py",
                                   [*common, "--root", str(work / f"lerobot-writer-{mode}"), *extra, "--out"])["episodes"]
        except SideFailed as e:
            ler[mode], notes[mode] = [], str(e)
    metrics = [("loop_hz", "loop Hz (target 30)", "Hz", "higher"), ("late_p99_ms", "loop jitter p99 (tick start late)",
                                                                    "ms", "lower"),
               ("add_frame_p99_ms", "add_frame p99", "ms", "lower"), ("dropped", "frames dropped", "frames", "lower"),
               ("durable_s", "episode end → durable", "s", "lower")]
    for mode, what in (("default", "lerobot-record defaults: PNGs, encode at episode end"),
                       ("streaming", "lerobot streaming_encoding=true, encoder_threads=2")):
        for key, label, unit, better in metrics:
            rows.append(_row(f"P2.writer_{mode}.{key}", f"writer vs {what}: {label}", unit, better,
                             [e[key] for e in ours], [e[key] for e in ler[mode]], notes.get(mode, "")))
    return {"title": "P2 · Recording: 3 cameras at 30 fps",
            "setup": (f"Virtual rig session (ours only: lerobot's record loop needs a lerobot Robot with its "
                      f"cameras, and the virtual rig is not one): the runtime's 90 Hz control loop, scripted demonstrator, 3 "
                      f"rendered 320×240 cameras, AV1 encoded while recording; {p.session_episodes} episodes of "
                      f"{p.session_seconds:g} s, each a run. Writer on identical frames: the same 30 fps paced loop "
                      f"feeds 3 cameras of {w}×{h} (60 camera-like frames, cycled) into our DatasetWriter and into "
                      f"lerobot's LeRobotDataset (add_frame, save_episode; AV1 both); {p.writer_episodes} episodes of "
                      f"{p.writer_seconds:g} s per tool, each a run. 'Durable' for ours: published after fsync; "
                      f"for lerobot: save_episode returned (it does not fsync)."),
            "rows": rows}


# --------------------------------------------------------------------------------------------------- P3, P5
def act_config(dataset: Path) -> tuple[dict, list[str]]:
    """Our cpu-small ACT with lerobot's backbone (ResNet-18 width 64, frozen BN) and no augmentation: the config
    both tools can build. Returns lerobot's ACTConfig fields + image size, and the matching `--set`s for ours."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from train import ACT_SHARED

    from policies import make_config
    from policies.train import split_features
    from robotapp.dataset import DatasetReader

    sets = {"backbone_width": 64, "backbone_norm": "frozen_bn", "augment_shift": 0}
    with DatasetReader(dataset) as r:
        ins, outs = split_features(r.features, None)
    cfg = make_config("act", "cpu-small", {**ins, **outs}, **sets)
    shared = {k: getattr(cfg, k) for k in ACT_SHARED}
    return ({"act": shared, "image_size": list(cfg.model_image_size), "batch_size": cfg.batch_size},
            [a for k, v in sets.items() for a in ("--set", f"{k}={json.dumps(v)}")])


def p3_p5_act(runner: Runner, p: Params, dataset: Path, work: Path) -> tuple[dict, dict]:
    print("P3/P5 ACT", file=sys.stderr, flush=True)
    shared, sets = act_config(dataset)
    cfg = {**shared, "steps": p.train_steps, "warmup": p.train_warmup, "num_workers": p.num_workers,
           "threads": p.threads, "calls": p.calls, "seed": 0}
    cfg_path = work / "act_config.json"
    cfg_path.write_text(json.dumps(cfg))
    ours_args = ["--dataset", str(dataset), "--policies", "act", "--steps", str(p.train_steps), "--warmup",
                 str(p.train_warmup), "--calls", str(p.calls), "--threads", str(p.threads)]
    jobs = {"ours": ("train.py", [*ours_args, *sets, "--json"]),
            "lerobot": ("lerobot_side/act.py", ["--root", str(dataset), "--config", str(cfg_path), "--out"])}
    res, note = _collect(runner, p.train_repeats, jobs)
    ours = [r[0] for r in res["ours"]]
    ler = res["lerobot"]
    preset = [runner.run("ours", "train.py", [*ours_args, "--json"])[0] for _ in range(max(1, p.train_repeats - 1))]
    net, net_note = [], ""
    try:
        net = [runner.run("lerobot", "train.py", ["--vs-lerobot", "--policies", "act", "--threads", str(p.threads),
                                                  "--net-steps", str(p.net_steps), "--json"])[0]
               for _ in range(max(1, p.train_repeats - 1))]
    except SideFailed as e:
        net_note = str(e)
    v = lambda rs, k: [r[k] for r in rs]  # noqa: E731
    size = "×".join(str(x) for x in reversed(shared["image_size"]))
    p3_rows = [
        _row("P3.samples", "ACT training samples/s, same config, same dataset (end to end: data + step)", "samples/s",
             "higher", v(ours, "samples_per_s"), v(ler, "samples_per_s"), note),
        _row("P3.first_step", "ACT training: start → first step done (ours decodes the dataset into its frame cache "
             "first; lerobot's DataLoader workers decode per sample)", "s", "lower", v(ours, "first_step_s"),
             v(ler, "first_step_s"), note),
        _row("P3.net_step", f"network alone: one training step on identical batches ({shared['batch_size']} samples), "
             f"ours with lerobot's weights copied in", "ms", "lower", [r["train_step_ms"][0] for r in net],
             [r["train_step_ms"][1] for r in net], net_note),
        _row("P3.preset", "ours as shipped: cpu-small preset (ResNet-18 shape at width 16, GroupNorm, random shift)",
             "samples/s", "higher", v(preset, "samples_per_s"), None,
             "lerobot's ACT has no narrower backbone option"),
    ]
    p3 = {"title": "P3 · Training: ACT samples/s",
          "setup": (f"Dataset: {dataset.name} ({_frames(dataset)} frames, 2 cameras 320×240, recorded by "
                    f"`robotapp record --fast`). Config: our cpu-small ACT with lerobot's backbone — ResNet-18 "
                    f"(width 64, frozen BN), dim_model 256, 4 encoder / 1 decoder layers, VAE, chunk 32, images "
                    f"resized to {size}, batch {shared['batch_size']}, AdamW, grad clip, {p.threads} torch threads, "
                    f"CPU. Ours: `policies.train` (frame cache, then batches from memory). lerobot: "
                    f"lerobot_train.py's loop (LeRobotDataset with the policy's delta_timestamps, pyav decoding, "
                    f"DataLoader with {p.num_workers} workers, preprocessor, forward/backward, AdamW) with a resize "
                    f"in image_transforms. {p.train_steps} timed steps after {p.train_warmup} warm-up per run, "
                    f"{p.train_repeats} runs per tool; samples/s = batch / median step."),
          "rows": p3_rows}
    p5_rows = [
        _row("P5.call", "select_action per control step, p50 (p99 beside it); ours returns a queued action "
             "without preprocessing the observation, lerobot's predict_action preprocesses every one", "ms", "lower",
             v(ours, "call_p50"),
             v(ler, "call_p50"), note, pcts={"p99": (v(ours, "call_p99"), v(ler, "call_p99") or None)}),
        _row("P5.infer", "select_action calls that run the network (chunk inference), p50", "ms", "lower",
             v(ours, "infer_p50"), v(ler, "infer_p50"), note),
        _row("P5.net_infer", "network alone: chunk inference, batch 1, identical weights and input", "ms", "lower",
             [r["infer_ms"][0] for r in net], [r["infer_ms"][1] for r in net], net_note),
    ]
    p5 = {"title": "P5 · Inference: ACT select_action",
          "setup": (f"The policies trained in P3's runs, {p.calls} calls each (20 warm-up calls excluded) on episode "
                    f"0's camera-sized frames (320×240 → {size}; ours resizes inside select_action, lerobot's side "
                    f"resizes with cv2 INTER_AREA before `predict_action`, the function lerobot-record calls: "
                    f"to tensors, preprocessor, select_action, postprocessor). n_action_steps 16: one call in 16 "
                    f"runs the network, the others pop the action queue."),
          "rows": p5_rows}
    return p3, p5


def _frames(dataset: Path) -> int:
    return json.loads((dataset / "meta" / "info.json").read_text())["total_frames"]


# ------------------------------------------------------------------------------------------------------ P6
def p6_dataset(runner: Runner, p: Params, dataset: Path, work: Path) -> dict:
    print("P6 dataset", file=sys.stderr, flush=True)
    n = _frames(dataset)
    idx_path = work / "p6_indices.json"
    idx_path.write_text(json.dumps(np.random.default_rng(0).integers(0, n, p.reads).tolist()))
    jobs = {"ours": ("dataset.py", ["--read", str(dataset), "--indices", str(idx_path), "--json"]),
            "lerobot": ("lerobot_side/dataset_read.py", ["--root", str(dataset), "--indices", str(idx_path), "--out"])}
    res, note = _collect(runner, p.p6_repeats, jobs)
    fps = {s: [r["frames"] / r["read_s"] for r in v] for s, v in res.items()}
    cpu = {s: [r["frames"] / r["cpu_s"] for r in v if r.get("cpu_s")] for s, v in res.items()}
    opn = {s: [r["open_s"] for r in v] for s, v in res.items()}
    return {"title": "P6 · Dataset random access",
            "setup": (f"Dataset: {dataset.name} ({n} frames, 2 cameras 320×240 AV1, recorded by our writer). "
                      f"{p.reads} random frame indices (the same list for both), each read with every camera's "
                      f"image decoded: our `DatasetReader.frame(i)` vs lerobot's `LeRobotDataset(...)[i]` "
                      f"(video_backend='pyav'). A fresh process per run, {p.p6_repeats} runs per tool."),
            "rows": [_row("P6.fps", "random access, frames/s (all cameras decoded)", "frames/s", "higher", fps["ours"],
                          fps["lerobot"], note),
                     _row("P6.cpu", "random access, frames per CPU-second of the reading process (what the "
                          "load of the moment moves least)", "frames/CPU-s", "higher", cpu["ours"], cpu["lerobot"],
                          note),
                     _row("P6.open", "open the dataset and read frame 0", "s", "lower", opn["ours"], opn["lerobot"],
                          note)]}
