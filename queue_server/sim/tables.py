"""The simulator's figures as text tables: one policy, or several side by side (`motcua simulate`)."""
from __future__ import annotations

from typing import Any


def _min(s: float) -> str:
    return f"{s / 60:.1f} min"


_ROWS = [("tickets", "tickets", str), ("diverted online", "diverted_online", str),
         ("mean wait", "mean_wait_s", _min), ("p90 wait", "p90_wait_s", _min), ("max wait", "max_wait_s", _min),
         ("within target", "served_within_target_share", lambda v: f"{v * 100:.1f} %"),
         ("estimate error (MAE)", "est_wait_mae_s", _min)]


def compare_table(summaries: list[dict[str, Any]]) -> str:
    first = summaries[0]
    head = f"{first['scenario']}: {first['days']} day(s)"
    width = 22
    lines = [head, "", f"{'':{width}}" + "".join(f"{s['policy']:>12}" for s in summaries)]
    for label, key, fmt in _ROWS:
        lines.append(f"{label:{width}}" + "".join(f"{fmt(s[key]):>12}" for s in summaries))
    lines.append("")
    lines.append("mean wait per sector")
    for sector in first["per_sector"]:
        lines.append(f"  {sector:{width - 2}}" + "".join(
            f"{_min(s['per_sector'][sector]['mean_wait_s']):>12}" for s in summaries))
    lines.append("")
    lines.append("counter utilization")
    for c in first["counter_utilization"]:
        lines.append(f"  {c:{width - 2}}" + "".join(f"{s['counter_utilization'][c] * 100:>10.0f} %" for s in summaries))
    return "\n".join(lines)


def single_table(s: dict[str, Any]) -> str:
    lines = [f"{s['scenario']}: policy {s['policy']}, {s['days']} day(s)", ""]
    for label, key, fmt in _ROWS:
        lines.append(f"{label:22}{fmt(s[key]):>12}")
    lines += ["", f"{'sector':22}{'tickets':>10}{'mean wait':>12}{'p90 wait':>12}"]
    for sector, row in s["per_sector"].items():
        lines.append(f"{sector:22}{row['tickets']:>10}{_min(row['mean_wait_s']):>12}{_min(row['p90_wait_s']):>12}")
    lines += ["", "counter utilization: " + ", ".join(f"{c} {v * 100:.0f} %" for c, v in s["counter_utilization"].items())]
    return "\n".join(lines)
