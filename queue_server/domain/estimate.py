"""Wait estimates from the live state: people ahead, the counters that can serve them and
how much of their time each sector gets, how long the citizens at the counters have
been served already, and the service times observed today per sector.

The estimate of a citizen with `ahead` people before them is the time of the
(ahead+1)-th call of their sector, merging the expected call times of every
open counter that serves it: a counter first frees when its current citizen
is expected to finish, then calls this sector every `service / share` seconds,
where `share` is the part of its calls this sector gets (by the work waiting
in each of its sectors, as the dynamic policy balances them).

With auto mode on, an open counter trained for the sector whose own queue is
empty counts too, from `AutoBalancer.HELPER_FIRST_CALL_S` on: auto mode's work-conserving rule
will move it there (`AutoBalancer.idle_reach` says where it may go).

This is the estimate computed continually: auto mode's surges read it as it is; the board's
and the kiosk buttons' waits and the online-filing offer read it corrected by how recent printed
waits compared with it (shown_waits), a ticket's tracking page likewise (live_wait). The wait
printed on a ticket is the forecast's (forecast/: short simulations from the state), which falls back to
this one when it is not worth its cost.
Measured with the simulator's `est_wait_mae_s` (docs/balancing.md).
"""
from __future__ import annotations

import heapq
from datetime import datetime

from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.site import SiteConfig
from queue_server.domain.learning import RATIO_MIN_S
from queue_server.domain.state import SiteState
from queue_server.domain.tickets import SectorStats, Ticket

# Today's mean service weighs n / (n + this) against earlier days' after n services today.
_TODAY_FULL_WEIGHT_N = 20
# The least remaining service expected of a citizen already at a counter, as a share of the mean
# (tuned on simulated days so the printed waits are unbiased; docs/balancing.md):
# service times are skewed, so a long service so far says it may go on a while.
_MIN_RESIDUAL = 0.5
# Before its first call of this sector a shared counter serves others: this share of one gap of it.
_OTHER_WORK = 0.0
# Auto mode on: count the counters its work-conserving rule would move onto the sector.
AUTO_HELPERS = True


MIN_SERVICE_S = 5.0


def mean_service_s(state: SiteState, config: SiteConfig, sector: str) -> float:
    """Observed mean service time of the sector: today's mean blended with what earlier days
    showed (their daily means, over days), or the configured guess before anything is seen."""
    stats = state.sectors[sector]
    prior = stats.service_mean_days
    if prior is None:
        prior = stats.service_s_ewma if stats.service_s_ewma is not None else config.sector_by_id[sector].service_min * 60.0
    if stats.service_n <= 0:
        return max(prior, MIN_SERVICE_S)
    today = stats.service_s_sum / stats.service_n
    # Today's mean counts as much as the earlier days' once _TODAY_FULL_WEIGHT_N are seen, and more
    # after: a handful of skewed services says little (one long one moved every estimate).
    w = stats.service_n / (stats.service_n + _TODAY_FULL_WEIGHT_N)
    # A double press of Next "serves" a citizen in 0 s; a floor keeps every divisor above zero.
    return max(w * today + (1.0 - w) * prior, MIN_SERVICE_S)


PROCEDURE_PRIOR_N = 10.0   # services of a procedure before its own mean counts as much as its sector's


def procedure_factors(stats: SectorStats) -> dict[str, float]:
    """procedure -> how much longer (> 1) or shorter (< 1) than the sector's mean its service
    is, learned from the services seen (SectorStats.procedure_service), each pulled toward 1
    by PROCEDURE_PRIOR_N services' worth: a procedure seen twice says little."""
    rows = stats.procedure_service
    n_all = sum(r[0] for r in rows.values())
    s_all = sum(r[1] for r in rows.values())
    if n_all <= 0 or s_all <= 0:
        return {}
    sector_mean = s_all / n_all
    out = {}
    for proc, (n, total) in rows.items():
        if n > 0:
            raw = (total / n) / sector_mean
            out[proc] = min(max((n * raw + PROCEDURE_PRIOR_N) / (n + PROCEDURE_PRIOR_N), 0.2), 5.0)
    return out


