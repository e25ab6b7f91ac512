"""The simulator's figures as text tables: one policy, or several side by side, or a province's
centres (`motcua simulate`)."""
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


_CENTRE_ROWS = [("mean wait, everyone served", "mean_wait_s", _min),
                ("walk-ins' mean wait", "walk_in_mean_wait_s", _min),
                ("booked: p90 after the slot", "booked_p90_after_slot_s", _min),
                ("hall peak, daily mean", "hall_peak_mean", lambda v: f"{v:.1f}"),
                ("utilisation", "utilisation", lambda v: f"{v * 100:.1f} %"),
                ("bookings made", "bookings", str),
                ("found no slot", "booking_refused", str),
                ("booked from elsewhere", "booked_from_elsewhere", str),
                ("sent home at closing", "carried_over", str)]
_RUN_LABELS = {"confined": "confined", "cross_centre": "cross-centre"}


def province_table(name: str, days: int, policy: str, figures: dict[str, dict[str, dict[str, Any]]]) -> str:
    """A province run: per centre (columns) and run (bookings confined or cross-centre), the
    figures of `province.centre_figures`."""
    cols = [(run, site) for run, centres in figures.items() for site in centres]
    width = 28
    col = max(14, *(len(site) + 2 for _, site in cols))
    lines = [f"{name}: policy {policy}, {days} day(s)", "",
             f"{'':{width}}" + "".join(f"{_RUN_LABELS[run]:>{col}}" for run, _ in cols),
             f"{'':{width}}" + "".join(f"{site:>{col}}" for _, site in cols)]
    for label, key, fmt in _CENTRE_ROWS:
        lines.append(f"{label:{width}}" + "".join(f"{fmt(figures[run][site][key]):>{col}}" for run, site in cols))
    return "\n".join(lines)
