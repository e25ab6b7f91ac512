"""What-if before a move: the wait of the affected sectors over the next hour, played from the live
state with and without a change of one counter's sectors (a manager's, or auto mode's next one).

The same plays as the printed wait (play.py, sector_model.py: arrivals from the site's learned
profile, lognormal services, priority citizens, no-shows, counters calling as the site's policy
does, auto mode's work-conserving rule), but instead of following one new ticket each play
follows everyone of the next hour: the citizens waiting now and those who arrive within
`HORIZON_S`, until each of them is called. Their mean wait per sector, pooled over the plays, is
the prediction. The plays before and after the move use the same draws, rep by rep (common
random numbers), so the difference shows the move rather than the luck of the draws.

Pure: the caller passes `now`, the number of plays and, to bound the time, a deadline and the
clock it is measured with; the domain reads no clock of its own. `prepare` copies what the
plays need out of the state (the web calls it under the service's lock, then plays outside it).

Checked against the simulator: bench/whatif_accuracy.py, figures in docs/planning.md.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from queue_server.domain.forecast.play import Play
from queue_server.domain.forecast.printed import counters_now, second_of_day, sectors_now
from queue_server.domain.policy import DynamicPolicy, Policy
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState

HORIZON_S = 3600.0      # "the next hour": who waits now or arrives within it
REPS = 24               # plays before, and as many after; fewer when the deadline comes first


@dataclass(frozen=True)
class Move:
    """A counter's sectors after the change (the command's `sectors`)."""
    counter: str
    sectors: tuple[str, ...]


@dataclass(frozen=True)
class SectorWhatIf:
    sector: str
    # Mean wait (seconds) of the sector's citizens of the next hour, without and with the move;
    # None: nobody to wait (no one waiting, no arrival expected) or, with `reachable_*` False,
    # no open counter would call the sector at all (the wait has no end).
    before_s: float | None
    after_s: float | None
    citizens: float            # how many citizens of the next hour, per play (without the move)
    reachable_before: bool = True
    reachable_after: bool = True


@dataclass(frozen=True)
class WhatIf:
    at: str                    # `now`, ISO
    horizon_s: float
    reps: int                  # plays done on each side
    move: Move | None
    sectors: tuple[SectorWhatIf, ...]

    def as_dict(self) -> dict:
        return {"at": self.at, "horizon_s": self.horizon_s, "reps": self.reps,
                "move": None if self.move is None else {"counter": self.move.counter, "sectors": list(self.move.sectors)},
                "sectors": [{"sector": s.sector, "before_s": _round(s.before_s), "after_s": _round(s.after_s),
                             "citizens": round(s.citizens, 1), "reachable_before": s.reachable_before,
                             "reachable_after": s.reachable_after} for s in self.sectors]}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


class _Watch:
    """Follows the citizens of the next hour through one play (Play.run's `watch`)."""

    def __init__(self, limit: float, waits: dict[str, list[float]]):
        self.limit, self.waits = limit, waits

    def called(self, sector: str, order: float, at: float, queues: dict) -> bool:
        if order < self.limit:
            self.waits[sector].append(at - order)
        if at < self.limit:
            return False
        # Past the hour nobody new is followed: the play ends once no one followed is left.
        # Each line is in order, so its head tells.
        return not any((pq and pq[0][0] < self.limit) or (nq and nq[0][0] < self.limit) for pq, nq in queues.values())

    def left(self, queues: dict, at: float) -> None:
        # A play cut short (its bound of events): who is still waiting has waited at least until now.
        end = max(at, self.limit)
        for s, (pq, nq) in queues.items():
            self.waits[s].extend(end - e[0] for e in (*pq, *nq) if e[0] < self.limit)


class _Side:
    """The site as the plays start it, with or without the move."""

    def __init__(self, state: SiteState, config: SiteConfig, policy: Policy, now_s: float, sod: int, moved=None):
        busy0 = counters_now(state, config, policy, now_s, moved)
        self.model, self.queues0 = sectors_now(state, config, busy0, sod)
        self.play = Play(policy if policy.scores else None, self.model, busy0, now_s, sod) if busy0 else None
        self.waits: dict[str, list[float]] = {s: [] for s in self.model}

    def run(self, rng: random.Random, limit: float) -> None:
        if self.play is not None:
            self.play.run(rng, self.queues0, _Watch(limit, self.waits))

    def mean(self, sector: str) -> float | None:
        w = self.waits.get(sector)
        return sum(w) / len(w) if w else None


class Prepared:
    """Everything the plays need, copied out of the state: play it without holding the state."""

    def __init__(self, state: SiteState, config: SiteConfig, policy: Policy | None, move: Move | None,
                 now: datetime):
        policy = policy if policy is not None else DynamicPolicy()
        self.now, self.move = now, move
        self.now_s = now.timestamp()
        sod = second_of_day(config, now)
        self.before = _Side(state, config, policy, self.now_s, sod)
        if move is None:
            self.after = None
            self.sectors = tuple(s.id for s in config.sectors)
        else:
            rt = state.counters.get(move.counter)
            if rt is None or move.counter not in config.counter_by_id:
                raise ValueError(f"unknown counter {move.counter!r}")
            if not move.sectors:
                raise ValueError("a counter needs at least one sector")
            unknown = [s for s in move.sectors if s not in config.sector_by_id]
            if unknown:
                raise ValueError(f"unknown sector {unknown[0]!r}")
            sectors = tuple(dict.fromkeys(move.sectors))
            untrained = any(s not in config.counter_by_id[move.counter].trained for s in sectors)
            self.after = _Side(state, config, policy, self.now_s, sod,
                               replace(rt, sectors=list(sectors), sectors_override=untrained))
            # The sectors the move touches: what the counter leaves and what it takes.
            self.sectors = tuple(dict.fromkeys((*rt.sectors, *sectors)))

    def play(self, reps: int = REPS, deadline: float | None = None,
             clock: Callable[[], float] | None = None) -> WhatIf:
        """Up to `reps` plays on each side, stopping early once `clock()` reaches `deadline`
        (after at least one)."""
        if deadline is not None and clock is None:
            raise ValueError("a deadline for the what-if needs a clock to keep it")
        limit = self.now_s + HORIZON_S
        done = 0
        for rep in range(reps):
            self.before.run(random.Random(f"whatif:{rep}"), limit)
            if self.after is not None:
                self.after.run(random.Random(f"whatif:{rep}"), limit)
            done += 1
            if deadline is not None and clock() >= deadline:
                break
        after = self.after if self.after is not None else self.before
        rows = tuple(SectorWhatIf(s, self.before.mean(s), after.mean(s),
                                  len(self.before.waits.get(s, ())) / done,
                                  s in self.before.model, s in after.model) for s in self.sectors)
        return WhatIf(self.now.isoformat(), HORIZON_S, done, self.move, rows)


def predict(state: SiteState, config: SiteConfig, policy: Policy | None, move: Move | None, now: datetime,
            reps: int = REPS, deadline: float | None = None, clock: Callable[[], float] | None = None) -> WhatIf:
    """The next hour's mean wait of the sectors `move` touches (every sector with no move), played
    from `state` at `now` without and with the move. Raises ValueError for a move that names an
    unknown counter or sector, or no sector."""
    return Prepared(state, config, policy, move, now).play(reps, deadline, clock)
