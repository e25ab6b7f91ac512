"""The wait printed on a ticket, forecast: the median of short simulations of the site from now.

The stream estimate (estimate.py) merges each counter's calls as if every service took its
mean and nobody else arrived. What a citizen then waits also depends on what happens next:
priority citizens who will come and go ahead, other sectors' citizens who will come and take
a shared counter's time, services that run long. So for the printed wait the site is played
forward REPS times from the state at the moment of issue, each time with fresh draws of

- the remaining service of each citizen at a counter (given how long they have been served),
- the services of everyone ahead, and of everyone who arrives meanwhile,
- arrivals per sector from the site's own arrival profile by half hour of the day, learned
  over earlier days from the event log (state.SectorStats.arrival_profile); on a first day,
  today's own pace,
- priority citizens among them (jumping ahead of normal tickets), no-shows,

with every counter calling as the site does (priority first, then the longest waiting over its
sectors). The printed wait is the median of the REPS waits of the new ticket: of all single
numbers, the median is the one that is off by the least on average.

Service times are drawn lognormal, with each sector's observed mean and spread (today's
once 10 are seen, blended with earlier days'). Deterministic: the draws are seeded by the
ticket, so the same state always prints the same wait.

Measured with the simulator (docs/balancing.md, 30 days): the error of the printed wait against the
real one, as a share of the mean wait, fell by 3 to 11 points (for example 46 -> 35 % on the
afternoon rush under auto mode).
Cost: a few milliseconds per ticket, so a ticket with more than MAX_AHEAD people ahead (where
the stream estimate is as good: many services average out) uses the stream estimate.
"""
from __future__ import annotations

import heapq
import math
import random
from datetime import datetime
from statistics import NormalDist

from queue_server.domain.estimate import mean_service_s
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import CV_MIN_SERVICES, SLOT_S, SiteState

REPS = 32
MAX_AHEAD = 25
MAX_STEPS = 4000                 # events in one run: a bound, never reached on a real day
DEFAULT_CV = 0.7                 # service time spread before any is observed
DEFAULT_NO_SHOW = 0.04
NO_SHOW_HOLD_S = 60.0            # a no-show holds the counter about this long
_FIRST_DAY_WINDOW_S = 3600.0     # with no profile yet: today's pace over the last hour


def printed_wait(state: SiteState, config: SiteConfig, sector: str, rank: int, order: float,
                 ahead: int, now: datetime) -> int | None:
    """Seconds the new ticket (`rank`, `order`) in `sector` should expect to wait, or None when
    the stream estimate should be used (too many ahead, or no open counter serves the sector)."""
    counters = [(c, _reach(state, config, c)) for c in state.counters.values() if c.status == "open" and c.sectors]
    if ahead > MAX_AHEAD or not any(sector in reach for _, reach in counters):
        return None
    local = now.astimezone(config.site.tz)
    now_s = local.timestamp()
    sod = local.hour * 3600 + local.minute * 60 + local.second
    sectors = sorted({s for _, reach in counters for s in reach})   # sorted: the same draws in every process
    model = {s: _SectorModel(state, config, s, sod, mean_service_s(state, config, s)) for s in sectors}
    queues0: dict[str, list] = {s: [] for s in sectors}
    for s in sectors:
        for tid in state.waiting.get(s, ()):
            t = state.tickets[tid]
            queues0[s].append((t.rank, t.order, False))
        heapq.heapify(queues0[s])
    busy0 = []
    for c, reach in counters:
        current = state.tickets.get(c.serving) if c.serving else None
        elapsed = max(0.0, now_s - current.called_epoch) if current and current.called_epoch else 0.0
        busy0.append((reach, current.sector if current else None, elapsed))
    rng = random.Random(f"{sector}:{order:.3f}")
    waits = sorted(_one_run(rng, model, queues0, busy0, sector, rank, order, now_s, sod) for _ in range(REPS))
    mid = len(waits) // 2
    return int(round((waits[mid - 1] + waits[mid]) / 2 if len(waits) % 2 == 0 else waits[mid]))


def _reach(state: SiteState, config: SiteConfig, c) -> tuple[str, ...]:
    """The sectors a counter will call from. With auto mode on, its whole trained list: auto mode
    moves an idle counter onto it (AutoBalancer), and the site then waits about as long as with
    every counter on its trained list, oldest first (docs/balancing.md)."""
    if not state.auto_mode or c.sectors_override:
        return tuple(c.sectors)
    conf = config.counter_by_id.get(c.id)
    extra = [s for s in (conf.trained if conf else ()) if s not in c.sectors]
    return (*c.sectors, *extra)


