"""Normalisation from dataset stats: round trips, modes, constant dimensions, persistence."""

import numpy as np
import pytest
import torch

from policies.normalize import Normalizer

FEATS = {"observation.state": {"type": "STATE", "shape": [3]}, "action": {"type": "ACTION", "shape": [3]},
         "observation.images.front": {"type": "VISUAL", "shape": [3, 8, 8]}}
STATS = {"observation.state": {"mean": np.array([1.0, -2.0, 5.0]), "std": np.array([2.0, 0.5, 0.0]),
                               "min": np.array([-3.0, -4.0, 5.0]), "max": np.array([5.0, 0.0, 5.0])},
         "action": {"mean": np.array([0.0, 10.0, 5.0]), "std": np.array([1.0, 3.0, 0.0]),
                    "min": np.array([-2.0, 0.0, 5.0]), "max": np.array([2.0, 20.0, 5.0])},
         "observation.images.front": {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.25),
                                      "min": np.zeros((3, 1, 1)), "max": np.ones((3, 1, 1))}}


@pytest.mark.parametrize("mode", ["MEAN_STD", "MIN_MAX", "IDENTITY"])
def test_round_trip(mode):
    n = Normalizer(FEATS, {"STATE": mode, "ACTION": mode, "VISUAL": "MEAN_STD"}, STATS)
    x = torch.randn(4, 7, 3) * 5
    for key in ("observation.state", "action"):
        torch.testing.assert_close(n.unnormalize(key, n.normalize(key, x)), x, rtol=1e-5, atol=1e-4)


def test_values():
    n = Normalizer(FEATS, {"STATE": "MEAN_STD", "ACTION": "MIN_MAX", "VISUAL": "MEAN_STD"}, STATS)
    s = n.normalize("observation.state", torch.tensor([[3.0, -2.5, 5.2]]))
    torch.testing.assert_close(s, torch.tensor([[1.0, -1.0, 0.2]]))  # constant dim: only centred
    a = n.normalize("action", torch.tensor([[-2.0, 20.0, 5.0], [2.0, 0.0, 5.0]]))
    torch.testing.assert_close(a, torch.tensor([[-1.0, 1.0, -1.0], [1.0, -1.0, -1.0]]))
    img = torch.full((1, 3, 8, 8), 255, dtype=torch.uint8)
    torch.testing.assert_close(n.normalize("observation.images.front", img), torch.full((1, 3, 8, 8), 2.0))


def test_missing_or_bad_stats_name_the_feature():
    with pytest.raises(ValueError, match="action/std"):
        Normalizer(FEATS, {"STATE": "MEAN_STD", "ACTION": "MEAN_STD"}, {**STATS, "action": {"mean": np.zeros(3)}})
    with pytest.raises(ValueError, match="observation.state/mean have 2 values"):
        Normalizer(FEATS, {"STATE": "MEAN_STD"}, {**STATS, "observation.state": {"mean": np.zeros(2), "std": np.ones(2)}})
    empty = Normalizer(FEATS, {"STATE": "MEAN_STD"})
    with pytest.raises(RuntimeError, match="no stats for observation.state"):
        empty.check_ready()


def test_state_tensors_round_trip():
    a = Normalizer(FEATS, {"STATE": "MIN_MAX", "ACTION": "MEAN_STD", "VISUAL": "MEAN_STD"}, STATS)
    b = Normalizer(FEATS, {"STATE": "MIN_MAX", "ACTION": "MEAN_STD", "VISUAL": "MEAN_STD"})
    b.load_state_tensors(a.state_tensors())
    x = torch.randn(2, 3)
    torch.testing.assert_close(a.normalize("observation.state", x), b.normalize("observation.state", x))
    assert set(a.state_tensors()) == {"observation.state.min", "observation.state.max", "action.mean", "action.std",
                                      "observation.images.front.mean", "observation.images.front.std"}
