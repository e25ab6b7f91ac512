"""Roster: when a clerk is absent (their counter closed all day), who covers, best first
(docs/planning.md).

The ways considered, each simulated on the scenario's days under the site's own calling policy
(dynamic, auto mode off: a manager's standing layout for the day) with the same citizens:
- nobody covers (the reference);
- a spare counter (closed or paused in the site config) opens on its own sectors;
- another counter also serves one of the absent counter's sectors it is trained for;
- the two best of those together, on two different counters.
Only the ways that shorten the mean wait by at least 2 % are shown; none means no counter trained
for the absent counter's sectors has time to spare (the training suggestions are the remedy).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from queue_server.planning import flow, variants
from queue_server.planning.training import MIN_GAIN   # a way to cover that saves less is not shown
from queue_server.sim.metrics import never_called
from queue_server.sim.scenario import Scenario

POLICY = "dynamic"
KEEP = 5          # options shown per absent counter


@dataclass(frozen=True)
class Option:
    changes: dict[str, list[str]]    # counter -> its sectors for the day
    opened: list[str]
    mean_wait_s: float               # of the citizens called
    p90_wait_s: float
    never_called: int                # citizens nobody could call (their sector had no open counter)

    @property
    def key(self) -> tuple[int, float, float]:
        """Best first: everybody called, then the shortest mean wait, then p90."""
        return (self.never_called, self.mean_wait_s, self.p90_wait_s)


@dataclass(frozen=True)
class Cover:
    absent: str
    nobody: Option
    options: list[Option]            # best first; only those better than nobody covering


def default_absent(sc: Scenario) -> list[str]:
    """The counter whose clerk the centre can least spare: the one whose absence leaves the most
    work no spreading over the trained lists can serve (flow.py); the first such in the config."""
    fluid = flow.FluidDay(sc)
    skills = flow.skills_of(sc)
    working = [c.id for c in sc.site.counters if c.initial_status == "open"]
    if not working:
        return []
    worst = max(working, key=lambda c: (round(fluid.shortfall(skills, absent=c), 6), -working.index(c)))
    return [worst]


def _play(sc: Scenario, absent: str, changes: dict[str, list[str]], opened: list[str], days: int,
          seed: int) -> Option:
    variant = variants.with_absent(sc, absent, opened)
    summary, results = variants.run(variant, POLICY, days, seed, sectors=changes or "sectors")
    return Option(changes, opened, summary["mean_wait_s"], summary["p90_wait_s"], never_called(results))


def cover(sc: Scenario, absent: str, days: int, seed: int,
          progress: Callable[[str], None] | None = None, workers: int = 1) -> Cover:
    site = sc.site
    if absent not in site.counter_by_id:
        raise ValueError(f"unknown counter {absent!r}; the site's counters: {', '.join(site.counter_by_id)}")
    gone = site.counter_by_id[absent]
    ways: list[tuple[dict[str, list[str]], list[str]]] = [({}, [])]   # nobody covers first
    for c in site.counters:
        if c.id == absent:
            continue
        if c.initial_status != "open":
            ways.append(({}, [c.id]))
            continue
        for s in gone.sectors:
            if s in c.trained and s not in c.sectors and s in sc.arrivals:
                ways.append(({c.id: [*c.sectors, s]}, []))
    played = variants.pmap(_play, [(sc, absent, ch, op, days, seed) for ch, op in ways], workers)
    nobody, tried = played[0], sorted(played[1:], key=_key)
    singles = [o for o in tried if not o.opened]
    if len(singles) >= 2:
        a = singles[0]
        b = next((o for o in singles[1:] if set(o.changes).isdisjoint(a.changes)), None)
        if b is not None:
            tried = sorted([*tried, _play(sc, absent, {**a.changes, **b.changes}, [], days, seed)], key=_key)
    if progress:
        progress(f"roster: {absent} absent: {len(tried)} ways to cover simulated")
    better = [o for o in tried if o.never_called < nobody.never_called
              or (o.never_called == nobody.never_called and o.mean_wait_s <= nobody.mean_wait_s * (1.0 - MIN_GAIN))]
    return Cover(absent, nobody, better[:KEEP])


def _key(o: Option) -> tuple[int, float, float]:
    return o.key
