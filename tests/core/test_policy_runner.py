"""PolicyRunner: chunks predicted ahead on the runner's thread, plan replaced from the current frame on, late
frames counted instead of stalling the loop, lock-step when asked, history for n_obs_steps > 1, errors passed on."""

import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from robotapp.core.policy_runner import PolicyRunner


class ChunkPolicy:
    """Chunk predicted from frame j's observation = [j*100 + i for i in range(chunk)] (one joint). A gate lets a
    test hold a prediction in flight; every prediction records the frames of the history it was given."""

    def __init__(self, n_action_steps=4, chunk=8, n_obs_steps=1, fail=False):
        self.config = SimpleNamespace(n_action_steps=n_action_steps, n_obs_steps=n_obs_steps)
        self.chunk, self.fail = chunk, fail
        self.gate = threading.Event()
        self.gate.set()
        self.calls = []
        self.resets = 0

    def reset(self):
        self.resets += 1

    def prepare_observation(self, obs):
        return {"f": torch.tensor([[float(obs["frame"])]])}, False

    def predict_action_chunk(self, batch):
        self.gate.wait(10)
        if self.fail:
            raise ValueError("weights are NaN")
        frames = batch["f"].flatten().tolist()
        self.calls.append(frames)
        j = int(frames[-1])
        return torch.tensor([[[j * 100.0 + i] for i in range(self.chunk)]])


def obs(k):
    return {"frame": k, "observation.state": np.array([-1.0])}


def test_lock_step_refills_ahead_and_never_misses():
    pol = ChunkPolicy(n_action_steps=4)
    r = PolicyRunner(pol, max_wait=None, refill_margin=1)
    try:
        got = [float(r.step(k, obs(k))[0]) for k in range(10)]
    finally:
        r.close()
    assert r.late == 0
    # chunk from frame 0 covers 0..3; with one planned frame left (at frame 3) a refill from frame 3 starts
    assert got[:3] == [0.0, 1.0, 2.0]
    assert all(a <= 100 * k + 8 for k, a in enumerate(got))
    assert [c[-1] for c in pol.calls][0] == 0.0 and len(pol.calls) >= 3
    assert np.all(np.diff(got) != 0)


def test_async_never_waits_holds_then_follows_the_plan():
    pol = ChunkPolicy(n_action_steps=6)
    pol.gate.clear()  # the first inference is still running
    r = PolicyRunner(pol, max_wait=0.0, refill_margin=2)
    try:
        first = r.step(0, obs(0))
        np.testing.assert_array_equal(first, [-1.0])  # nothing planned: hold the current state
        assert r.late == 1
        pol.gate.set()
        with r._cond:  # the runner publishes the chunk from frame 0
            assert r._cond.wait_for(lambda: 1 in r._plan, 5)
        assert float(r.step(1, obs(1))[0]) == 1.0  # the chunk from frame 0, at frame 1
        pol.gate.clear()  # hold the next refill in flight
        vals = [float(r.step(k, obs(k))[0]) for k in range(2, 6)]
        assert vals == [2.0, 3.0, 4.0, 5.0]  # the plan keeps going while the refill is computed
        assert r.late == 1
        pol.gate.set()
    finally:
        r.close()


def test_history_for_two_observation_steps_is_consecutive():
    pol = ChunkPolicy(n_action_steps=3, n_obs_steps=2)
    r = PolicyRunner(pol, max_wait=None, refill_margin=0)
    try:
        for k in range(7):
            r.step(k, obs(k))
    finally:
        r.close()
    assert pol.calls[0] == [0.0, 0.0]  # episode start: the first observation repeated
    assert all(b - a == 1 for a, b in pol.calls[1:])


def test_reset_starts_a_new_episode_and_errors_reach_the_loop():
    pol = ChunkPolicy()
    r = PolicyRunner(pol, max_wait=None)
    try:
        r.step(0, obs(0))
        r.reset()
        assert r.late == 0 and pol.resets == 2
        assert float(r.step(0, obs(0))[0]) == 0.0
    finally:
        r.close()
    bad = PolicyRunner(ChunkPolicy(fail=True), max_wait=None)
    try:
        with pytest.raises(RuntimeError, match="the policy failed: ValueError: weights are NaN"):
            bad.step(0, obs(0))
    finally:
        bad.close()


@pytest.mark.parametrize("kind,n_obs_steps", [("act", 1), ("diffusion", 1), ("diffusion", 2)])
def test_real_policies_run_through_the_runner(kind, n_obs_steps):
    """The runner feeds real networks observations as the session gives them (H x W x 3 images, no time axis),
    with one or several observation steps: every frame gets an action of the right size."""
    from policies import make_config, make_policy
    from policies.data import FrameCache
    from tests.policies.helpers import TINY_ACT, TINY_DIFFUSION, make_dataset

    ds = make_dataset(n_episodes=1, length=16)
    tiny = TINY_ACT if kind == "act" else {**TINY_DIFFUSION, "n_obs_steps": n_obs_steps,
                                           "drop_n_last_frames": TINY_DIFFUSION["horizon"] - 4 - n_obs_steps + 1}
    cfg = make_config(kind, features=ds.features, **tiny)
    policy = make_policy(cfg, FrameCache.build(ds, image_size=cfg.image_size).stats).eval()
    episode = {**ds.episode_data(0), **{key: ds.decode_episode_video(0, key) for key in cfg.image_keys}}
    r = PolicyRunner(policy, max_wait=None)
    try:
        r.reset()
        actions = [r.step(k, {"observation.state": episode["observation.state"][k],
                              **{key: episode[key][k] for key in cfg.image_keys}}) for k in range(10)]
    finally:
        r.close()
    assert r.error is None and np.all(np.isfinite(actions)) and np.shape(actions) == (10, 6)
