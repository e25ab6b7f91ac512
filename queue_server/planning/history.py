"""What a centre's own event log says about its days (issue #17, docs/balancing.md "Learning a
scenario from the centre's log"), written as a scenario so any what-if runs on the centre's own days.

Learned over a window of whole weeks that ends on the log's last day:
- arrivals per sector and half-hour: the mean over the window's open days (tickets per hour);
  a weekday gets its own profile only when its day total differs from the other days' by at
  least `WEEKDAY_Z` standard errors (the spread of day totals within weekdays, at least the
  Poisson spread), and a day of the month a multiplier only when its days' totals differ from
  their weekday's by `DAY_OF_MONTH_Z` standard errors and by `DAY_OF_MONTH_MIN_EFFECT`; a
  weekday never open in the window is a closed weekday. Cancelled tickets are left out (they
  took no counter time); tickets still waiting at closing count (they were demand).
- service times (mean, cv) per sector, procedure and counter, from `ticket.served` and the part
  served before a `ticket.transferred`; the scenario carries each sector's over its real mix of
  procedures (the simulator draws a sector's procedures uniformly, so per-procedure times with
  a uniform mix would misstate the sector's load); the rest is in `History` and the file's header.
- the no-show share (of first calls) and the priority share (of tickets);
- the counters as they were: each one's sectors and status at opening (the most common over
  the days), and the status changes a usual day has (a change seen on at least half the days,
  at its median time). Sector moves within a day (a manager's, auto mode's) are the calling
  policy's, not the roster's, and are left to the policy being simulated.

`learn` is pure (events in, `History` out); `read_log` is the one reader of a store (SQLite or
PostgreSQL through `EventStore`), reading only the window; `learn_scenario` does both and
returns a `Scenario` (for `motcua simulate --from-log` and `motcua plan --from-log`).
No personal data is read: tickets are counted by sector, procedure, priority and time.
"""
from __future__ import annotations

import math
import os
import statistics
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable

from queue_server.domain import events as ev
from queue_server.domain.events import Event
from queue_server.domain.site import SiteConfig
from queue_server.sim.scenario import WEEKDAYS, Scenario, ScenarioError, parse_scenario

SLOT_S = 1800                   # the arrival profile's step: half an hour (as domain/learning.py)
DEFAULT_WEEKS = 4
MERGE_Z = 2.0                   # adjacent half-hours closer than this many standard errors are one step
WEEKDAY_Z = 3.0                 # standard errors before a weekday gets its own profile
DAY_OF_MONTH_Z = 3.5            # ... before a day of the month gets a multiplier (31 days tested: stricter)
DAY_OF_MONTH_MIN_EFFECT = 0.15  # and it must move the day by at least this share
MAX_LEADING_CLOSED = 2          # days a window may start before the log's first, when closed weekdays
CHANGE_MIN_SHARE = 0.5          # a counter's status change kept when seen on at least this share of days
MIN_SERVICE_MIN = 0.05          # a service time under 3 s is written as 3 s (the scenario needs > 0)
MAX_CV = 5.0                    # the scenario format's bound on a service time's cv


class HistoryError(ValueError):
    """A log that cannot be learned from (no days, fewer weeks than asked, another site's log)."""


@dataclass(frozen=True)
class ServiceFigure:
    n: int
    mean_s: float
    cv: float

    @classmethod
    def of(cls, samples: list[float]) -> "ServiceFigure":
        mean = sum(samples) / len(samples)
        sd = statistics.pstdev(samples) if len(samples) > 1 else 0.0
        return cls(len(samples), mean, sd / mean if mean > 0 else 0.0)

    def scenario(self) -> dict[str, Any]:
        return {"dist": "lognormal", "mean": round(max(self.mean_s / 60.0, MIN_SERVICE_MIN), 3),
                "cv": round(min(self.cv, MAX_CV), 3)}


@dataclass(frozen=True)
class CounterAtOpening:
    sectors: tuple[str, ...]
    status: str


@dataclass
class History:
    """What the window of the log says; times of day are seconds after local midnight."""
    site: SiteConfig
    start: date                                   # the window, both ends included
    end: date
    days: list[date]                              # the open days in it (a ticket was issued)
    tickets: int
    arrivals: dict[str, dict[int, float]]         # sector -> slot start -> tickets per hour
    weekday_arrivals: dict[int, dict[str, dict[int, float]]]   # weekday -> the same, when it differs
    closed_weekdays: list[int]
    day_of_month_factor: dict[int, float]
    service: dict[str, ServiceFigure]             # per sector
    procedure_service: dict[str, ServiceFigure]
    procedure_share: dict[str, dict[str, float]]  # sector -> procedure -> share of its tickets
    counter_service: dict[str, ServiceFigure]
    no_show: float
    priority_share: float
    counters: dict[str, CounterAtOpening]
    counter_changes: list[tuple[int, str, str]]   # (second of day, counter, status)
    mean_wait_s: float                            # issue to first call, over the window's calls
    notes: list[str] = field(default_factory=list)

    def scenario_data(self, site_ref: str | dict[str, Any], name: str | None = None,
                      seed: int = 1) -> dict[str, Any]:
        """The scenario file's mapping (queue_server/sim/scenario.py), `site_ref` its `site:`;
        `days` is the window's open days, so a simulation plays as many days as were learned."""
        data: dict[str, Any] = {
            "name": name or f"{self.site.id} {self.start.isoformat()}..{self.end.isoformat()}",
            "site": site_ref,
            "days": len(self.days),
            "seed": seed,
            "arrivals": _steps_yaml(self.arrivals),
            "service_min": {s: f.scenario() for s, f in self.service.items()},
            "no_show": round(min(self.no_show, 0.99), 4),
            "priority_share": round(self.priority_share, 4),
            "counters": [self._counter_yaml(c.id) for c in self.site.counters],
        }
        if self.counter_changes:
            data["counter_changes"] = [{"at": _clock(t), "counter": c, "status": s}
                                       for t, c, s in self.counter_changes]
        if self.weekday_arrivals:
            data["weekday_arrivals"] = {WEEKDAYS[w]: _steps_yaml(a) for w, a in sorted(self.weekday_arrivals.items())}
        if self.day_of_month_factor:
            data["day_of_month_factor"] = {d: round(f, 3) for d, f in sorted(self.day_of_month_factor.items())}
        if self.closed_weekdays:
            data["closed_weekdays"] = [WEEKDAYS[w] for w in self.closed_weekdays]
        return data

    def _counter_yaml(self, counter_id: str) -> dict[str, Any]:
        conf = self.site.counter_by_id[counter_id]
        out = conf.model_dump(mode="json", exclude_defaults=True)
        seen = self.counters.get(counter_id)
        if seen is not None:
            out["sectors"] = list(seen.sectors)
            # A sector served at opening by an override is one the clerk can serve.
            out["trained"] = list(dict.fromkeys([*conf.trained, *seen.sectors]))
            if seen.status != "open":
                out["initial_status"] = seen.status
            else:
                out.pop("initial_status", None)
        return out

    def header(self) -> str:
        """Comment lines for the scenario file: the window, and what the scenario cannot carry."""
        lines = [f"Learned from the event log of site {self.site.id}: {self.start} to {self.end}, "
                 f"{len(self.days)} open days, {self.tickets} tickets, mean wait {self.mean_wait_s / 60:.1f} min.",
                 "Service per procedure (tickets, mean min, cv; the simulator draws a sector's procedures",
                 "uniformly, so service_min holds each sector's time over its real mix):"]
        for sector, shares in self.procedure_share.items():
            for proc, share in shares.items():
                f = self.procedure_service.get(proc)
                figure = f"{f.mean_s / 60:.1f} min, cv {f.cv:.2f}" if f else "no service seen"
                lines.append(f"  {sector}/{proc}: {100 * share:.0f}% of the sector, {figure}")
        lines.append("Service per counter (services, mean min, cv):")
        for c, f in self.counter_service.items():
            lines.append(f"  {c}: {f.n}, {f.mean_s / 60:.1f} min, cv {f.cv:.2f}")
        lines += self.notes
        return "".join(f"# {line}\n" for line in lines)


# --- the window ----------------------------------------------------------------

def window(first: date, last: date, weeks: int) -> tuple[date, date]:
    """The last `weeks` whole weeks of a log whose tickets run from `first` to `last` (dates
    included). Whether the log covers them is `covered`'s to say, once the open days are known."""
    if weeks < 1:
        raise HistoryError(f"--weeks must be at least 1, not {weeks}")
    return last - timedelta(days=7 * weeks - 1), last


def covered(first: date, start: date, end: date, open_days: list[date]) -> None:
    """HistoryError unless the log, whose first ticket is on `first`, covers the window
    `start`..`end`: the days before `first` in it must be a weekend at most (`MAX_LEADING_CLOSED`)
    on weekdays the centre never opened in the window (a log that starts on a Monday covers a
    window that starts on the Saturday before)."""
    open_weekdays = {d.weekday() for d in open_days}
    missing = [start + timedelta(days=i) for i in range((first - start).days)]
    if len(missing) > MAX_LEADING_CLOSED or any(d.weekday() in open_weekdays for d in missing):
        span = (end - first).days + 1
        weeks = ((end - start).days + 1) // 7
        whole = span // 7
        hint = f"use --weeks {whole} or fewer" if whole else "it needs at least one whole week"
        raise HistoryError(f"the log covers {span} days ({first} to {end}), fewer than the {weeks} "
                           f"week(s) asked; {hint}")


# --- learning (pure) -------------------------------------------------------------

def learn_events(events: Iterable[Event], site: SiteConfig, weeks: int = DEFAULT_WEEKS) -> History:
    """`learn` over a whole list of events: the window is the last `weeks` weeks of its days."""
    events = list(events)
    tz = site.site.tz
    days = [_local(e.ts, tz).date() for e in events if e.type == ev.TICKET_ISSUED]
    if not days:
        raise HistoryError("the log has no days: no ticket was ever issued in it")
    start, end = window(min(days), max(days), weeks)
    return learn(events, site, start, end, first=min(days))


