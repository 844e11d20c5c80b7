"""The wall-clock budget: it ends training when spent, and fits the LR schedule's horizon to the steps it allows."""

import torch

from policies import train as train_mod
from policies.config import make_config
from policies.optim import lr_factor


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_budget_fits_horizon_to_measured_rate_and_stops(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(train_mod.time, "perf_counter", clock)
    clock.t = 10.0  # the frame cache took 10 s of the 100 s budget
    budget = train_mod._Budget(100.0, t_entry=0.0, start_step=0, max_steps=10_000)
    cpu = torch.device("cpu")
    step = 0
    while not budget.spent(step, 1, cpu):
        step += 1
        clock.t += 0.5  # 2 steps per second
    assert clock.t >= 100.0 and 175 <= step <= 181  # (100 - 10) s at 2 steps/s
    assert abs(budget.horizon - step) <= 2  # the schedule ended where training did


def test_budget_never_extends_past_max_steps(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(train_mod.time, "perf_counter", clock)
    budget = train_mod._Budget(1000.0, t_entry=0.0, start_step=0, max_steps=50)
    for step in range(50):
        assert not budget.spent(step, 1, torch.device("cpu"))
        clock.t += 0.01
    assert budget.horizon == 50


def test_no_budget_keeps_the_configured_steps():
    budget = train_mod._Budget(None, t_entry=0.0, start_step=0, max_steps=300)
    assert not budget.spent(10_000, 1, torch.device("cpu")) and budget.horizon == 300


def test_diffusion_cosine_reaches_zero_at_the_fitted_horizon():
    cfg = make_config("diffusion", "cpu-small")
    assert lr_factor(cfg, 1800, 1800) == 0.0 and lr_factor(cfg, 900, 1800) > 0.0  # after a 200-step warm-up


def test_act_lr_constant_as_in_the_paper_or_cosine():
    assert lr_factor(make_config("act", "lerobot-default"), 900, 1000) == 1.0  # the paper: constant
    cfg = make_config("act", "cpu-small", scheduler_name="cosine", scheduler_warmup_steps=100)
    assert lr_factor(cfg, 50, 1000) == 0.5 and lr_factor(cfg, 1000, 1000) == 0.0
    assert 0.4 < lr_factor(cfg, 550, 1000) < 0.6


def test_unknown_act_scheduler_is_refused():
    import pytest

    from tests.policies.helpers import make_dataset

    with pytest.raises(ValueError, match="scheduler_name must be constant or cosine"):
        make_config("act", "cpu-small", make_dataset(n_episodes=1, length=4).features, scheduler_name="linear")


def test_a_spent_budget_ends_training_and_says_so(tmp_path):
    from policies.train import TrainOptions, train
    from tests.policies.helpers import TINY_ACT, make_dataset

    opts = TrainOptions(policy="act", steps=1000, out=str(tmp_path / "run"), overrides=dict(TINY_ACT),
                        progress=False, device="cpu", time_budget_s=1e-6)
    result = train(opts, reader=make_dataset(n_episodes=1, length=12))
    assert result.budget_spent and result.stopped_early and result.step == 0
