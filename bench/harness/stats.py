"""Numbers and tables: percentiles as the reports take them, milliseconds, the ~40 ms Nagle
cluster, and the plain-text tables every benchmark prints."""
from __future__ import annotations

import sys
from typing import Any, Iterable

from queue_server.domain.stats import percentile_nearest_rank


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (queue_server/domain/stats.py, as the reports), nan when empty:
    a table prints nan for a figure nothing was measured for."""
    v = percentile_nearest_rank(values, p)
    return float("nan") if v is None else v


def summary_ms(values_s: list[float]) -> dict[str, float]:
    """n, p50, p99, max in milliseconds, from values in seconds."""
    ms = [v * 1000.0 for v in values_s]
    return {"n": len(ms), "p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms) if ms else float("nan")}


def nagle_cluster(values_s: list[float], lo_ms: float = 35.0, hi_ms: float = 48.0) -> int:
    """How many samples sit where Nagle + delayed ACK put them (about 40 ms on Linux)."""
    return sum(1 for v in values_s if lo_ms <= v * 1000.0 <= hi_ms)


def fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def print_table(title: str, headers: list[str], rows: Iterable[Iterable[Any]]) -> None:
    rows = [[fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    sys.stdout.flush()
