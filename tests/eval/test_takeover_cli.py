"""`robotapp eval` in real time: T on stdin takes over from the policy and T again hands back (on the virtual rig
the scripted hand is the person's), and the recording flags the taken-over frames. stdin is a pipe here, as from
a script; on a terminal the keys are read in cbreak mode by the same reader."""

import os
import subprocess
import sys
import threading

import numpy as np

from robotapp.dataset import DatasetReader

from .test_takeover import policy_dir  # noqa: F401 (fixture)


def test_t_on_stdin_takes_over_and_hands_back(policy_dir, tmp_path):  # noqa: F811
    record = tmp_path / "evals"
    env = {**os.environ, "MUJOCO_GL": "egl", "HF_HUB_OFFLINE": "1"}
    p = subprocess.Popen([sys.executable, "-m", "robotapp", "eval", "--policy", str(policy_dir), "--realtime",
                          "--episodes", "1", "--episode-time", "8", "--record", str(record)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines, saw = [], {"drives": threading.Event(), "taken": threading.Event()}

    def read():
        for line in p.stdout:
            lines.append(line.rstrip("\n"))
            if "the policy drives (T takes over)" in line:
                saw["drives"].set()
            if line.startswith("you drive: the follower copies the leader"):
                saw["taken"].set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert saw["drives"].wait(120), lines
        p.stdin.write("t\n")
        p.stdin.flush()
        assert saw["taken"].wait(30), lines
        p.stdin.write("t\n")  # and back to the policy
        p.stdin.flush()
        assert p.wait(120) == 0, lines
    finally:
        if p.poll() is None:
            p.kill()
    reader.join(10)
    assert lines.index("T: taking over") < lines.index("taken over: the follower holds until the leader is on it")
    assert lines.index("T: handing back") < lines.index("the policy drives again")
    assert any(line.startswith("episode 1/1 (seed 1000000): ") and "taken over" in line for line in lines), "\n".join(lines)
    with DatasetReader(record) as r:
        flags = np.asarray(r.episode_data(0)["intervention"]).reshape(-1)
        spans = r.extra(0)["eval"]["interventions"]
    assert len(spans) == 1 and flags.sum() == spans[0][1] - spans[0][0] + 1 and not flags[:spans[0][0]].any()
