"""The fluid view of a centre's skills (Jordan & Graves 1995): in each half-hour, how much of the
sectors' work the counters could take at most, each counter one counter's worth of time spread
over the sectors it is trained for. What no spreading can serve (the demand minus the maximum
flow) is the measure Jordan & Graves rank skill sets by; the planning uses it only to order what
it then simulates (training.py, roster.py).

Demand is uncertain, so a skill set is judged on the day as planned and on the same day with each
sector in turn 50 % and 100 % busier, as their expected shortfall over random demand does. The
doubled surge keeps the measure telling skill sets apart once the planned day fits: a skill that
only helps when a sector runs far over its plan is still worth more than none.
"""
from __future__ import annotations

from collections import deque
from typing import Mapping

from queue_server.planning import variants
from queue_server.planning.staffing import slots
from queue_server.sim.scenario import Scenario

SURGES = (1.5, 2.0)   # "a sector 50 % / 100 % busier than planned"
_EPS = 1e-9


def max_flow(demand: Mapping[str, float], skills: Mapping[str, set[str]], capacity: Mapping[str, float]) -> float:
    """The most work (Erlangs) the counters can take: sector s has `demand[s]`, counter c gives
    `capacity[c]` to any sector in `skills[c]`. Edmonds-Karp on the small bipartite graph."""
    # residual capacities; node names are tagged so a sector and a counter may share an id
    res: dict[tuple, dict[tuple, float]] = {}

    def edge(a: tuple, b: tuple, cap: float) -> None:
        res.setdefault(a, {})[b] = res.get(a, {}).get(b, 0.0) + cap
        res.setdefault(b, {}).setdefault(a, 0.0)

    src, sink = ("src",), ("sink",)
    for s, d in demand.items():
        if d > _EPS:
            edge(src, ("s", s), d)
    for c, cap in capacity.items():
        if cap > _EPS:
            edge(("c", c), sink, cap)
            for s in skills.get(c, ()):
                if demand.get(s, 0.0) > _EPS:
                    edge(("s", s), ("c", c), float("inf"))
    total = 0.0
    while True:
        prev: dict[tuple, tuple] = {src: src}
        queue = deque([src])
        while queue and sink not in prev:
            u = queue.popleft()
            for v, cap in res.get(u, {}).items():
                if cap > _EPS and v not in prev:
                    prev[v] = u
                    queue.append(v)
        if sink not in prev:
            return total
        push, v = float("inf"), sink
        while v != src:
            push = min(push, res[prev[v]][v])
            v = prev[v]
        v = sink
        while v != src:
            u = prev[v]
            res[u][v] -= push
            res[v][u] += push
            v = u
        total += push


class FluidDay:
    """The scenario's half-hours as offered loads and open counters, for judging skill sets fast."""

    def __init__(self, sc: Scenario):
        self.sectors = list(sc.arrivals)
        service = {s: variants.sector_mean_service_s(sc, s) for s in self.sectors}
        # Many half-hours of a day look alike (the arrival profile moves in steps): each distinct
        # one is judged once and counted as often as it occurs.
        alike: dict[tuple, int] = {}
        for slot in slots(sc):
            load = tuple(variants.rate_per_hour(sc, s, slot.start, slot.end) * service[s] / 3600.0
                         for s in self.sectors)
            if any(v > 0 for v in load):
                key = (load, frozenset(variants.open_counters_at(sc, slot.start)))
                alike[key] = alike.get(key, 0) + 1
        self.halves = [(dict(zip(self.sectors, load)), open_now, n) for (load, open_now), n in alike.items()]

    def shortfall(self, skills: Mapping[str, set[str]], absent: str | None = None) -> float:
        """Work no spreading over `skills` can serve, summed over the half-hours, on the planned day
        and on each one-sector surge (Erlang half-hours)."""
        total = 0.0
        for load, open_now, times in self.halves:
            cap = {c: 1.0 for c in open_now if c != absent}
            busy = [s for s, v in load.items() if v > 0]
            for surged, factor in [(None, 1.0), *((s, f) for s in busy for f in SURGES)]:
                demand = {s: v * (factor if s == surged else 1.0) for s, v in load.items()}
                total += times * (sum(demand.values()) - max_flow(demand, skills, cap))
        return total


def skills_of(sc: Scenario) -> dict[str, set[str]]:
    return {c.id: set(c.trained) for c in sc.site.counters}


def distance(skills: Mapping[str, set[str]], counter: str, sector: str) -> float:
    """Steps from `counter` to `sector` in the graph of skills (counter - trained sector - counter
    ...); infinite when they are not linked at all. A new skill between far-apart ends makes the
    long chain Jordan & Graves found gives most of full flexibility."""
    by_sector: dict[str, set[str]] = {}
    for c, ss in skills.items():
        for s in ss:
            by_sector.setdefault(s, set()).add(c)
    seen = {("c", counter): 0}
    queue = deque([("c", counter)])
    while queue:
        node = queue.popleft()
        d = seen[node]
        kind, name = node
        nxt = ([("s", s) for s in skills.get(name, ())] if kind == "c"
               else [("c", c) for c in by_sector.get(name, ())])
        for n in nxt:
            if n not in seen:
                if n == ("s", sector):
                    return d + 1
                seen[n] = d + 1
                queue.append(n)
    return float("inf")
