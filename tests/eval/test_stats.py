"""Wilson intervals against published values, the summary line, and bad input."""

import pytest

from robotapp.eval import success_line, wilson_interval


@pytest.mark.parametrize("k,n,lo,hi", [
    (8, 10, 0.4902, 0.9433),  # textbook example (Newcombe 1998 method 3 gives 0.490-0.943)
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (40, 50, 0.6696, 0.8876),
])
def test_wilson_interval_matches_known_values(k, n, lo, hi):
    a, b = wilson_interval(k, n)
    assert a == pytest.approx(lo, abs=5e-4) and b == pytest.approx(hi, abs=5e-4)


def test_success_line_format():
    assert success_line(8, 10) == "success: 8/10 (rate 80.0%, 95% CI [49.0%, 94.3%])"


@pytest.mark.parametrize("k,n", [(1, 0), (-1, 5), (6, 5)])
def test_bad_counts_are_refused(k, n):
    with pytest.raises(ValueError):
        wilson_interval(k, n)
