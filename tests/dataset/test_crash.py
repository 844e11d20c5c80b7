"""Must show: 20 kills (SIGKILL) of a recording process at random points, every earlier episode intact each time.

One dataset lives through all 20 kills: each round starts a recorder (which resumes the dataset), lets it make
0-2 episodes durable, kills it after a further random 0-250 ms (seeded) — while recording, flushing, staging or
publishing — and then checks, before any recovery, that every episode reported durable is there and exact (what
lerobot would load at that instant; a copy goes to lerobot itself at the end), then that opening the dataset
recovers or discards the interrupted episode and leaves it clean for `robotapp dataset check`."""

import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from robotapp.dataset import DatasetReader
from robotapp.dataset.check import check_dataset
from tests.dataset import synth
from tests.dataset.lerobot_env import lerobot_python, probe

REPO = Path(__file__).resolve().parents[2]
KILLS = 20


def episode_ok(r: DatasetReader, ep: int) -> None:
    d = r.episode_data(ep)
    n = synth.length(ep, 6)
    assert len(d["action"]) == n, f"episode {ep} has {len(d['action'])} frames, expected {n}"
    np.testing.assert_array_equal(d["action"], np.stack([synth.action(ep, i) for i in range(n)]))
    np.testing.assert_array_equal(d["observation.state"][-1], synth.state(ep, n - 1))
    assert len(r.decode_episode_video(ep, "observation.images.front")) == n


def _lines(proc: subprocess.Popen, out: queue.Queue) -> None:
    for line in proc.stdout:
        out.put(line.rstrip("\n"))
    out.put(None)


@pytest.mark.slow
def test_twenty_random_kills(tmp_path):
    rng = np.random.default_rng(5)
    root = tmp_path / "ds"
    raw_copies: list[tuple[Path, int]] = []
    notes: list[str] = []
    durable = 0
    for kill in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-m", "tests.dataset.crash_worker", str(root), "loop"], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_lines, args=(proc, lines), daemon=True).start()
        want, seen = int(rng.integers(0, 3)), 0
        while seen < want:
            line = lines.get(timeout=120)
            assert line is not None, "the recorder died by itself"
            seen += line.startswith("durable")
        time.sleep(float(rng.uniform(0.0, 0.25)))  # the random kill point
        proc.kill()
        proc.wait(30)
        reported = []
        while (line := lines.get(timeout=30)) is not None:
            reported.append(line)
        durable_eps = [int(s.split()[1]) for s in reported if s.startswith("durable")]
        durable = max([durable, *(e + 1 for e in durable_eps)])
        if not (root / "meta" / "info.json").is_file():
            assert durable == 0
            continue
        raw = DatasetReader(root, recover_if_needed=False)  # before recovery: what lerobot sees now
        assert raw.num_episodes >= durable, f"kill {kill}: {raw.num_episodes} episodes, {durable} were durable"
        for ep in range(raw.num_episodes):
            episode_ok(raw, ep)
        if raw.num_episodes:
            copy = tmp_path / f"raw-{kill:02d}"
            shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".robotapp"))
            raw_copies.append((copy, raw.num_episodes))
        r = DatasetReader(root)  # recovers: publishes a complete staged episode or discards it
        notes += r.recovery_notes
        assert r.num_episodes >= durable
        for ep in range(r.num_episodes):
            episode_ok(r, ep)
        assert check_dataset(root, quick=True) == [], f"kill {kill}"
        durable = r.num_episodes
    print(f"\n{KILLS} kills, {durable} episodes survived; recovery notes: {notes}")
    assert durable >= 5
    assert check_dataset(root) == []
    if lerobot_python() and raw_copies:
        requests = [{"root": str(p), "indices": [0, DatasetReader(p, recover_if_needed=False).num_frames - 1]}
                    for p, _ in raw_copies]
        meta, arrays = probe(requests, tmp_path)
        for k, ((p, n), m) in enumerate(zip(raw_copies, meta, strict=True)):
            assert m["num_episodes"] == n, p
            last = m["len"] - 1
            a = arrays[f"{k}/{last}/action"]
            ep, i = int(arrays[f"{k}/{last}/episode_index"]), int(arrays[f"{k}/{last}/frame_index"])
            np.testing.assert_array_equal(a, synth.action(ep, i))
            assert arrays[f"{k}/{last}/observation.images.front"].shape == (64, 80, 3)