class _SectorModel:
    """What one sector's future looks like: its arrival rate by time of day, its services."""

    __slots__ = ("rates", "mean", "sigma", "mu", "priority", "no_show")

    def __init__(self, state: SiteState, config: SiteConfig, sector: str, sod: int, mean: float):
        st = state.sectors[sector]
        if st.profile_days:
            self.rates = {int(k): v / SLOT_S for k, v in st.arrival_profile.items() if v > 0}
        else:
            # A first day: today's pace over the last hour, from now on (the day's shape is unknown).
            now_slot = sod // SLOT_S
            recent = sum(n for k, n in st.arrivals_today.items() if now_slot - int(k) < _FIRST_DAY_WINDOW_S / SLOT_S)
            self.rates = {k: recent / _FIRST_DAY_WINDOW_S for k in range(now_slot, 48)} if recent else {}
        cv = st.service_cv_days
        if st.service_n >= CV_MIN_SERVICES:
            today = st.service_cv_today()
            today = DEFAULT_CV if today is None else today
            cv = today if cv is None else 0.5 * (today + cv)
        cv = min(max(cv if cv is not None else DEFAULT_CV, 0.1), 2.0)
        self.mean = mean
        self.sigma = math.sqrt(math.log(1.0 + cv * cv))
        self.mu = math.log(mean) - self.sigma ** 2 / 2.0
        share = st.priority_share_days
        if st.issued_today >= 20:
            today_share = st.priority_today / st.issued_today
            share = today_share if share is None else 0.5 * (today_share + share)
        self.priority = share if share is not None else 0.0
        done = st.served_today + st.no_show_today
        self.no_show = st.no_show_today / done if done >= 20 else DEFAULT_NO_SHOW

    def service(self, rng: random.Random) -> float:
        if rng.random() < self.no_show:
            return NO_SHOW_HOLD_S
        return math.exp(self.mu + self.sigma * rng.gauss(0.0, 1.0))

    def remaining(self, rng: random.Random, elapsed: float) -> float:
        """The rest of a service that has lasted `elapsed` so far: a draw of the lognormal above
        `elapsed` (by its inverse distribution function), less `elapsed`."""
        if elapsed <= 0.0:
            return math.exp(self.mu + self.sigma * rng.gauss(0.0, 1.0))
        done = _NORMAL.cdf((math.log(elapsed) - self.mu) / self.sigma)
        if done > 1.0 - 1e-9:          # far beyond any usual service: it should end soon
            return 0.5 * self.mean
        u = done + (1.0 - done) * rng.random()
        return max(0.0, math.exp(self.mu + self.sigma * _NORMAL.inv_cdf(min(u, 1.0 - 1e-12))) - elapsed)

    def next_arrival(self, rng: random.Random, t: float, sod0: float, horizon: float) -> float | None:
        """The next arrival after `t` (seconds from now), slot by slot (rates change each half hour)."""
        rates = self.rates
        while t < horizon:
            slot = int((sod0 + t) // SLOT_S)
            slot_end = (slot + 1) * SLOT_S - sod0
            r = rates.get(slot, 0.0)
            if r > 0:
                nxt = t + rng.expovariate(r)
                if nxt < slot_end:
                    return nxt
            t = slot_end
        return None


_NORMAL = NormalDist()


def _one_run(rng: random.Random, model: dict, queues0: dict, busy0: list, sector: str, rank: int,
             order: float, now_s: float, sod: int) -> float:
    """One play of the site from now until the new ticket is called; its wait in seconds."""
    queues = {s: list(q) for s, q in queues0.items()}
    heapq.heappush(queues[sector], (rank, order, True))
    # (seconds from now, tie-break, what): a counter (the tuple of sectors it calls from) frees,
    # or a sector (str) gets a citizen
    events: list = []
    n = 0
    for reach, serving_sector, elapsed in busy0:
        m = model.get(serving_sector)
        events.append((m.remaining(rng, elapsed) if m is not None else 0.0, n, reach))
        n += 1
    horizon = 86400.0 - sod
    for s, m in model.items():
        first = m.next_arrival(rng, 0.0, sod, horizon)
        if first is not None:
            events.append((first, n, s))
            n += 1
    heapq.heapify(events)
    idle: list = []
    t = 0.0
    for _ in range(MAX_STEPS):
        if not events:
            break
        t, _, what = heapq.heappop(events)
        if isinstance(what, str):                    # an arrival
            m = model[what]
            normal = 1 if rng.random() >= m.priority else 0
            heapq.heappush(queues[what], (normal, now_s + t, False))
            nxt = m.next_arrival(rng, t, sod, horizon)
            if nxt is not None:
                heapq.heappush(events, (nxt, n, what))
                n += 1
            for i, reach in enumerate(idle):         # an idle counter that serves it calls at once
                if what in reach:
                    heapq.heappush(events, (t, n, idle.pop(i)))
                    n += 1
                    break
            continue
        reach = what                                 # a counter frees: it calls its best head ticket
        best = None
        for s in reach:
            q = queues.get(s)
            if q and (best is None or q[0][:2] < queues[best][0][:2]):
                best = s
        if best is None:
            idle.append(reach)
            continue
        _, _, mine = heapq.heappop(queues[best])
        if mine:
            return t
        heapq.heappush(events, (t + model[best].service(rng), n, reach))
        n += 1
    return t