def _shares(state: SiteState) -> dict[str, float]:
    """Counters' worth of service each sector gets now, in one pass over the counters."""
    cap: dict[str, float] = {}
    for c in state.counters.values():
        if c.on_duty and c.sectors:
            share = 1.0 / len(c.sectors)
            for s in c.sectors:
                cap[s] = cap.get(s, 0.0) + share
    return cap


def capacity(state: SiteState, config: SiteConfig, sector: str, _shares_now: dict[str, float] | None = None) -> float:
    """Counters' worth of service the sector gets now: a counter shared by n sectors gives 1/n."""
    cap = (_shares_now if _shares_now is not None else _shares(state)).get(sector, 0.0)
    if cap == 0.0:
        # Nobody serves it right now: assume the counters configured for it will open.
        cap = sum(1.0 / len(c.sectors) for c in config.counters if sector in c.sectors) or 0.5
    return cap


def _now_epoch(state: SiteState) -> float | None:
    if not state.last_event_ts:
        return None
    try:
        return datetime.fromisoformat(state.last_event_ts).timestamp()
    except ValueError:
        return None


class _Now:
    """What every sector's streams share at one moment of the state: the clock, each sector's
    counters' worth of service, mean service time and pressure. Built once for a whole board
    (all_sector_waits) instead of once per sector; each value is computed exactly as before."""

    __slots__ = ("state", "config", "epoch", "shares", "svc_cache", "pressure_cache")

    def __init__(self, state: SiteState, config: SiteConfig) -> None:
        self.state = state
        self.config = config
        self.epoch = _now_epoch(state)
        self.shares = _shares(state)
        self.svc_cache: dict[str, float] = {}
        self.pressure_cache: dict[str, float] = {}

    def svc(self, s: str) -> float:
        v = self.svc_cache.get(s)
        if v is None:
            v = self.svc_cache[s] = mean_service_s(self.state, self.config, s)
        return v

    def pressure(self, s: str) -> float:
        v = self.pressure_cache.get(s)
        if v is None:
            st = self.state
            v = self.pressure_cache[s] = ((st.waiting_count(s) + 0.5) * self.svc(s)
                                          / capacity(st, self.config, s, self.shares))
        return v

    def residual(self, c) -> float | None:
        """Seconds its current citizen is still expected to take, or None if it serves nobody."""
        current = self.state.tickets.get(c.serving) if c.serving else None
        if current is None:
            return None
        mean = self.svc(current.sector)
        now = self.epoch
        elapsed = (now - current.called_epoch) if (now is not None and current.called_epoch) else 0.0
        return max(mean - elapsed, _MIN_RESIDUAL * mean)


def _share(now: _Now, sectors, sector: str) -> float:
    """The part of a counter's calls `sector` gets among `sectors`, by the work waiting in each."""
    pressures = {s: now.pressure(s) for s in sectors}
    total = sum(pressures.values())
    return max(pressures[sector] / total if total > 0 else 1.0 / len(sectors), 0.1)


def _server_stream(now: _Now, c, sector: str) -> tuple[float, float]:
    share = 1.0 if len(c.sectors) == 1 else _share(now, c.sectors, sector)
    svc = now.svc(sector)
    gap = svc / share
    first = 0.0
    residual = now.residual(c)
    if residual is not None:
        # Its calls go to other sectors too: some of a gap of other work first.
        first = residual + _OTHER_WORK * (gap - svc)
    return first, gap


def _helper_stream(now: _Now, c, sector: str) -> tuple[float, float]:
    trained = now.config.counter_by_id[c.id].trained
    share = _share(now, trained, sector)
    residual = now.residual(c)
    delay = AutoBalancer.HELPER_FIRST_CALL_S
    first = delay if residual is None else max(delay, residual)
    return first, now.svc(sector) / share


def _is_helper(state: SiteState, config: SiteConfig, c, sector: str) -> bool:
    # Auto mode moves an open counter onto a sector it may reach once its own queue is empty.
    if not c.on_duty:
        return False
    extra = AutoBalancer.idle_reach(state, config, c)
    return extra is not None and sector in extra and not any(state.waiting_count(x) for x in c.sectors)


