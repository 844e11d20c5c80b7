"""Success rates with honest error bars: the Wilson score interval, which stays inside [0, 1] and is right for
the small numbers of trials a robot evaluation has (a normal approximation gives [100%, 100%] for 10/10)."""

from __future__ import annotations

import math


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """95% (z = 1.96) Wilson score interval for a success rate successes/trials."""
    if trials <= 0:
        raise ValueError(f"trials must be positive, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be within 0..{trials}, got {successes}")
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def success_line(successes: int, trials: int) -> str:
    """`success: K/N (rate X%, 95% CI [a, b])` with percentages."""
    lo, hi = wilson_interval(successes, trials)
    return (f"success: {successes}/{trials} (rate {100 * successes / trials:.1f}%, 95% CI "
            f"[{100 * lo:.1f}%, {100 * hi:.1f}%])")
