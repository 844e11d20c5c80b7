"""Running lerobot itself (in its own virtual env; never a dependency of ours) on datasets we wrote."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

PROBE = Path(__file__).with_name("lerobot_probe.py")


def lerobot_python() -> str | None:
    for cand in (os.environ.get("LEROBOT_PYTHON"), "/work/lerobot-venv/bin/python"):
        if cand and Path(cand).is_file():
            return cand
    return None


requires_lerobot = pytest.mark.skipif(
    lerobot_python() is None,
    reason="lerobot is not installed: set LEROBOT_PYTHON to a python with lerobot 0.4.4, or run "
           "`bash /work/shared/tools/lerobot_venv.sh /work/lerobot-venv`")


def probe(requests: list[dict], workdir: Path, timeout: float = 600) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Load each request's dataset with lerobot's LeRobotDataset and return what lerobot sees.
    request: {"root": str, "indices": [int], "delta": {key: [s]} | None, "stats": {name: [[...]]} | None}"""
    req = workdir / "probe_request.json"
    out = workdir / "probe_out"
    req.write_text(json.dumps(requests))
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(workdir / "hf-home"))
    proc = subprocess.run([lerobot_python(), str(PROBE), str(req), str(out)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    if proc.returncode != 0:
        raise AssertionError(f"lerobot could not load the dataset:\n{proc.stderr[-4000:]}")
    meta = json.loads(out.with_suffix(".json").read_text())
    with np.load(out.with_suffix(".npz")) as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays
