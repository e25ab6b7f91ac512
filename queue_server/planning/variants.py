"""What-if copies of a scenario (a counter trained for one more sector, a counter closed all day,
one sector alone on its own counters) and the one way the planning runs the simulator.

A copy is rebuilt through the site config's own validation (`SiteConfig.model_validate`), never
patched in place: the config caches its lookups (`counter_by_id`), so a shallow copy would keep
answering with the old counters.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Mapping, Sequence

from queue_server.domain.site import SiteConfig
from queue_server.sim import simulate
from queue_server.sim.scenario import CounterChange, Scenario, ServiceTime, VisitShares, clock_s

# The simulator's grace for a called citizen who left (sim/engine.py NO_SHOW_GRACE_S): a no-show
# keeps a counter this long. Read from there so the offered load counts it the same way.
from queue_server.sim.engine import NO_SHOW_GRACE_S


def periods_s(sc: Scenario) -> list[tuple[int, int]]:
    """The opening periods as (start, end) seconds of the day."""
    return [(a.hour * 3600 + a.minute * 60, b.hour * 3600 + b.minute * 60) for a, b in sc.site.site.periods]


def opening_s(sc: Scenario) -> int:
    return periods_s(sc)[0][0]


def _rebuilt(sc: Scenario, site: dict[str, Any], **changes: Any) -> Scenario:
    return dataclasses.replace(sc, site=SiteConfig.model_validate(site), **changes)


def with_trained(sc: Scenario, additions: Iterable[tuple[str, str]]) -> Scenario:
    """`sc` with each (counter, sector) added to the counter's `trained` list."""
    extra: dict[str, list[str]] = {}
    for counter, sector in additions:
        extra.setdefault(counter, []).append(sector)
    site = sc.site.model_dump()
    for c in site["counters"]:
        c["trained"] = list(c["trained"]) + [s for s in extra.get(c["id"], []) if s not in c["trained"]]
    return _rebuilt(sc, site)


def with_absent(sc: Scenario, counter: str, opened: Iterable[str] = ()) -> Scenario:
    """`sc` with `counter` closed all day (its clerk is absent; the scenario's own changes to it are
    dropped) and each counter in `opened` open from the start of the day."""
    opened = set(opened)
    site = sc.site.model_dump()
    for c in site["counters"]:
        if c["id"] == counter:
            c["initial_status"] = "closed"
        elif c["id"] in opened:
            c["initial_status"] = "open"
    changes = tuple(ch for ch in sc.counter_changes if ch.counter != counter)
    return _rebuilt(sc, site, counter_changes=changes)


def sector_mean_service_s(sc: Scenario, sector: str) -> float:
    """A sector's mean time at the counter per ticket: its procedures' own service times where the
    scenario gives them (the kiosk draws procedures evenly), no-shows holding the counter for the
    simulator's grace time."""
    procs = sc.site.sector_by_id[sector].procedures
    specs: list[ServiceTime] = ([sc.procedure_service.get(p.id) or sc.service[sector] for p in procs]
                                if procs else [sc.service[sector]])
    served = sum(s.mean for s in specs) / len(specs) * 60.0
    return (1.0 - sc.no_show) * served + sc.no_show * NO_SHOW_GRACE_S


def rate_per_hour(sc: Scenario, sector: str, start: int, end: int) -> float:
    """The sector's mean arrival rate (tickets an hour) over [start, end) seconds of the day."""
    steps = sc.arrivals.get(sector, [])
    total = 0.0
    for i, (at, rate) in enumerate(steps):
        until = steps[i + 1][0] if i + 1 < len(steps) else 24 * 3600
        lo, hi = max(at, start), min(until, end)
        if hi > lo:
            total += rate * (hi - lo)
    return total / (end - start)


def open_counters_at(sc: Scenario, t: int) -> set[str]:
    """The counters open at second `t` of the day: their initial status, then the scenario's changes."""
    status = {c.id: c.initial_status for c in sc.site.counters}
    for ch in sc.counter_changes:
        if clock_s(ch.at) <= t:
            status[ch.counter] = ch.status
    return {c for c, s in status.items() if s == "open"}


def single_sector(sc: Scenario, sector: str, schedule: Mapping[int, int], counters: int) -> Scenario:
    """`sector` alone with `counters` counters of its own, all closed at first, then opened or closed
    at each second of the day in `schedule` so that the first n are open: the staffing plan played
    on its own. Its citizens are the very ones of the full site (the simulator draws each sector
    from its own stream)."""
    site = sc.site.model_dump()
    sec = next(s for s in site["sectors"] if s["id"] == sector)
    site["sectors"] = [sec]
    site["counters"] = [{"id": f"k{i + 1}", "label": {"vi": f"Quầy {i + 1}", "en": f"Counter {i + 1}"},
                         "sectors": [sector], "trained": [sector], "initial_status": "closed"}
                        for i in range(counters)]
    changes = []
    for at in sorted(schedule):
        hhmm = f"{at // 3600:02d}:{at % 3600 // 60:02d}"
        for i in range(counters):
            changes.append(CounterChange(at=hhmm, counter=f"k{i + 1}",
                                         status="open" if i < schedule[at] else "closed"))
    procs = {p["id"] for p in sec["procedures"]}
    # A visit of several procedures (scenario `visits`) would send the citizen on to other
    # sectors' queues, which are not here: the sector is played with single-procedure citizens.
    return _rebuilt(sc, site, arrivals={sector: sc.arrivals[sector]}, service={sector: sc.service[sector]},
                    procedure_service={p: v for p, v in sc.procedure_service.items() if p in procs},
                    weekday_arrivals={wd: {sector: steps.get(sector, [])} for wd, steps in sc.weekday_arrivals.items()},
                    visits=VisitShares(), counter_changes=tuple(changes))


def run(sc: Scenario, policy: str, days: int, seed: int, sectors: Any = "sectors") -> tuple[dict, list]:
    """One simulation for the plan. The printed-wait forecast is off: it changes only the wait
    printed on tickets (and, through the shown wait, who files online instead where the scenario
    has an online-filing offer), not who is called when, and costs 5-8 times the run."""
    return simulate(sc, policy, seed=seed, days=days, sectors=sectors, forecast=False)


def pmap(fn: Callable[..., Any], calls: Sequence[tuple], workers: int = 1) -> list[Any]:
    """[fn(*args) for args in calls], on up to `workers` processes (the simulator is pure Python:
    threads would take turns). Forked, so only from a single-threaded program such as the CLI; the
    results come back in order, so the plan is the same whatever `workers` is."""
    if workers <= 1 or len(calls) <= 1:
        return [fn(*args) for args in calls]
    with ProcessPoolExecutor(max_workers=min(workers, len(calls)),
                             mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(fn, *zip(*calls)))
