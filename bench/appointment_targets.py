"""Issue #16's targets, measured: the surge (half the citizens book a slot against none) and the
province (cross-centre booking against bookings confined to each centre).

    .venv/bin/python -m bench.appointment_targets [--days 30] [--seeds 1] [--policy dynamic]
                                                  [--share 0.5] [--forecast] [--booking-share 0.5]
                                                  [--punctuality MEAN SD] [--carry-over]
                                                  [--lead-days 0:0.4,1:0.3,3:0.2,7:0.1] [--later-days N]
                                                  [--surge-days N [--calm-factor 0.6]]
                                                  [SCENARIO.yaml]
    .venv/bin/python -m bench.appointment_targets --province [PROVINCE.yaml] [--days 30] [--seeds 1]
                                                  [--travel-min M] [--reluctance R]

Runs the scenario (default: the shipped urban-surge.yaml) on the same citizens twice: with
`appointments.share` = `--share` (the rest of the scenario's appointments section, or its
defaults: 10 % of bookings unused, check-in 5 ± 5 minutes before the slot) and with 0 (the
site takes bookings, nobody books). Prints the figures of `metrics.appointment_figures` and the
three targets of the issue:
  - the peak number waiting in the hall at least halves (the mean of the daily peaks);
  - booked citizens' p90 wait after their slot <= 10 min;
  - walk-ins' mean wait no worse than with no bookings.
And, to see why a target is missed, the booked waits after the slot per sector and per check-in
outcome, and what the hall holds at each day's peak (booked citizens held early for their slot,
booked ones in the queue, walk-ins). `--booking-share` sets the site's `bookings.share` (the
share of counter time bookings may take), `--punctuality` the check-in's minutes after the slot
(mean, sd): what-ifs for the reasons. Figures to report (docs/appointments.md), not a pass/fail test: exits 0 unless
something errors. `--carry-over` turns on the scenario's days that carry over (nobody called after
closing; who still waits comes back the next day) and prints their figures. `--lead-days` sets
the scenario's `appointments.lead_days` (days before the visit: share of the bookers) and
`--later-days` its `later_days` (a booker whose own day is full takes one of the next N days);
with bookings it then prints how many were for a later day than their citizen's own, the mean
lead (days from booking to slot), how many went past the last simulated day, and the same per
5-day block of the run with its hall peak (does the booking window fill as the month goes on?).
`--surge-days N` ends the scenario's surge after its first N simulated days: every rate of the
days after is multiplied by `--calm-factor` (through the scenario's `day_of_month_factor`, so
the run must not reach the same day of a later month): can later days take a surge's bookers?

`--province` runs a province scenario (default: the shipped ha-noi-long-bien-bat-trang.yaml, the
first centre urban, the others rural; queue_server/sim/province.py) with bookings confined to each
centre and with bookings allowed to go to another centre, on the same citizens, and prints each
centre's figures (hall peak, mean wait of everyone served, walk-ins' mean wait, booked waits after
the slot, utilisation, carry-over) and the issue's two targets:
  - cross-centre booking cuts the urban centre's mean wait by >= 40 % against confined bookings;
  - the rural centres' utilisation rises.
`--travel-min` and `--reluctance` override the scenario's cross_centre values (what-ifs).
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import yaml

from motcua.arg_types import positive
from queue_server.domain.stats import percentile_interpolated
from queue_server.sim import Simulation
from queue_server.sim.engine import draw_citizens
from queue_server.sim.metrics import appointment_figures, carry_over_figures
from queue_server.sim.province import SEED_STRIDE, ProvinceSimulation, centre_figures, load_province
from queue_server.sim.scenario import Appointments, ScenarioError, parse_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "queue_server" / "sim" / "scenarios"
SCENARIO = SCENARIOS / "urban-surge.yaml"
PROVINCE = SCENARIOS / "province" / "ha-noi-long-bien-bat-trang.yaml"
URBAN_CUT = 0.4         # cross-centre booking cuts the urban centre's mean wait by at least this
CENTRE_FIELDS = ("hall_peak_mean", "mean_wait_s", "walk_in_mean_wait_s", "booked_mean_after_slot_s",
                 "booked_p90_after_slot_s", "utilisation", "served", "bookings", "booking_refused",
                 "booked_from_elsewhere", "booked_never_called", "carried_over", "extra_days_mean", "unserved_after_last_day")
PEAK_CUT = 0.5          # the hall's peak at most this fraction of the no-booking one
BOOKED_P90_S = 600.0    # booked citizens' p90 wait after their slot
FIELDS = ("hall_peak_mean", "hall_peak_max", "walk_in_mean_wait_s", "walk_in_p90_wait_s", "bookings",
          "booked_no_show", "booking_refused", "booked_checked_in", "booked_late", "booked_mean_after_slot_s",
          "booked_p90_after_slot_s", "booked_on_time_p90_after_slot_s", "utilisation", "never_called")


def lead_days(text: str) -> dict[int, float]:
    """'0:0.4,1:0.3,3:0.2,7:0.1' -> {0: 0.4, 1: 0.3, 3: 0.2, 7: 0.1} (checked by the scenario's rules)."""
    try:
        return {int(d): float(share) for d, share in (part.split(":") for part in text.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected DAYS:SHARE pairs, e.g. 0:0.4,1:0.3,3:0.2,7:0.1") from None


def load(path: Path, booking_share: float | None = None, punctuality: list[float] | None = None,
         carry_over: bool = False, lead: dict[int, float] | None = None, later_days: int | None = None,
         surge_days: int | None = None, calm_factor: float = 0.6, days: int = 30):
    """The scenario with an appointments section (added with its defaults when it has none)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if surge_days is not None:
        dates = [parse_scenario(data, base_dir=path.parent, source=str(path)).date_of(i) for i in range(days)]
        calm = {d.day for d in dates[surge_days:]}
        if calm & {d.day for d in dates[:surge_days]}:
            raise ScenarioError(f"--surge-days: {days} days reach the same day of a later month")
        own = data.get("day_of_month_factor") or {}
        data["day_of_month_factor"] = {**own, **{d: own.get(d, 1.0) * calm_factor for d in calm}}
    data.setdefault("appointments", {"share": 0.0})
    if lead is not None:
        data["appointments"] = {**data["appointments"], "lead_days": lead}
    if later_days is not None:
        data["appointments"] = {**data["appointments"], "later_days": later_days}
    if carry_over:
        data["carry_over"] = True
    if punctuality is not None:
        data["appointments"] = {**data["appointments"], "punctuality_min": {"mean": punctuality[0], "sd": punctuality[1]}}
    if booking_share is not None:
        site = data["site"]
        if isinstance(site, str):
            site = yaml.safe_load((path.parent / site).read_text(encoding="utf-8"))
        data["site"] = {**site, "bookings": {**(site.get("bookings") or {}), "share": booking_share}}
    return parse_scenario(data, base_dir=path.parent, source=str(path))


def run(sc, share: float, seeds: list[int], days: int, policy: str, forecast: bool):
    ap = sc.appointments.model_copy(update={"share": share}) if sc.appointments else Appointments(share=share)
    s = dataclasses.replace(sc, appointments=ap)
    results = []
    for seed in seeds:
        results += Simulation(s, policy, seed=seed, days=days, forecast=forecast).run()
    return results


def hall_at_peak(results) -> None:
    """Who is in the hall at each day's peak, per sector (mean over the days): walk-ins and booked
    citizens (held or queued), to see which sector makes the peak."""
    per: dict[str, int] = {}
    for d in results:
        tp, _ = max(d.waiting_curve, key=lambda x: x[1])
        for r in d.records:
            if r.issued_s <= tp < r.issued_s + r.wait_s:
                k = f"{r.sector} booked" if r.booked else r.sector
                per[k] = per.get(k, 0) + 1
    n = len(results) or 1
    print("  in the hall at the daily peak, per sector (mean): " + ", ".join(
        f"{k} {v / n:.1f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])))


def demand(sc, seeds: list[int], days: int, label: str = "") -> None:
    """Each sector's service a day (minutes, from the citizens drawn) against the counter time of
    the counters configured for it (each counter's whole opening, shared with its other sectors)."""
    open_min = sum((b.hour * 60 + b.minute) - (a.hour * 60 + a.minute) for a, b in sc.site.site.periods)
    need: dict[str, float] = {}
    for seed in seeds:
        for day in range(days):
            for c in draw_citizens(sc, seed, day):
                need[c.sector] = need.get(c.sector, 0.0) + c.service_s / 60.0
    n = len(seeds) * days
    print(f"{label}service a day (min) against the opening of the counters that serve the sector: " + ", ".join(
        f"{s} {v / n:.0f}/{open_min * sum(1 for c in sc.site.counters if s in c.sectors)}"
        for s, v in sorted(need.items())))


def why(results) -> None:
    """The booked waits after the slot, per sector and per check-in outcome (minutes, p90 / n)."""
    groups: dict[str, list[float]] = {}
    for d in results:
        for b in d.booked:
            if b.called_s is None:
                continue
            w = b.called_s - max(b.slot_s, b.checked_in_s)
            groups.setdefault(f"outcome {b.outcome}", []).append(w)
    for r in (r for d in results for r in d.records if r.booked):
        groups.setdefault(f"sector {r.sector} (from check-in)", []).append(r.wait_s)
    peaks = []
    for d in results:
        tp, peak = max(d.waiting_curve, key=lambda x: x[1])
        in_hall = [b for b in d.booked if b.checked_in_s <= tp and (b.called_s is None or b.called_s > tp)]
        held = sum(1 for b in in_hall if tp < b.slot_s)
        peaks.append((tp, peak, held, len(in_hall) - held))
    n = len(peaks)
    print(f"  at the daily peak (mean of {n} days): {sum(p[1] for p in peaks) / n:.1f} in the hall, of them "
          f"{sum(p[2] for p in peaks) / n:.1f} booked and early (held for their slot), "
          f"{sum(p[3] for p in peaks) / n:.1f} booked in the queue; peak in the afternoon on "
          f"{sum(1 for p in peaks if p[0] >= 12 * 3600)} days")
    wanted = sum(d.bookings + d.booking_refused for d in results)
    print(f"  {sum(d.booking_refused for d in results)} of {wanted} who wanted to book found no slot that day "
          f"and came as walk-ins")
    for k in sorted(groups):
        v = groups[k]
        print(f"  {k}: n={len(v)} p90 {percentile_interpolated(v, 90) / 60:.1f} min, "
              f"mean {sum(v) / len(v) / 60:.1f} min")


def lead_time(results, days: int) -> None:
    """Bookings for a later day than their citizen's own, the mean lead (days from booking to slot)
    and bookings past the run's end, over the run and per 5-day block (the first seed's days)."""
    def line(part) -> str:
        made = sum(d.bookings for d in part)
        lead = sum(d.booking_lead_days for d in part) / made if made else 0.0
        return (f"{made} bookings, {sum(d.booked_later for d in part)} for a later day than their citizen's own, "
                f"mean lead {lead:.2f} days, {sum(d.booking_refused for d in part)} found no slot, "
                f"{sum(d.booked_past_end for d in part)} past the last day; "
                f"hall peak {appointment_figures(part)['hall_peak_mean']}")
    print(f"  lead time: {line(results)}")
    for a in range(0, days, 5):
        print(f"    days {a + 1}-{min(a + 5, days)}: {line(results[a:a + 5])}")
    per: dict[str, list] = {}
    for b in (b for d in results for b in d.booked):
        per.setdefault(b.sector, []).append(b)
    if not per:
        return
    print("  checked in, per sector: mean lead (days) / share for a later day than their own: " + ", ".join(
        f"{k} {sum(b.lead_days for b in v) / len(v):.2f} / {sum(1 for b in v if b.moved_days) / len(v):.0%}"
        for k, v in sorted(per.items())))
    most = max(per, key=lambda k: sum(1 for b in per[k] if b.moved_days))
    blocks = []
    for a in range(0, days, 5):
        v = [b for d in results[a:a + 5] for b in d.booked if b.sector == most]
        if v:
            blocks.append(f"days {a + 1}-{min(a + 5, days)} {sum(b.lead_days for b in v) / len(v):.2f} / "
                          f"{sum(b.moved_days for b in v) / len(v):.2f} ({len(v)})")
    print(f"  {most}, checked in: mean lead / mean days after their own day (n), per block: " + ", ".join(blocks))


def province(args) -> int:
    """The cross-centre target: the same citizens with bookings confined and going to another centre."""
    p = load_province(args.scenario or PROVINCE)
    cross = p.cross.model_copy(update={k: v for k, v in (("travel_min", args.travel_min),
                                                          ("reluctance", args.reluctance)) if v is not None})
    p = dataclasses.replace(p, cross=cross)
    names = [c.site.id for c in p.centres]
    print(f"{p.name}: {args.days} days x seeds {args.seeds}, policy {args.policy}, centres {', '.join(names)}; "
          f"travel {cross.travel_min:g} min, reluctance {cross.reluctance:g}, "
          "taken from another centre's citizens: " + "; ".join(
              f"{n} {', '.join(sorted(a)) or '-'}" for n, a in zip(names, p.accepts)))
    for i, sc in enumerate(p.centres):
        demand(sc, [s * SEED_STRIDE + i for s in args.seeds], args.days, f"{sc.site.id}: ")
    got = {}
    for allowed in (False, True):
        per_centre: list[list] = [[] for _ in names]
        for seed in args.seeds:
            for i, days in enumerate(ProvinceSimulation(p.with_cross(allowed), args.policy, seed=seed,
                                                        days=args.days).run()):
                per_centre[i] += days
        got[allowed] = [centre_figures(d) for d in per_centre]
        print("cross-centre booking" if allowed else "bookings confined to each centre")
        for name, fig, days in zip(names, got[allowed], per_centre):
            print(f"  {name}: " + ", ".join(f"{k} {fig[k]}" for k in CENTRE_FIELDS))
            waits: dict[str, list[float]] = {}
            for r in (r for d in days for r in d.records):
                waits.setdefault(r.sector, []).append(r.wait_s)
            print("    mean wait from the ticket per sector (min, served): " + ", ".join(
                f"{k} {sum(v) / len(v) / 60:.1f} ({len(v)})" for k, v in sorted(waits.items())))
            sent = [d.carried for d in days[-args.days:]]
            print(f"    sent home at closing, first 5 days {sent[:5]}, last 5 days {sent[-5:]} (seed {args.seeds[-1]})")
    w0, w1 = got[False][0]["mean_wait_s"], got[True][0]["mean_wait_s"]
    cut = 1.0 - w1 / w0 if w0 else 0.0
    print(f"{names[0]} mean wait {w1 / 60:.1f} min against {w0 / 60:.1f} confined, {cut:.0%} lower "
          f"(target >= {URBAN_CUT:.0%}): {'met' if cut >= URBAN_CUT else 'MISSED'}")
    for i in range(1, len(names)):
        u0, u1 = got[False][i]["utilisation"], got[True][i]["utilisation"]
        print(f"{names[i]} utilisation {u1:.3f} against {u0:.3f} confined (target: rises): "
              f"{'met' if u1 > u0 else 'MISSED'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", type=Path)
    ap.add_argument("--province", action="store_true", help="the cross-centre target (a province scenario)")
    ap.add_argument("--travel-min", type=float, help="--province: another centre's travel penalty (minutes)")
    ap.add_argument("--reluctance", type=float, help="--province: the share who only book at their own centre")
    ap.add_argument("--carry-over", action="store_true", help="days that carry over (scenario carry_over)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--policy", default="dynamic")
    ap.add_argument("--share", type=float, default=0.5)
    ap.add_argument("--forecast", action="store_true", help="print the forecast (slower; waits unchanged)")
    ap.add_argument("--booking-share", type=float, help="the site's bookings.share (default: the site's)")
    ap.add_argument("--punctuality", type=float, nargs=2, metavar=("MEAN", "SD"),
                    help="check-in minutes after the slot (default: the scenario's)")
    ap.add_argument("--lead-days", type=lead_days, metavar="DAYS:SHARE,...",
                    help="appointments.lead_days: how many days before their visit the bookers book")
    ap.add_argument("--later-days", type=int, metavar="N",
                    help="appointments.later_days: a booker whose day is full takes one of the next N days")
    ap.add_argument("--surge-days", type=positive, metavar="N",
                    help="the surge ends after the first N days: the rates after are times --calm-factor")
    ap.add_argument("--calm-factor", type=float, default=0.6, help="--surge-days: the rates' factor after the surge")
    args = ap.parse_args(argv)
    if args.province:
        return province(args)
    try:
        sc = load(args.scenario or SCENARIO, args.booking_share, args.punctuality, args.carry_over,
                  args.lead_days, args.later_days, args.surge_days, args.calm_factor, args.days)
    except ScenarioError as exc:
        ap.error(str(exc))
    lead = ", ".join(f"{d}: {v:g}" for d, v in sc.appointments.lead_days.items())
    surge = "" if args.surge_days is None else f", surge ends after day {args.surge_days} (rates x {args.calm_factor:g} after)"
    print(f"{sc.name}: {args.days} days x seeds {args.seeds}, policy {args.policy}, "
          f"lead days {{{lead}}}, later days {sc.appointments.later_days}{surge}")
    demand(sc, args.seeds, args.days)
    got = {}
    for share in (0.0, args.share):
        res = run(sc, share, args.seeds, args.days, args.policy, args.forecast)
        got[share] = appointment_figures(res)
        print(f"share {share:.2f}: " + ", ".join(f"{k} {got[share][k]}" for k in FIELDS))
        if sc.carry_over:
            print("  days that carry over: " + ", ".join(f"{k} {v}" for k, v in carry_over_figures(res).items()))
        walk: dict[str, list[float]] = {}
        for r in (r for d in res for r in d.records if not r.booked):
            walk.setdefault(r.sector, []).append(r.wait_s)
        print("  walk-ins' mean wait per sector (min, n): " + ", ".join(
            f"{k} {sum(v) / len(v) / 60:.1f} ({len(v)})" for k, v in sorted(walk.items())))
        hall_at_peak(res)
        print("  hall peak per 5-day block (mean of the daily peaks, the first seed's days): " + ", ".join(
            f"days {a + 1}-{min(a + 5, args.days)} {appointment_figures(res[a:a + 5])['hall_peak_mean']}"
            for a in range(0, args.days, 5)))
        if share:
            why(res)
            lead_time(res, args.days)
    none, half = got[0.0], got[args.share]
    cut = 1.0 - half["hall_peak_mean"] / none["hall_peak_mean"] if none["hall_peak_mean"] else 0.0
    print(f"hall peak {cut:.0%} lower (target >= {PEAK_CUT:.0%}): {'met' if cut >= PEAK_CUT else 'MISSED'}")
    p90 = half["booked_p90_after_slot_s"]
    print(f"booked p90 after slot {p90 / 60:.1f} min (target <= {BOOKED_P90_S / 60:.0f}): "
          f"{'met' if p90 <= BOOKED_P90_S else 'MISSED'}")
    w0, w1 = none["walk_in_mean_wait_s"], half["walk_in_mean_wait_s"]
    print(f"walk-ins' mean wait {w1 / 60:.1f} min against {w0 / 60:.1f} (target: no worse): "
          f"{'met' if w1 <= w0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
