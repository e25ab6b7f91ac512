"""Percentiles: the one place they are computed, each named for the statistic it is.

Two statistics are in use, and they give different figures for the same waits (the p90 of
the waits 1..10 s is 9 s by nearest rank and 9.1 s interpolated), so a figure says which:

- `percentile_nearest_rank`: the value at rank ceil(p/100 * n) of the sorted values, the
  smallest value with at least p % of the values at or below it. The reports and the
  Decision 766/QĐ-TTg indicators use it, and so do the latency figures of the benchmarks
  and the tests: it is always a wait some citizen really had (or a latency really measured),
  and "90 % of citizens waited at most the p90" is then exactly true of the period, which
  is how a manager reads the indicator.
- `percentile_interpolated`: linear interpolation between the closest ranks (numpy's
  default, Hyndman and Fan's type 7). The simulator's figures (`motcua simulate --json`
  and the measured tables in docs/balancing.md) were all computed with it; moving it to
  nearest rank would change every published simulated p90 without any change to what was
  simulated, so it stays, under its own name, and a simulated p90 is not to be compared
  digit for digit with a report's.

Both take p in 0..100 and unsorted values, and give None for no values (what "no value"
means is the caller's to say: a blank in a report, 0 in the simulator's JSON).
"""
from __future__ import annotations

import math
from typing import Sequence


def _check(p: float) -> None:
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"a percentile is between 0 and 100, not {p}")


def nearest_rank(n: int, p: float) -> int:
    """The 1-based rank `percentile_nearest_rank` takes out of n values (0 when there are none):
    the reports show it as the figures an indicator used."""
    _check(p)
    return max(1, math.ceil(p / 100.0 * n)) if n > 0 else 0


def percentile_nearest_rank(values: Sequence[float], p: float) -> float | None:
    """The value at rank ceil(p/100 * n) (at least rank 1) of the sorted values; None for none."""
    if not values:
        _check(p)
        return None
    return sorted(values)[nearest_rank(len(values), p) - 1]


def percentile_interpolated(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default); None for none."""
    _check(p)
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
