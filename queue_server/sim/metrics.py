"""The figures docs/balancing.md lists, pooled over the simulated days."""
from __future__ import annotations

from typing import Any

from queue_server.domain.stats import percentile_interpolated
from queue_server.sim.engine import CHART_BIN_S, DayResult


def _p90(values: list[float]) -> float:
    """The simulator's p90: interpolated, as every simulated figure published so far (see
    domain/stats.py for why it is not the reports' nearest rank); 0 when nothing was called."""
    p = percentile_interpolated(values, 90)
    return 0.0 if p is None else p


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def summarize(policy: str, scenario: str, days: list[DayResult], sectors: list[str]) -> dict[str, Any]:
    """One JSON object, fields exactly as docs/balancing.md ("The simulator")."""
    records = [r for d in days for r in d.records]
    waits = [r.wait_s for r in records]
    per_sector: dict[str, Any] = {}
    for s in sectors:
        w = [r.wait_s for r in records if r.sector == s]
        per_sector[s] = {"tickets": sum(d.per_sector_tickets.get(s, 0) for d in days),
                         "mean_wait_s": round(_mean(w), 1), "p90_wait_s": round(_p90(w), 1)}
    counters = list(days[0].busy_s) if days else []
    util = {}
    for c in counters:
        busy = sum(d.busy_s.get(c, 0.0) for d in days)
        avail = sum(d.available_s.get(c, 0.0) for d in days)
        util[c] = round(busy / avail, 3) if avail > 0 else 0.0
    return {
        "policy": policy,
        "scenario": scenario,
        "days": len(days),
        "tickets": sum(d.tickets for d in days),
        "diverted_online": sum(d.diverted for d in days),
        "mean_wait_s": round(_mean(waits), 1),
        "p90_wait_s": round(_p90(waits), 1),
        "max_wait_s": round(max(waits, default=0.0), 1),
        "served_within_target_share": round(_mean([1.0 if r.wait_s <= r.target_s else 0.0 for r in records]), 3),
        "est_wait_mae_s": round(_mean([abs(r.est_wait_s - r.wait_s) for r in records]), 1),
        "per_sector": per_sector,
        "counter_utilization": util,
    }


def never_called(days: list[DayResult]) -> int:
    return sum(d.never_called for d in days)


def wait_by_time_of_day(days: list[DayResult]) -> tuple[list[float], list[float]]:
    """(bin start in hours of day, mean wait in minutes of the tickets issued in that bin)."""
    bins: dict[int, list[float]] = {}
    for d in days:
        for r in d.records:
            bins.setdefault(int(r.issued_s // CHART_BIN_S), []).append(r.wait_s)
    keys = sorted(bins)
    return [k * CHART_BIN_S / 3600.0 for k in keys], [_mean(bins[k]) / 60.0 for k in keys]


def waiting_over_day(days: list[DayResult], step_s: int = 300) -> tuple[list[float], list[float]]:
    """(hour of day, tickets waiting, averaged over the days), sampled every `step_s`."""
    if not days:
        return [], []
    lo = min((c[0][0] for c in (d.waiting_curve for d in days) if c), default=0.0)
    hi = max((c[-1][0] for c in (d.waiting_curve for d in days) if c), default=0.0)
    xs, ys = [], []
    t = int(lo // step_s) * step_s
    idx = [0] * len(days)
    level = [0] * len(days)
    while t <= hi + step_s:
        for i, d in enumerate(days):
            curve = d.waiting_curve
            while idx[i] < len(curve) and curve[idx[i]][0] <= t:
                level[i] = curve[idx[i]][1]
                idx[i] += 1
        xs.append(t / 3600.0)
        ys.append(sum(level) / len(days))
        t += step_s
    return xs, ys


def visit_figures(days: list[DayResult]) -> dict[str, Any]:
    """The visit figures of docs/visits.md: citizens (visits) and their procedures, the mean time in
    the centre per visit (arrival to the end of the last service; citizens who left are not
    counted), for visits of several procedures apart, the mean first wait of single-procedure
    citizens, and how far the printed end of a visit was from its real end."""
    visits = [v for d in days for v in d.visits]
    done = [v for v in visits if v.end_s is not None]
    multi = [v for v in done if v.procedures > 1]
    single = [v.first_wait_s for v in visits if v.procedures == 1 and v.first_wait_s is not None]
    printed = [abs(v.est_end_s - (v.end_s - v.arrived_s)) for v in multi if v.est_end_s is not None]
    return {
        "visits": len(visits),
        "procedures": sum(v.procedures for v in visits),
        "multi_procedure_visits": sum(1 for v in visits if v.procedures > 1),
        "mean_time_in_centre_s": round(_mean([v.end_s - v.arrived_s for v in done]), 1),
        "mean_time_in_centre_multi_s": round(_mean([v.end_s - v.arrived_s for v in multi]), 1),
        "single_mean_wait_s": round(_mean(single), 1),
        "visit_end_mae_s": round(_mean(printed), 1) if printed else None,
        "left_unserved": sum(1 for v in visits if v.end_s is None),
    }


def appointment_figures(days: list[DayResult]) -> dict[str, Any]:
    """Issue #16's figures (docs/appointments.md, "The simulator"): the people waiting in the hall
    (walk-ins in the queue and checked-in booked citizens, held or queued) at their daily peak,
    the walk-ins' waits, the booked citizens' waits after their slot (from the slot's start, or
    from the check-in when later: a late citizen cannot be served before coming), and the centre's
    utilisation (counter time busy over counter time open)."""
    peaks = [max((w for _, w in d.waiting_curve), default=0) for d in days]
    walk = [r.wait_s for d in days for r in d.records if not r.booked]
    booked = [b for d in days for b in d.booked]
    after = [b.called_s - max(b.slot_s, b.checked_in_s) for b in booked if b.called_s is not None]
    on_time = [b.called_s - b.slot_s for b in booked if b.called_s is not None and b.outcome != "late"]
    busy = sum(sum(d.busy_s.values()) for d in days)
    avail = sum(sum(d.available_s.values()) for d in days)
    return {
        "hall_peak_mean": round(_mean(peaks), 1),
        "hall_peak_max": max(peaks, default=0),
        "walk_in_mean_wait_s": round(_mean(walk), 1),
        "walk_in_p90_wait_s": round(_p90(walk), 1),
        "bookings": sum(d.bookings for d in days),
        "booked_no_show": sum(d.booked_no_show for d in days),
        "booking_refused": sum(d.booking_refused for d in days),
        "booked_checked_in": len(booked),
        "booked_late": sum(1 for b in booked if b.outcome == "late"),
        "booked_mean_after_slot_s": round(_mean(after), 1),
        "booked_p90_after_slot_s": round(_p90(after), 1),
        "booked_on_time_p90_after_slot_s": round(_p90(on_time), 1),
        "utilisation": round(busy / avail, 3) if avail else 0.0,
        "never_called": sum(d.never_called for d in days),
    }


def carry_over_figures(days: list[DayResult]) -> dict[str, Any]:
    """Days that carry over (scenario `carry_over`, docs/appointments.md "The simulator"): how many
    times a citizen was sent home unserved at closing, how many came back and were served, their
    extra days (the days they came before, unserved: mean and most), and how many were still
    waiting to come back after the last day."""
    back = [r.extra_days for d in days for r in d.records if r.extra_days > 0]
    return {
        "carried_over": sum(d.carried for d in days),
        "served_after_coming_back": len(back),
        "extra_days_mean": round(_mean(back), 2),
        "extra_days_max": max(back, default=0),
        "unserved_after_last_day": days[-1].carried if days else 0,
    }