def learn(events: Iterable[Event], site: SiteConfig, start: date, end: date, first: date | None = None) -> History:
    """Learn the days `start`..`end` (local dates, included) from events in log order. Counter
    events before `start` set the counters' state the window starts from; other earlier or later
    events are ignored. `first`: the log's first day with a ticket, checked to cover the window."""
    tz = site.site.tz
    opening_s = _opening_s(site)
    issued: dict[str, tuple[date, int, str, str | None, str]] = {}   # ticket -> (day, second, sector, proc, prio)
    cancelled: set[str] = set()
    first_calls: dict[str, float] = {}            # ticket -> wait (issue to first call)
    no_shows = 0
    by_sector: dict[str, list[float]] = defaultdict(list)
    by_proc: dict[str, list[float]] = defaultdict(list)
    by_counter: dict[str, list[float]] = defaultdict(list)
    counter_events: list[tuple[datetime, Event]] = []
    moved_in: list[tuple[date, int, str, str | None, str]] = []   # transferred in: as `issued`'s rows
    unknown: set[str] = set()

    for e in events:
        try:
            if e.type in (ev.COUNTER_STATUS, ev.COUNTER_SECTORS):
                when = _local(e.ts, tz)
                if when.date() <= end:
                    counter_events.append((when, e))
                    if e.data.get("counter") not in site.counter_by_id:
                        unknown.add(f"counter {e.data.get('counter')!r}")
                continue
            if e.type == ev.TICKET_ISSUED:
                when = _local(e.ts, tz)
                if not start <= when.date() <= end:
                    continue
                t = e.data["ticket"]
                if t["sector"] not in site.sector_by_id:
                    unknown.add(f"sector {t['sector']!r}")
                    continue
                issued[t["id"]] = (when.date(), _second(when), t["sector"], t.get("procedure"),
                                   t.get("priority") or "normal")
                continue
            tid = e.data.get("ticket_id")
            if tid not in issued:
                continue   # a ticket of a day outside the window
            if e.type == ev.TICKET_CALLED:
                if tid not in first_calls and e.data.get("wait_s") is not None:
                    first_calls[tid] = float(e.data["wait_s"])
            elif e.type == ev.TICKET_NO_SHOW:
                no_shows += 1
            elif e.type == ev.TICKET_CANCELLED:
                cancelled.add(tid)
            elif e.type in (ev.TICKET_SERVED, ev.TICKET_TRANSFERRED) and e.data.get("service_s") is not None:
                _day, _s, sector, proc, prio = issued[tid]
                if e.type == ev.TICKET_TRANSFERRED:
                    # The simulator has no transfers: the citizen is a new arrival of the sector
                    # they were sent to, and the time served so far is the old sector's.
                    sector, proc = e.data.get("from_sector", sector), None
                    if e.data.get("to_sector") in site.sector_by_id:
                        when = _local(e.ts, tz)
                        moved_in.append((when.date(), _second(when), e.data["to_sector"], None, prio))
                service = float(e.data["service_s"])
                by_sector[sector].append(service)
                if proc:
                    by_proc[proc].append(service)
                if e.data.get("counter"):
                    by_counter[e.data["counter"]].append(service)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise HistoryError(f"event {e.seq} ({e.type}) of the log is not as the domain writes it; "
                               f"is this a motcua event log?") from None
    if unknown:
        raise HistoryError(f"the log is not of site {site.id!r}: it names {', '.join(sorted(unknown))}, "
                           f"which the site config does not have")

    arriving = {tid: row for tid, row in issued.items() if tid not in cancelled}
    days = sorted({row[0] for row in issued.values()})
    if not days:
        raise HistoryError(f"the log has no days from {start} to {end}: no ticket was issued then")
    if first is not None:
        covered(first, start, end, days)
    if not by_sector:
        raise HistoryError(f"the log records no service from {start} to {end}; service times cannot be learned")

    # Arrivals: counts per (day, sector, slot), then rates.
    counts: dict[date, dict[str, dict[int, int]]] = {d: defaultdict(lambda: defaultdict(int)) for d in days}
    for day, second, sector, _proc, _prio in [*arriving.values(), *moved_in]:
        if day in counts:
            counts[day][sector][second - second % SLOT_S] += 1
    periods = [(a.hour * 3600 + a.minute * 60, b.hour * 3600 + b.minute * 60) for a, b in site.site.periods]
    base = _rates(counts, days, periods)
    totals = {d: sum(n for slots in counts[d].values() for n in slots.values()) for d in days}
    weekday_profiles, closed = _weekdays(counts, totals, days, start, end, periods)
    dom = _days_of_month(totals, days, weekday_profiles, base)

    all_services = [s for samples in by_sector.values() for s in samples]
    service = {}
    notes = []
    for sector in base:
        samples = by_sector.get(sector) or all_services
        if sector not in by_sector:
            notes.append(f"{sector}: no service seen; the site's mean service time is used")
        service[sector] = ServiceFigure.of(samples)
    shares: dict[str, dict[str, float]] = {}
    for sector in base:
        procs = Tally(proc for _d, _s, sec, proc, _p in arriving.values() if sec == sector and proc)
        n = sum(procs.values())
        if n:
            shares[sector] = {p: k / n for p, k in procs.most_common()}
    called = len(first_calls)
    roster, changes = _roster(site, counter_events, days, opening_s, start)
    return History(
        site=site, start=start, end=end, days=days, tickets=len(arriving), arrivals=base,
        weekday_arrivals=weekday_profiles, closed_weekdays=closed, day_of_month_factor=dom,
        service=service, procedure_service={p: ServiceFigure.of(v) for p, v in sorted(by_proc.items())},
        procedure_share=shares, counter_service={c: ServiceFigure.of(v) for c, v in sorted(by_counter.items())},
        no_show=no_shows / called if called else 0.0,
        priority_share=sum(1 for row in arriving.values() if row[4] != "normal") / len(arriving) if arriving else 0.0,
        counters=roster, counter_changes=changes,
        mean_wait_s=sum(first_calls.values()) / called if called else 0.0, notes=notes)


def _rates(counts: dict[date, dict[str, dict[int, int]]], days: list[date],
           periods: list[tuple[int, int]]) -> dict[str, dict[int, float]]:
    """Tickets per hour per sector and slot over `days`, adjacent slots of one opening period
    merged into one step where their counts do not differ significantly (`_merge`)."""
    sums: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for d in days:
        for sector, slots in counts[d].items():
            for slot, n in slots.items():
                sums[sector][slot] += n
    return {sector: _merge(slots, len(days), periods) for sector, slots in sorted(sums.items())}


def _merge(slots: dict[int, int], n_days: int, periods: list[tuple[int, int]]) -> dict[int, float]:
    """slot -> tickets per hour, as steps: from each slot's own count (from the first slot with
    tickets to the last), the two neighbouring steps of one opening period whose rates differ
    least are merged while that difference is under `MERGE_Z` standard errors (Poisson counts).
    A half-hour's count over a few weeks is noisy, and the waits grow faster than linearly with
    the load, so unmerged noise alone would make the learned days slower than the real ones.
    Never across a closed time: the simulator drops arrivals drawn then, so a step spread over
    the lunch break would lose tickets."""
    first, last = min(slots), max(slots)
    hours = n_days * SLOT_S / 3600.0                 # exposure of one slot over the days

    def period(s: int) -> int | None:
        return next((i for i, (a, b) in enumerate(periods) if a <= s < b or a < s + SLOT_S <= b), None)

    # [start, count, exposure, opening period]
    steps = [[s, slots.get(s, 0), hours, period(s)] for s in range(first, last + SLOT_S, SLOT_S)]

    def z(a: list, b: list) -> float:
        if a[3] is None or a[3] != b[3]:
            return math.inf
        pooled = (a[1] + b[1]) / (a[2] + b[2])
        if pooled == 0:
            return 0.0
        return abs(a[1] / a[2] - b[1] / b[2]) / math.sqrt(pooled / a[2] + pooled / b[2])

    while len(steps) > 1:
        i = min(range(len(steps) - 1), key=lambda k: z(steps[k], steps[k + 1]))
        if z(steps[i], steps[i + 1]) >= MERGE_Z:
            break
        a, b = steps[i], steps.pop(i + 1)
        a[1] += b[1]
        a[2] += b[2]
    out: dict[int, float] = {}
    for k, (start, count, exposure, _period) in enumerate(steps):
        end = steps[k + 1][0] if k + 1 < len(steps) else last + SLOT_S
        for s in range(start, end, SLOT_S):
            out[s] = count / exposure
    return out


def _spread(totals: dict[date, int], groups: dict[Any, list[date]]) -> float:
    """The variance of a day's total within its group, pooled; at least the Poisson variance
    (the mean), so a few identical days do not make any difference look significant."""
    ss, dof = 0.0, 0
    for ds in groups.values():
        if len(ds) > 1:
            m = sum(totals[d] for d in ds) / len(ds)
            ss += sum((totals[d] - m) ** 2 for d in ds)
            dof += len(ds) - 1
    mean = sum(totals.values()) / len(totals)
    return max(ss / dof if dof else 0.0, mean)


