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

with every counter calling as the site's policy does (the production policy through the very
rules and score it decides with live, `DynamicPolicy.pick`). The printed wait is the median of
the REPS waits of the new ticket: of all single numbers, the median is the one that is off by
the least on average (and about half the citizens do wait longer than printed).

Service times are drawn lognormal, with each sector's observed mean and spread (today's
once 10 are seen, blended with earlier days'). Deterministic: the draws are seeded by the
ticket, so the same state always prints the same wait.

Measured with the simulator (docs/balancing.md, 30 days): the error of the printed wait against the
real one, as a share of the mean wait, fell by 4 to 11 points against the stream estimate (for
example 42 -> 34 % on the afternoon rush under the dynamic policy), and it is within one
to two points of the same forecast told the simulator's true parameters (bench/forecast_floor.py).
Cost: about 1 ms a ticket, 10-15 ms at the 99th percentile (more with more counters), so a ticket
with more than MAX_AHEAD people ahead (where the stream estimate is as good: many services
average out) uses the stream estimate, and the live server bounds the time it may take
(`time_limit_s`, service.CpuBudget), timed with the clock it passes in (`clock`): the domain
reads no clock of its own.
"""
from __future__ import annotations

import heapq
import math
import random
from collections import deque
from datetime import datetime
from typing import Callable
from statistics import NormalDist

from queue_server.domain.estimate import mean_service_s, procedure_factors
from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.policy import DynamicPolicy, Policy, SectorView
from queue_server.domain.site import SiteConfig
from queue_server.domain.learning import CV_MIN_SERVICES, SLOT_S
from queue_server.domain.state import SiteState

REPS = 32
MAX_AHEAD = 25
MAX_STEPS = 4000                 # events in one run: a bound, never reached on a real day
DEFAULT_CV = 0.7                 # service time spread before any is observed
DEFAULT_NO_SHOW = 0.04
NO_SHOW_HOLD_S = 60.0            # a no-show holds the counter about this long
_FIRST_DAY_WINDOW_S = 3600.0     # with no profile yet: today's pace over the last hour


def printed_wait(state: SiteState, config: SiteConfig, sector: str, rank: int, order: float,
                 ahead: int, now: datetime, policy: Policy | None = None,
                 time_limit_s: float | None = None, clock: Callable[[], float] | None = None) -> int | None:
    """Seconds the new ticket (`rank`, `order`) in `sector` should expect to wait, or None when
    the stream estimate should be used (too many ahead, no open counter serves the sector, or
    the plays would take longer than `time_limit_s`: judged after the first one, so a forecast
    too dear for the moment costs one play, not all of them; `clock` is what that play is
    timed with, in seconds from any origin, and is needed with a time limit).
    Counters call as `policy` (the site's; the production DynamicPolicy when not given) would."""
    if time_limit_s is not None and clock is None:
        raise ValueError("a time limit for the forecast needs a clock to keep it")
    policy = policy if policy is not None else DynamicPolicy()
    now_s = now.timestamp()
    busy0 = []          # (the sectors it calls from, its citizen's sector and procedure, served for how long)
    for c in state.counters.values():
        reach, full = _reaches(state, config, c, policy) if c.status == "open" else ((), ())
        if reach:
            current = state.tickets.get(c.serving) if c.serving else None
            elapsed = max(0.0, now_s - current.called_epoch) if current and current.called_epoch else 0.0
            busy0.append((reach, current.sector if current else None, elapsed,
                          current.procedure if current else None, full))
    if ahead > MAX_AHEAD or not any(sector in reach for reach, *_ in busy0):
        return None
    local = now.astimezone(config.site.tz)
    sod = local.hour * 3600 + local.minute * 60 + local.second
    sectors = sorted({s for *_, full in busy0 for s in full})   # sorted: the same draws in every process
    model = {s: _SectorModel(state, config, s, sod, mean_service_s(state, config, s)) for s in sectors}
    # Each sector's queue as the policy sees it: priority citizens, then normal ones, each by
    # order; an entry is (order, is the new ticket, transferred, log of its procedure's factor).
    queues0: dict[str, tuple[list, list]] = {s: ([], []) for s in sectors}
    for s in sectors:
        for tid in state.waiting.get(s, ()):
            t = state.tickets[tid]
            queues0[s][0 if t.rank == 0 else 1].append((t.order, False, t.transferred,
                                                         model[s].log_factor(t.procedure)))
    queues0[sector][0 if rank == 0 else 1].append((order, True, False, None))
    for pq, nq in queues0.values():
        pq.sort()
        nq.sort()
    play = _Play(policy if policy.scores else None, model, busy0, now_s, sod)
    rng = random.Random(f"{sector}:{order:.3f}")
    if time_limit_s is not None and clock is not None:
        started = clock()
        waits = [play.run(rng, queues0)]
        if (clock() - started) * REPS > time_limit_s:
            return None
    else:
        waits = [play.run(rng, queues0)]
    waits.extend(play.run(rng, queues0) for _ in range(REPS - 1))
    return int(round(_median(sorted(waits))))


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


class _SectorModel:
    """What one sector's future looks like: its arrival rate by time of day, its services."""

    __slots__ = ("rates", "mean", "sigma", "mu", "priority", "no_show", "target_s", "log_factors",
                 "sigma_k", "mu_k")

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
        self.target_s = config.sector_by_id[sector].target_wait_min * 60.0
        self.sigma = math.sqrt(math.log(1.0 + cv * cv))
        self.mu = math.log(mean) - self.sigma ** 2 / 2.0
        # A citizen whose procedure is known draws from that procedure's own lognormal: its mean
        # is the sector's times the procedure's factor, its spread what is left of the sector's
        # once the procedures' differences are taken out ((1 + cv^2) = (1 + within^2)(1 + between^2)).
        factors = procedure_factors(st)
        weights = {p: st.procedure_service[p][0] for p in factors}
        total = sum(weights.values())
        between = sum(w * (factors[p] - 1.0) ** 2 for p, w in weights.items()) / total if total > 0 else 0.0
        within = max((1.0 + cv * cv) / (1.0 + between) - 1.0, 0.01)
        self.log_factors = {p: math.log(f) for p, f in factors.items()}
        self.sigma_k = math.sqrt(math.log(1.0 + within))
        self.mu_k = math.log(mean) - self.sigma_k ** 2 / 2.0
        share = st.priority_share_days
        if st.issued_today >= 20:
            today_share = st.priority_today / st.issued_today
            share = today_share if share is None else 0.5 * (today_share + share)
        self.priority = share if share is not None else 0.0
        done = st.served_today + st.no_show_today
        self.no_show = st.no_show_today / done if done >= 20 else DEFAULT_NO_SHOW

    def log_factor(self, procedure: str | None) -> float | None:
        """The log of how much longer than the sector's mean the procedure takes, or None when
        it is not known (then the sector's whole spread applies)."""
        return self.log_factors.get(procedure) if procedure else None

    def _params(self, log_factor: float | None) -> tuple[float, float]:
        return (self.mu, self.sigma) if log_factor is None else (self.mu_k + log_factor, self.sigma_k)

    def service(self, rng: random.Random, log_factor: float | None = None) -> float:
        if rng.random() < self.no_show:
            return NO_SHOW_HOLD_S
        mu, sigma = self._params(log_factor)
        return math.exp(mu + sigma * rng.gauss(0.0, 1.0))

    def remaining(self, rng: random.Random, elapsed: float, log_factor: float | None = None) -> float:
        """The rest of a service that has lasted `elapsed` so far: a draw of the lognormal above
        `elapsed` (by its inverse distribution function), less `elapsed`."""
        mu, sigma = self._params(log_factor)
        if elapsed <= 0.0:
            return math.exp(mu + sigma * rng.gauss(0.0, 1.0))
        done = _NORMAL.cdf((math.log(elapsed) - mu) / sigma)
        if done > 1.0 - 1e-9:          # far beyond any usual service: it should end soon
            return 0.5 * math.exp(mu + sigma * sigma / 2.0)
        u = done + (1.0 - done) * rng.random()
        return max(0.0, math.exp(mu + sigma * _NORMAL.inv_cdf(min(u, 1.0 - 1e-12))) - elapsed)

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


class _Play:
    """The site played forward from now until the new ticket is called, once per `run`.

    Counters call as the site's policy does: DynamicPolicy's own rules and score
    (`DynamicPolicy.pick`, the code the live site decides with), or, for the
    reference policies, priority first and then the longest waiting over their sectors."""

    def __init__(self, scored: DynamicPolicy | None, model: dict, busy0: list, now_s: float, sod: int):
        self.scored, self.model, self.busy0, self.now_s, self.sod = scored, model, busy0, now_s, sod
        self.home = [reach for reach, *_ in busy0]
        self.full = [full for *_, full in busy0]
        self.target = {s: m.target_s for s, m in model.items()}
        self._share_out(list(self.home))
        self.initial = (self.sharing, self.capacity)

    def _share_out(self, reaches: list) -> None:
        """sector -> [(counter, its share of the sector)] and all counters' shares together."""
        self.reaches = reaches
        self.sharing: dict[str, list[tuple[int, float]]] = {}
        for i, reach in enumerate(reaches):
            for s in reach:
                self.sharing.setdefault(s, []).append((i, 1.0 / len(reach)))
        self.capacity = {s: sum(share for _, share in row) for s, row in self.sharing.items()}

    def run(self, rng: random.Random, queues0: dict) -> float:
        """One play; the new ticket's wait in seconds."""
        model = self.model
        queues = {s: (deque(pq), deque(nq)) for s, (pq, nq) in queues0.items()}
        busy = [serving is not None for _, serving, *_ in self.busy0]
        self.reaches = list(self.home)
        self.sharing, self.capacity = self.initial
        # (seconds from now, tie-break, what): a counter (int) frees, or a sector (str) gets a citizen
        events: list = []
        n = 0
        for i, (_, serving_sector, elapsed, procedure, _) in enumerate(self.busy0):
            m = model.get(serving_sector)
            events.append((m.remaining(rng, elapsed, m.log_factor(procedure)) if m is not None else 0.0, n, i))
            n += 1
        horizon = 86400.0 - self.sod
        for s, m in model.items():
            first = m.next_arrival(rng, 0.0, self.sod, horizon)
            if first is not None:
                events.append((first, n, s))
                n += 1
        heapq.heapify(events)
        idle: list[int] = []
        t = 0.0
        for _ in range(MAX_STEPS):
            if not events:
                break
            t, _, what = heapq.heappop(events)
            if isinstance(what, tuple):                  # an idle counter looks again (auto mode)
                i = what[1]
                if i not in idle:
                    continue
                idle.remove(i)
                what = i
            elif isinstance(what, str):                  # an arrival
                m = model[what]
                pq, nq = queues[what]
                (pq if rng.random() < m.priority else nq).append((self.now_s + t, False, False, None))
                nxt = m.next_arrival(rng, t, self.sod, horizon)
                if nxt is not None:
                    heapq.heappush(events, (nxt, n, what))
                    n += 1
                for k, i in enumerate(idle):             # the longest idle counter that serves it calls at once
                    if what in self.reaches[i]:
                        heapq.heappush(events, (t, n, idle.pop(k)))
                        n += 1
                        break
                continue
            i = what                                     # a counter frees: it calls as the policy says
            busy[i] = False
            chosen = self._choose(i, queues, busy, self.now_s + t)
            if chosen is None or isinstance(chosen, float):
                idle.append(i)
                if chosen is not None:                   # auto mode will move it after a while
                    heapq.heappush(events, (t + chosen, n, ("look", i)))
                    n += 1
                continue
            s, line = chosen
            _, mine, _, log_factor = line.popleft()
            if mine:
                return t
            busy[i] = True
            heapq.heappush(events, (t + model[s].service(rng, log_factor), n, i))
            n += 1
        return t

    def _choose(self, i: int, queues: dict, busy: list, now: float) -> tuple[str, deque] | float | None:
        """The sector counter `i` calls from and the line (priority or normal) it takes the head of;
        or, when it has nobody but auto mode will move it to someone waiting, in how many seconds."""
        reach = self.reaches[i]
        if reach is not self.full[i] and not any(queues[s][0] or queues[s][1] for s in reach):
            # Auto mode's work-conserving rule: a counter with nobody waiting in its sectors takes
            # its whole trained list once someone there has waited AutoBalancer.IDLE_WAIT_S.
            waited = [now - (queues[s][0] or queues[s][1])[0][0] for s in self.full[i]
                      if s not in reach and (queues[s][0] or queues[s][1])]
            if not waited:
                return None
            if max(waited) < AutoBalancer.IDLE_WAIT_S:
                return AutoBalancer.IDLE_WAIT_S - max(waited)
            reaches = list(self.reaches)
            reaches[i] = self.full[i]
            self._share_out(reaches)
            reach = self.full[i]
        if self.scored is None:
            best = best_key = None
            for s in reach:
                pq, nq = queues[s]
                if pq or nq:
                    key = (0, pq[0][0]) if pq else (1, nq[0][0])
                    if best_key is None or key < best_key:
                        best, best_key = s, key
            if best is None:
                return None
            pq, nq = queues[best]
            return best, (pq if pq else nq)
        waiting = [s for s in reach if queues[s][0] or queues[s][1]]
        if not waiting:
            return None
        if len(waiting) == 1:
            pq, nq = queues[waiting[0]]
            if not pq or not nq:      # one line in one sector: nothing for the policy to weigh
                return waiting[0], (pq or nq)
        views = []
        for s in waiting:
            pq, nq = queues[s]
            head = pq[0] if pq else nq[0]
            others_free = 0.0
            if len(waiting) > 1:      # only the score, between sectors, reads it
                for j, share in self.sharing[s]:
                    if j != i:
                        others_free += 0.5 * share if busy[j] else 1.0
            views.append(SectorView(s, bool(pq), head[0], head[2], nq[0][0] if pq and nq else None,
                                    len(pq) + len(nq), self.model[s].mean, self.target[s],
                                    self.capacity[s], others_free))
        s, normal = self.scored.pick(views, now)
        pq, nq = queues[s]
        return s, (nq if normal or not pq else pq)

