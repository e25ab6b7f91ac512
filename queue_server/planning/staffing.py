"""Staffing: for each sector and half-hour, the counters needed to meet the sector's target
(docs/planning.md, "Staffing").

The target: `target_share` (default 80 %) of the sector's citizens called within the sector's
`target_wait_min` (site config). The first guess is Erlang C for each half-hour on its own (the
M/M/c queue in steady state: the least counters whose predicted share within target reaches the
target). A half-hour is not in steady state: a queue built while demand rises is still there when
it falls, and a day starts empty. So the guess is then played: the sector alone on its own counters,
opened and closed at each half-hour as planned, on the scenario's days (the real domain, the same
citizens as the full site), and corrected both ways: while the plan meets the target, one counter
is taken off every half-hour that has not given one back before; a half-hour that then misses gives
the counter back to the latest lowered half-hour up to it (its own queue, or the one left to it),
which keeps it. The last plan that met the target in every half-hour is then walked once more, one
half-hour at a time (descend): a half-hour with more counters than its work rounded up tries one
fewer, kept where every half-hour still meets the target. That finds the dips the joint rounds
miss (a half-hour whose neighbours clear the queue it leaves), at the price of a plan that may dip
by a counter for half an hour. The result is the need.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from queue_server.domain.learning import SLOT_S   # the plan's grain: the arrival profile's half-hour
from queue_server.planning import variants
from queue_server.sim.scenario import Scenario

MAX_ROUNDS = 12          # correction rounds; each moves a half-hour by at most one counter
MAX_EXTRA = 6            # a half-hour never gets more than the guess plus this many
DESCEND_FROM = 3         # the final descent tries half-hours with at least this many counters


def erlang_c(counters: int, load: float) -> float:
    """The probability that a citizen waits at all, in an M/M/c queue with `counters` counters and
    an offered load of `load` Erlangs (arrival rate x mean service); 1 when the load is not below
    the counters (the queue grows without end). Through the Erlang B recursion, which stays finite
    where the textbook factorials overflow."""
    if load <= 0:
        return 0.0
    if counters <= load:
        return 1.0
    b = 1.0
    for k in range(1, counters + 1):
        b = load * b / (k + load * b)
    return counters * b / (counters - load * (1.0 - b))


def within_target(counters: int, load: float, target_s: float, service_s: float) -> float:
    """M/M/c: the share of citizens called within `target_s`: 1 - C(c, a) exp(-(c - a) T / S)."""
    if load <= 0:
        return 1.0
    if counters <= load:
        return 0.0
    return 1.0 - erlang_c(counters, load) * math.exp(-(counters - load) * target_s / service_s)


def erlang_counters(load: float, target_s: float, service_s: float, share: float) -> int:
    """The least counters whose M/M/c share within target reaches `share` (0 for no load)."""
    if load <= 0:
        return 0
    c = max(1, math.floor(load) + 1)
    while within_target(c, load, target_s, service_s) < share:
        c += 1
    return c


@dataclass(frozen=True)
class Slot:
    start: int     # seconds of the day
    end: int

    @property
    def label(self) -> str:
        return f"{self.start // 3600:02d}:{self.start % 3600 // 60:02d}"


def slots(sc: Scenario) -> list[Slot]:
    """The half-hours of the opening periods (a period's last one may be shorter)."""
    out = []
    for a, b in variants.periods_s(sc):
        t = a
        while t < b:
            out.append(Slot(t, min(t + SLOT_S, b)))
            t += SLOT_S
    return out


def slot_of(day_slots: list[Slot], t: float) -> int | None:
    for i, s in enumerate(day_slots):
        if s.start <= t < s.end:
            return i
    return None


def played_shares(sc: Scenario, sector: str, need: list[int], day_slots: list[Slot], days: int,
                  seed: int) -> list[tuple[float, int] | None]:
    """Play `need` (counters per half-hour) for `sector` alone; per half-hour, (share of its citizens
    called within target, how many), None where nobody came. A half-hour that needs no counter
    keeps the counters of the one before: they serve whoever still waits."""
    schedule: dict[int, int] = {}
    current = 0
    for slot, n in zip(day_slots, need):
        if n > 0 and n != current:
            schedule[slot.start] = n
            current = n
    if not schedule:
        return [None] * len(day_slots)
    played = variants.single_sector(sc, sector, schedule, max(need))
    _, results = variants.run(played, "static", days, seed)
    target_s = sc.site.sector_by_id[sector].target_wait_min * 60.0
    hit = [0] * len(day_slots)
    seen = [0] * len(day_slots)
    for day in results:
        for r in day.records:
            i = slot_of(day_slots, r.issued_s)
            if i is not None:
                seen[i] += 1
                hit[i] += r.wait_s <= target_s
    return [(hit[i] / seen[i], seen[i]) if seen[i] else None for i in range(len(day_slots))]


@dataclass(frozen=True)
class SectorNeed:
    sector: str
    rates: list[float]          # tickets an hour, per half-hour
    loads: list[float]          # Erlangs
    first_guess: list[int]
    need: list[int]
    shares: list[tuple[float, int] | None]   # as played with `need`
    rounds: int


def sector_need(sc: Scenario, sector: str, share: float, days: int, seed: int,
                day_slots: list[Slot] | None = None) -> SectorNeed:
    """The counters `sector` needs per half-hour: Erlang C, then corrected by playing the day."""
    day_slots = day_slots or slots(sc)
    service_s = variants.sector_mean_service_s(sc, sector)
    target_s = sc.site.sector_by_id[sector].target_wait_min * 60.0
    rates = [variants.rate_per_hour(sc, sector, s.start, s.end) for s in day_slots]
    loads = [r * service_s / 3600.0 for r in rates]
    guess = [erlang_counters(a, target_s, service_s, share) for a in loads]
    need = list(guess)
    rounds = 0
    shares = played_shares(sc, sector, need, day_slots, days, seed)
    feasible: tuple[list[int], list] | None = None
    settled: set[int] = set()   # half-hours that gave a counter back: they keep what they have
    lowered: list[int] = []
    while True:
        missed = [i for i, got in enumerate(shares) if got is not None and got[0] < share]
        if not missed:
            feasible = (list(need), shares)
            # Erlang C errs on the safe side where the day starts empty, services vary less than
            # exponentially or the load falls: take one counter off every half-hour that has not
            # given one back yet, and see which half-hours then miss.
            lowered = [i for i, n in enumerate(need) if n > 1 and i not in settled]
            if not lowered or rounds >= MAX_ROUNDS:
                break
            for i in lowered:
                need[i] -= 1
        else:
            if rounds >= MAX_ROUNDS:
                break
            # A half-hour misses because of its own counters or a queue left by the ones before
            # it: the latest half-hour lowered last round up to it gets its counter back (nothing
            # later can cause it); with none, it gets one more of its own.
            causes = {max((j for j in lowered if j <= i), default=i) for i in missed}
            for i in causes:
                if need[i] < guess[i] + MAX_EXTRA:
                    need[i] += 1
                settled.add(i)
            lowered = []
        rounds += 1
        shares = played_shares(sc, sector, need, day_slots, days, seed)
    if feasible is not None:
        need, shares = descend(sc, sector, *feasible, loads, share, day_slots, days, seed)
    return SectorNeed(sector, rates, loads, guess, need, shares, rounds)


def meets(shares: list[tuple[float, int] | None], share: float) -> bool:
    """Every half-hour where somebody came calls at least `share` of its citizens within target."""
    return all(got is None or got[0] >= share for got in shares)


def descend(sc: Scenario, sector: str, need: list[int], shares: list, loads: list[float], share: float,
            day_slots: list[Slot], days: int, seed: int) -> tuple[list[int], list]:
    """Counters off one half-hour at a time, each kept where every half-hour still meets the
    target. The joint rounds of `sector_need` lower and restore half-hours together, so a
    half-hour whose neighbours would clear the queue it leaves can keep counters it does not need
    (two half-hours at 3 where either alone could do with 1). Tried: the half-hours with more
    counters than their work rounded up (below that a half-hour builds a queue its neighbours
    must clear, which rarely pays) and at least DESCEND_FROM, the one with most to spare first,
    each down as far as it goes but not below DESCEND_FROM - 1: a half-hour at 2 is within one
    counter of any least already, and leaving it keeps the plan level where a roster would not
    follow a second counter opening every other half-hour. A play per try: the cost stays a
    fraction of the rounds' (the plan's time target, docs/planning.md)."""
    need = list(need)
    tried = [i for i, n in enumerate(need) if n >= DESCEND_FROM and n > math.ceil(loads[i] - 1e-9)]
    for i in sorted(tried, key=lambda i: (loads[i] - need[i], i)):
        while need[i] >= DESCEND_FROM:
            trial = need[:i] + [need[i] - 1] + need[i + 1:]
            got = played_shares(sc, sector, trial, day_slots, days, seed)
            if not meets(got, share):
                break
            need, shares = trial, got
    return need, shares


def roster_counts(sc: Scenario, sector: str, day_slots: list[Slot]) -> list[int]:
    """Per half-hour, the open counters whose own sector (the first of their `sectors`) is `sector`:
    what the roster gives the sector when each counter keeps to its own sector."""
    own = {c.id for c in sc.site.counters if c.sectors and c.sectors[0] == sector}
    return [len(own & variants.open_counters_at(sc, s.start)) for s in day_slots]