def _weekdays(counts, totals: dict[date, int], days: list[date], start: date, end: date,
              periods: list[tuple[int, int]]):
    """(weekday -> own profile, for the weekdays that differ; the weekdays never open)."""
    by_wd: dict[int, list[date]] = defaultdict(list)
    for d in days:
        by_wd[d.weekday()].append(d)
    seen_wd = {(start + timedelta(days=i)).weekday() for i in range((end - start).days + 1)}
    closed = sorted(w for w in seen_wd if w not in by_wd) if (end - start).days >= 6 else []
    var = _spread(totals, by_wd)
    n_all = len(days)
    mean_all = sum(totals.values()) / n_all
    own = {}
    for w, ds in by_wd.items():
        if len(ds) < 2 or len(ds) == n_all:
            continue
        mean_w = sum(totals[d] for d in ds) / len(ds)
        se = math.sqrt(var * (1.0 / len(ds) - 1.0 / n_all))
        if abs(mean_w - mean_all) >= WEEKDAY_Z * se:
            own[w] = _rates(counts, ds, periods)
    return own, closed


def _days_of_month(totals: dict[date, int], days: list[date], weekday_profiles, base) -> dict[int, float]:
    """Day of month -> multiplier, where its days' totals stand out from their weekday's profile."""
    def expected(d: date) -> float:
        profile = weekday_profiles.get(d.weekday(), base)
        return sum(rate for slots in profile.values() for rate in slots.values()) * SLOT_S / 3600.0

    by_dom: dict[int, list[date]] = defaultdict(list)
    for d in days:
        by_dom[d.day].append(d)
    by_wd: dict[int, list[date]] = defaultdict(list)
    for d in days:
        by_wd[d.weekday()].append(d)
    var = _spread(totals, by_wd)
    out = {}
    for dom, ds in by_dom.items():
        obs = sum(totals[d] for d in ds)
        exp = sum(expected(d) for d in ds)
        if exp <= 0:
            continue
        z = (obs - exp) / math.sqrt(var * len(ds))
        if abs(z) >= DAY_OF_MONTH_Z and abs(obs / exp - 1.0) >= DAY_OF_MONTH_MIN_EFFECT:
            out[dom] = obs / exp
    return out


def _roster(site: SiteConfig, counter_events: list[tuple[datetime, Event]], days: list[date], opening_s: int,
            start: date) -> tuple[dict[str, CounterAtOpening], list[tuple[int, str, str]]]:
    """Each counter's usual sectors and status at opening, and the status changes of a usual day."""
    sectors = {c.id: tuple(c.sectors) for c in site.counters}
    status = {c.id: c.initial_status for c in site.counters}
    at_opening: dict[str, Tally] = {c.id: Tally() for c in site.counters}
    seen: dict[tuple[str, str, int], list[int]] = defaultdict(list)   # (counter, status, k-th that day) -> times
    i = 0
    for d in days:
        opening = datetime(d.year, d.month, d.day, tzinfo=site.site.tz) + timedelta(seconds=opening_s)
        while i < len(counter_events) and counter_events[i][0] <= opening:
            _apply(counter_events[i][1], sectors, status)
            i += 1
        for c in at_opening:
            at_opening[c][(sectors[c], status[c])] += 1
        nth: Tally = Tally()
        next_day = datetime(d.year, d.month, d.day, tzinfo=site.site.tz) + timedelta(days=1)
        while i < len(counter_events) and counter_events[i][0] < next_day:
            when, e = counter_events[i]
            if e.type == ev.COUNTER_STATUS and e.data["status"] != status.get(e.data["counter"]):
                key = (e.data["counter"], e.data["status"])
                seen[(*key, nth[key])].append(when.hour * 3600 + when.minute * 60 + when.second)
                nth[key] += 1
            _apply(e, sectors, status)
            i += 1
    roster = {}
    for c, tally in at_opening.items():
        (secs, st), _n = tally.most_common(1)[0]
        roster[c] = CounterAtOpening(secs, st)
    changes = sorted((int(statistics.median(times)) // 60 * 60, c, s) for (c, s, _k), times in seen.items()
                     if len(times) >= CHANGE_MIN_SHARE * len(days))
    return roster, changes


def _apply(e: Event, sectors: dict[str, tuple[str, ...]], status: dict[str, str]) -> None:
    c = e.data.get("counter")
    if c not in sectors:
        return
    if e.type == ev.COUNTER_STATUS:
        status[c] = e.data["status"]
    else:
        sectors[c] = tuple(e.data["sectors"])


# --- reading a log ---------------------------------------------------------------

def read_log(store: Any, site: SiteConfig, weeks: int = DEFAULT_WEEKS) -> tuple[list[Event], date, date, date]:
    """The events `learn` needs from an EventStore (SQLite or PostgreSQL): the counters' events
    up to the window, and every event from the window's first day on; (events, start, end, the
    log's first day with a ticket).
    The window's first event is found by bisecting on seq (seq grows with time), so a long log
    is not read whole."""
    tz = site.site.tz
    first, last = _first_and_last_issued(store)
    if first is None or last is None:
        raise HistoryError("the log has no days: no ticket was ever issued in it")
    start, end = window(_local(first.ts, tz).date(), _local(last.ts, tz).date(), weeks)
    first_day = _local(first.ts, tz).date()
    lo, hi = 1, store.last_seq() + 1          # -> the first seq whose local date is on or after start
    while lo < hi:
        mid = (lo + hi) // 2
        e = next(store.read(after=mid - 1, batch=1), None)
        if e is None or _local(e.ts, tz).date() >= start:
            hi = mid
        else:
            lo = e.seq + 1
    before = [e for e in store.read(after=0, types=(ev.COUNTER_STATUS, ev.COUNTER_SECTORS)) if e.seq < lo]
    return before + list(store.read(after=lo - 1)), start, end, first_day


def _first_and_last_issued(store: Any) -> tuple[Event | None, Event | None]:
    """The log's first and last `ticket.issued` (the type is indexed: two short queries)."""
    from sqlalchemy import select   # the store's own library and table, read as the store reads them
    from queue_server.store.schema import events as table

    def one(order) -> Event | None:
        with store.engine.connect() as conn:
            seq = conn.execute(select(table.c.seq).where(table.c.type == ev.TICKET_ISSUED)
                               .order_by(order).limit(1)).scalar()
        return None if seq is None else next(store.read(after=seq - 1, batch=1), None)
    return one(table.c.seq.asc()), one(table.c.seq.desc())


def learn_scenario(source: Any, site: SiteConfig, weeks: int = DEFAULT_WEEKS, site_ref: str | dict | None = None,
                   name: str | None = None) -> tuple[Scenario, History]:
    """A scenario of the centre's own days: `source` is a database (a path or URL, opened read
    through EventStore), an EventStore, or events in log order; `site` the site config the log
    was written under. (Scenario, History); HistoryError for a log that cannot be learned."""
    if isinstance(source, (str, Path)):
        store = open_log(source)
        try:
            events, start, end, first = read_log(store, site, weeks)
        finally:
            store.close()
        history = learn(events, site, start, end, first)
    elif hasattr(source, "read") and hasattr(source, "last_seq"):
        events, start, end, first = read_log(source, site, weeks)
        history = learn(events, site, start, end, first)
    else:
        history = learn_events(source, site, weeks)
    data = history.scenario_data(site_ref if site_ref is not None else
                                 site.model_dump(mode="json", exclude_defaults=True), name=name)
    try:
        return parse_scenario(data, source="learned scenario"), history
    except ScenarioError as exc:   # a bug here, not bad input: say what was learned
        raise HistoryError(f"the learned scenario is not valid: {exc}") from None


def scenario_yaml(history: History, site_ref: str | dict[str, Any], name: str | None = None) -> str:
    """The scenario file's text: the header of what it cannot carry, then the YAML mapping."""
    import yaml
    body = yaml.safe_dump(history.scenario_data(site_ref, name=name), allow_unicode=True, sort_keys=False,
                          default_flow_style=None, width=120)
    return history.header() + body


def scenario_file_text(history: History, site_path: str | Path, out: str | Path | None = None) -> str:
    """`scenario_yaml` with `site:` the site config's path: relative to the file `out` it will
    be written to (a scenario's `site:` is read relative to the scenario), else absolute."""
    site = Path(site_path).resolve()
    return scenario_yaml(history, os.path.relpath(site, Path(out).resolve().parent) if out else str(site))


def record_simulation(scenario: Scenario, store: Any, policy: str = "dynamic", days: int | None = None,
                      seed: int | None = None) -> dict[str, Any]:
    """Simulate `scenario` and append every event to `store` (an EventStore), as the live
    server would have written them: a log of known parameters to learn from (the check of
    docs/balancing.md, benchmarks). The run's summary (queue_server/sim/metrics.py). The
    printed waits are the stream estimate (forecast=False, 5-8 times faster): nothing learned
    depends on them."""
    from queue_server.sim import Simulation
    from queue_server.sim.metrics import summarize
    record: list[Event] = []
    results = Simulation(scenario, policy, seed=seed, days=days, forecast=False, record=record).run()
    for i in range(0, len(record), 5000):
        store.append(record[i:i + 5000], [])
    return summarize(policy, scenario.name, results, [s.id for s in scenario.site.sectors if s.id in scenario.arrivals])


def open_log(path_or_url: str | Path) -> Any:
    """The EventStore of an existing log (a SQLite file or a database URL); HistoryError for a
    missing file or one that is not a motcua event log (opening it would add the tables)."""
    from queue_server.store.log import EventStore, normalise_url
    url = normalise_url(str(path_or_url))
    if url.startswith("sqlite:///"):
        path = Path(url.split("sqlite:///", 1)[1])
        if not path.is_file():
            raise HistoryError(f"no event log at {path}: the file does not exist")
        if not _has_events_table(path):
            raise HistoryError(f"{path} is not a motcua event log (no events table)")
    try:
        return EventStore(url)
    except Exception as exc:   # a server that refuses, a database in a state the store cannot migrate
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise HistoryError(f"cannot open the event log {path_or_url}: {exc.__class__.__name__}: {first}") from None


def _has_events_table(path: Path) -> bool:
    import sqlite3
    try:
        con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            return con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='events'").fetchone() is not None
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return False


# --- small helpers ------------------------------------------------------------------

def _local(ts: str, tz) -> datetime:
    return datetime.fromisoformat(ts).astimezone(tz)


def _second(when: datetime) -> int:
    return when.hour * 3600 + when.minute * 60 + when.second


def _opening_s(site: SiteConfig) -> int:
    first = site.site.periods[0][0]
    return first.hour * 3600 + first.minute * 60


def _clock(second: int) -> str:
    return f"{second // 3600:02d}:{second % 3600 // 60:02d}"


def _steps_yaml(profile: dict[str, dict[int, float]]) -> dict[str, dict[str, float]]:
    """slot -> rate as the scenario's steps: a step where the rate changes, from the first slot
    with tickets to the last, then 0 (a rate stays after its time)."""
    out = {}
    for sector, slots in profile.items():
        if not slots:
            continue
        first, last = min(slots), max(slots)
        steps: dict[str, float] = {}
        previous = None
        for s in range(first, last + SLOT_S, SLOT_S):
            rate = round(slots.get(s, 0.0), 3)
            if rate != previous:
                steps[_clock(s)] = previous = rate
        steps[_clock(last + SLOT_S) if last + SLOT_S < 24 * 3600 else "23:59"] = 0.0
        out[sector] = steps
    return out
