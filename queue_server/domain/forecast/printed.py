"""The forecast's entry point: from the state at the moment of issue, the plays and their median
(the package's docstring, queue_server/domain/forecast/__init__.py, says what it does and why)."""
from __future__ import annotations

import random
from datetime import datetime
from typing import Callable, Sequence

from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.estimate import mean_service_s
from queue_server.domain.forecast.play import Play, later_factors
from queue_server.domain.forecast.sector_model import SectorModel
from queue_server.domain.policy import DynamicPolicy, Policy
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState
from queue_server.domain.tickets import CounterRuntime

REPS = 32
MAX_AHEAD = 25


def printed_wait(state: SiteState, config: SiteConfig, sector: str, rank: int, order: float,
                 ahead: int, now: datetime, policy: Policy | None = None,
                 time_limit_s: float | None = None, clock: Callable[[], float] | None = None) -> int | None:
    """Seconds the new ticket (`rank`, `order`) in `sector` should expect to wait, or None when
    the stream estimate should be used (too many ahead, no open counter serves the sector, or
    the plays would take longer than `time_limit_s`: judged after the first one, so a forecast
    too dear for the moment costs one play, not all of them; `clock` is what that play is
    timed with, in seconds from any origin, and is needed with a time limit).
    Counters call as `policy` (the site's; the production DynamicPolicy when not given) would."""
    got = _plays(state, config, [(sector, None)], rank, order, ahead, now, policy, time_limit_s, clock)
    return None if got is None else got[0]


def printed_visit(state: SiteState, config: SiteConfig, items: Sequence[tuple[str, str | None]], rank: int,
                  order: float, ahead: int, now: datetime, policy: Policy | None = None,
                  time_limit_s: float | None = None,
                  clock: Callable[[], float] | None = None) -> tuple[int, int | None] | None:
    """A visit's ticket (`items`: its procedures, (sector, procedure), in the order served): (the
    first procedure's printed wait, the end of the visit in seconds from now, each the median of
    its plays), or None as printed_wait. The end is None when a later procedure's sector has no
    open counter now (then visits.end_of estimates it from the wait alone)."""
    return _plays(state, config, items, rank, order, ahead, now, policy, time_limit_s, clock)


def _plays(state: SiteState, config: SiteConfig, items: Sequence[tuple[str, str | None]], rank: int,
           order: float, ahead: int, now: datetime, policy: Policy | None, time_limit_s: float | None,
           clock: Callable[[], float] | None) -> tuple[int, int | None] | None:
    if time_limit_s is not None and clock is None:
        raise ValueError("a time limit for the forecast needs a clock to keep it")
    sector = items[0][0]
    policy = policy if policy is not None else DynamicPolicy()
    now_s = now.timestamp()
    busy0 = counters_now(state, config, policy, now_s)
    if ahead > MAX_AHEAD or not any(sector in reach for reach, *_ in busy0):
        return None
    sod = second_of_day(config, now)
    model, queues0 = sectors_now(state, config, busy0, sod)
    line = queues0[sector][0 if rank == 0 else 1]
    line.append((order, True, False, None, ()))
    line.sort()
    play = Play(policy if policy.scores else None, model, busy0, now_s, sod)
    rng = random.Random(f"{sector}:{order:.3f}")
    # A visit is played to its end when every later sector is one the counters call from now.
    visit = len(items) > 1 and all(s in model for s, _ in items[1:])
    if visit:
        first = model[sector].log_factor(items[0][1])
        rest = [(s, model[s].log_factor(p)) for s, p in items[1:]]

        def once() -> tuple[float, float]:
            return play.run_visit(rng, queues0, order, rank != 0, first, rest)
    else:
        def once() -> tuple[float, float]:
            w = play.run(rng, queues0)
            return w, w
    if time_limit_s is not None and clock is not None:
        started = clock()
        runs = [once()]
        if (clock() - started) * REPS > time_limit_s:
            return None
    else:
        runs = [once()]
    runs.extend(once() for _ in range(REPS - 1))
    wait = int(round(_median(sorted(w for w, _ in runs))))
    return wait, (int(round(_median(sorted(e for _, e in runs)))) if visit else None)


def counters_now(state: SiteState, config: SiteConfig, policy: Policy, now_s: float,
                 moved: CounterRuntime | None = None) -> list:
    """Every open counter that calls from some sector, as the plays start it: (the sectors it calls
    from, its citizen's sector, served for how long, its citizen's procedure, its citizen's visit still
    to come (None, or (their order, whether a normal ticket, the later procedures as (sector,
    procedure))), the sectors it may come to call from). `moved`:
    this counter's runtime instead of the state's (a what-if)."""
    busy0 = []
    for c in state.counters.values():
        if moved is not None and c.id == moved.id:
            c = moved
        reach, full = _reaches(state, config, c, policy) if c.on_duty else ((), ())
        if reach:
            current = state.tickets.get(c.serving) if c.serving else None
            elapsed = max(0.0, now_s - current.called_epoch) if current and current.called_epoch else 0.0
            busy0.append((reach, current.sector if current else None, elapsed,
                          current.procedure if current else None, _carried(current), full))
    return busy0


def second_of_day(config: SiteConfig, now: datetime) -> int:
    local = now.astimezone(config.site.tz)
    return local.hour * 3600 + local.minute * 60 + local.second


def sectors_now(state: SiteState, config: SiteConfig, busy0: list, sod: int) -> tuple[dict, dict]:
    """The model of every sector the counters in `busy0` may call from, and each one's queue as
    the policy sees it: priority citizens, then normal ones, each sorted by order; an entry is
    (order, is the new ticket, transferred, log of its procedure's factor, the later procedures
    of its visit as (sector, procedure): it rejoins their queues in the play)."""
    sectors = sorted({s for *_, full in busy0 for s in full})   # sorted: the same draws in every process
    model = {s: SectorModel(state, config, s, sod, mean_service_s(state, config, s)) for s in sectors}
    queues0: dict[str, tuple[list, list]] = {s: ([], []) for s in sectors}
    for s in sectors:
        for tid in state.waiting.get(s, ()):
            t = state.tickets[tid]
            queues0[s][0 if t.rank == 0 else 1].append((t.order, False, t.transferred,
                                                         model[s].log_factor(t.procedure),
                                                         later_factors(model, _later(t))))
    for pq, nq in queues0.values():
        pq.sort()
        nq.sort()
    return model, queues0


def _carried(t):
    later = _later(t)
    return (t.order, t.rank != 0, later) if later else None


def _later(t) -> tuple[tuple[str, str | None], ...]:
    """A visit's procedures still to come after the current one, (sector, procedure) each."""
    if t is None or not t.visit:
        return ()
    return tuple((p["sector"], p["procedure"]) for p in t.visit[t.step + 1:] if p["status"] == "waiting")


def _median(waits: list[float]) -> float:
    mid = len(waits) // 2
    return (waits[mid - 1] + waits[mid]) / 2 if len(waits) % 2 == 0 else waits[mid]


def _reaches(state: SiteState, config: SiteConfig, c, policy: Policy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The sectors a counter calls from under `policy` now, and those it may come to call from:
    with auto mode on, its whole trained list, which auto mode gives a counter that would idle
    while someone waits in a sector it is trained for (AutoBalancer's work-conserving rule)."""
    now = policy.reach(state, config, c)
    extra = AutoBalancer.idle_reach(state, config, c) if policy.follows_counter_sectors else None
    if extra is None:
        return now, now
    return now, (*now, *extra)