def _call_streams(state: SiteState, config: SiteConfig, sector: str,
                  now: _Now | None = None) -> list[tuple[float, float]]:
    """(seconds until the counter's first call of `sector`, seconds between its calls of it), per counter."""
    servers = [c for c in state.counters.values() if c.on_duty and sector in c.sectors]
    if not servers:
        return []
    helpers = []
    if AUTO_HELPERS and state.auto_mode:
        helpers = [c for c in state.counters.values() if _is_helper(state, config, c, sector)]
    now = now if now is not None else _Now(state, config)
    streams = [_server_stream(now, c, sector) for c in servers]
    streams += [_helper_stream(now, c, sector) for c in helpers]
    return streams


def _calls_by(t: float, streams: list[tuple[float, float]]) -> int:
    return sum(int((t - first) // gap) + 1 for first, gap in streams if t >= first)


def _nth_call(streams: list[tuple[float, float]], need: int) -> float:
    """The time of the `need`-th call (need >= 1) over all streams: the smallest t with
    `_calls_by(t) >= need`, exactly.

    A first guess from the streams' joint rate lands within about one gap of each stream;
    from a point below it, the remaining calls are taken in time order from a heap. The cost
    depends on the number of counters, not on the queue's length (a bisection over the whole
    wait took 15 passes over the streams for every sector of every batch)."""
    rate = sum(1.0 / gap for _, gap in streams)
    # By t (past every first call) the streams have made between sum((t - first) / gap) and
    # that plus one per stream: at `guess` they have made need - len(streams) .. need calls.
    guess = (need - len(streams) + sum(first / gap for first, gap in streams)) / rate
    # Any lo with fewer than `need` calls by it gives the exact answer below; a lo close to
    # it leaves few calls to take from the heap. One gap of the slowest stream below the guess
    # has fewer calls (bar streams starting late: then step down), and a few halvings towards
    # the guess keep only lo's that still do.
    lo = max(0.0, guess - max(gap for _, gap in streams))
    made = _calls_by(lo, streams) if lo > 0.0 else 0
    while made >= need:
        lo = lo / 2 if lo > 1.0 else 0.0
        made = _calls_by(lo, streams) if lo > 0.0 else 0
    hi = max(lo, guess)
    for _ in range(3):
        mid = (lo + hi) / 2
        n = _calls_by(mid, streams)
        if n < need:
            lo, made = mid, n
        else:
            hi = mid
    # The next call of each stream strictly after lo (or at 0 when lo is 0: calls at 0 count).
    heap = []
    for first, gap in streams:
        if lo == 0.0 and made == 0:
            nxt = first
        elif lo < first:
            nxt = first
        else:
            nxt = first + (int((lo - first) // gap) + 1) * gap
        heap.append((nxt, gap))
    heapq.heapify(heap)
    t = lo
    while made < need:
        t, gap = heap[0]
        heapq.heapreplace(heap, (t + gap, gap))
        made += 1
    return t


def _wait_from_streams(state: SiteState, config: SiteConfig, sector: str, ahead: int,
                       streams: list[tuple[float, float]]) -> int:
    if not streams:
        # Nobody serves it right now: the plain rate of the counters configured for it.
        return int(round((ahead + 1) * mean_service_s(state, config, sector) / capacity(state, config, sector)))
    return int(round(_nth_call(streams, max(0, ahead) + 1)))


def wait_for_position(state: SiteState, config: SiteConfig, sector: str, ahead: int) -> int:
    """Seconds until a citizen with `ahead` people before them in `sector` is called:
    the time of the sector's (ahead+1)-th call, over every counter's stream of calls."""
    return _wait_from_streams(state, config, sector, ahead, _call_streams(state, config, sector))


def live_wait(state: SiteState, config: SiteConfig, t: Ticket, ahead: int) -> int:
    """What a waiting ticket with `ahead` people before it (ahead_of) can still expect to wait,
    for its tracking page: the stream estimate for its place now, corrected the way its printed
    wait (a forecast) corrected the stream estimate at issue. So the page says about what the
    paper says when the ticket is new, and follows the queue after (citizens called, a counter
    closing)."""
    now = wait_for_position(state, config, t.sector, ahead)
    if t.est_stream_s is None:
        return now
    if t.est_stream_s >= RATIO_MIN_S:
        return int(round(now * _clamped(t.est_wait_s / t.est_stream_s)))
    # Too short a stream estimate to divide by: keep the difference instead.
    return max(0, now + t.est_wait_s - t.est_stream_s)


SHOWN_RATIO_FOR_S = 1800   # a sector's printed ratio is used for this long after its newest ticket
RATIO_RANGE = (1 / 3, 3.0)  # how far a printed ratio may correct the stream estimate


def shown_waits(state: SiteState, config: SiteConfig) -> dict[str, int]:
    """The wait shown for a new ticket in each sector (kiosk buttons, the board, sector stats,
    the online-filing offer): the stream estimate corrected by how the sector's recent printed
    waits, which are forecasts, compared with it (SectorStats.printed_ratio). A forecast for
    every sector at every change would cost the command loop; this costs nothing, and the wait
    on the button is about the one the next ticket prints. After SHOWN_RATIO_FOR_S without a
    ticket in the sector, the plain stream estimate."""
    now = _now_epoch(state)
    return {s: _as_printed(state, s, wait, now) for s, wait in all_sector_waits(state, config).items()}


def shown_wait(state: SiteState, config: SiteConfig, sector: str) -> int:
    """`shown_waits` of one sector."""
    return _as_printed(state, sector, sector_wait(state, config, sector), _now_epoch(state))


def _as_printed(state: SiteState, sector: str, wait: int, now: float | None) -> int:
    st = state.sectors[sector]
    if st.printed_ratio is None or now is None or now - (st.printed_ratio_at or 0.0) > SHOWN_RATIO_FOR_S:
        return wait
    return int(round(wait * _clamped(st.printed_ratio)))


def _clamped(ratio: float) -> float:
    return min(max(ratio, RATIO_RANGE[0]), RATIO_RANGE[1])


def all_sector_waits(state: SiteState, config: SiteConfig) -> dict[str, int]:
    """`sector_wait` of every sector (same values), sharing the clock, shares, service means
    and pressures between sectors and building every sector's streams in one pass over the counters."""
    now = _Now(state, config)
    by_sector: dict[str, list[tuple[float, float]]] = {s.id: [] for s in config.sectors}
    served: set[str] = set()
    for c in state.counters.values():
        if c.on_duty and c.sectors:
            # The counter's pressures, total and residual once for all its sectors (same values
            # as _server_stream computes for each).
            single = len(c.sectors) == 1
            if not single:
                pressures = {s: now.pressure(s) for s in c.sectors}
                total = sum(pressures.values())
            residual = now.residual(c)
            for s in c.sectors:
                if s not in by_sector:
                    continue
                share = 1.0 if single else max(pressures[s] / total if total > 0 else 1.0 / len(c.sectors), 0.1)
                svc = now.svc(s)
                gap = svc / share
                first = residual + _OTHER_WORK * (gap - svc) if residual is not None else 0.0
                by_sector[s].append((first, gap))
                served.add(s)
    if AUTO_HELPERS and state.auto_mode:
        for c in state.counters.values():
            extra = AutoBalancer.idle_reach(state, config, c) if c.on_duty else None
            if extra is None or any(state.waiting_count(x) for x in c.sectors):
                continue
            for s in dict.fromkeys(extra):   # each sector once, as the per-sector scan counts it
                if s in served:
                    by_sector[s].append(_helper_stream(now, c, s))
    return {s.id: _wait_from_streams(state, config, s.id, state.waiting_count(s.id),
                                     by_sector[s.id] if s.id in served else [])
            for s in config.sectors}


def sector_wait(state: SiteState, config: SiteConfig, sector: str) -> int:
    """The wait a citizen taking a ticket now in `sector` should expect."""
    return wait_for_position(state, config, sector, state.waiting_count(sector))


def ahead_of(state: SiteState, sector: str, rank: int, order: float) -> int:
    return sum(1 for t in state.waiting_in(sector) if (t.rank, t.order) < (rank, order))
