"""The shared-work estimate (`estimate.all_sector_waits`, `_Now`) gives the waits of the
original per-sector code, kept here verbatim as the reference, across random days of events:
issues, calls, services, pauses, closures, sector changes, auto mode on and off. The reference
finds the (ahead+1)-th call by bisection to within half a second above it; the estimate finds it
exactly (`_nth_call`, checked against brute force below), so they agree to within a second."""
from __future__ import annotations

import random

import pytest

from queue_server.domain import estimate
from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.commands import SetAutoMode
from queue_server.domain.errors import DomainError
from queue_server.domain.policy import DynamicPolicy
from queue_server.sim.driver import Driver
from tests.support.domain_harness import small_site


# --- the reference: estimate.py's stream code before the shared-work rewrite --------------------
def _ref_call_streams(state, config, sector):
    # Since issue #18 a paused counter (on a break) counts as closed: only open counters serve.
    servers = [c for c in state.counters.values() if c.status == "open" and sector in c.sectors]
    helpers = []
    if estimate.AUTO_HELPERS and state.auto_mode:
        for c in state.counters.values():
            conf = config.counter_by_id.get(c.id)
            if (c.status == "open" and sector not in c.sectors and conf is not None and sector in conf.trained
                    and not c.sectors_override and not any(state.waiting_count(x) for x in c.sectors)):
                helpers.append(c)
    if not servers:
        return []
    now = estimate._now_epoch(state)
    shares_now = estimate._shares(state)

    def svc(s):
        return estimate.mean_service_s(state, config, s)

    def pressure(s):
        return (state.waiting_count(s) + 0.5) * svc(s) / estimate.capacity(state, config, s, shares_now)

    streams = []
    for c in servers:
        if len(c.sectors) == 1:
            share = 1.0
        else:
            pressures = {s: pressure(s) for s in c.sectors}
            total = sum(pressures.values())
            share = max(pressures[sector] / total if total > 0 else 1.0 / len(c.sectors), 0.1)
        gap = svc(sector) / share
        first = 0.0
        current = state.tickets.get(c.serving) if c.serving else None
        if current is not None:
            mean = svc(current.sector)
            elapsed = (now - current.called_epoch) if (now is not None and current.called_epoch) else 0.0
            first = max(mean - elapsed, estimate._MIN_RESIDUAL * mean)
            first += estimate._OTHER_WORK * (gap - svc(sector))
        streams.append((first, gap))
    for c in helpers:
        trained = config.counter_by_id[c.id].trained
        pressures = {s: pressure(s) for s in trained}
        total = sum(pressures.values())
        share = max(pressures[sector] / total if total > 0 else 1.0 / len(trained), 0.1)
        current = state.tickets.get(c.serving) if c.serving else None
        first = AutoBalancer.HELPER_FIRST_CALL_S
        if current is not None:
            mean = svc(current.sector)
            elapsed = (now - current.called_epoch) if (now is not None and current.called_epoch) else 0.0
            first = max(first, max(mean - elapsed, estimate._MIN_RESIDUAL * mean))
        streams.append((first, svc(sector) / share))
    return streams


def _ref_wait_for_position(state, config, sector, ahead):
    streams = _ref_call_streams(state, config, sector)
    if not streams:
        return int(round((ahead + 1) * estimate.mean_service_s(state, config, sector)
                         / estimate.capacity(state, config, sector)))
    ahead = max(0, ahead)
    need = ahead + 1
    lo = 0.0
    hi = min(first + ahead * gap for first, gap in streams)

    def calls_by(t):
        return sum(int((t - first) // gap) + 1 for first, gap in streams if t >= first)
    if calls_by(lo) >= need:
        return 0
    while hi - lo > 0.5:
        mid = (lo + hi) / 2
        if calls_by(mid) >= need:
            hi = mid
        else:
            lo = mid
    return int(round(hi))


def _close(got: dict[str, int], ref: dict[str, int]) -> bool:
    return got.keys() == ref.keys() and all(0 <= ref[k] - got[k] <= 1 for k in ref)


def _check(d, site):
    st = d.state
    ref = {s.id: _ref_wait_for_position(st, site, s.id, st.waiting_count(s.id)) for s in site.sectors}
    fast = estimate.all_sector_waits(st, site)
    assert _close(fast, ref), (fast, ref)
    assert {s.id: estimate.sector_wait(st, site, s.id) for s in site.sectors} == fast
    for s in site.sectors:
        for ahead in (0, 1, 3, 7):
            got, want = estimate.wait_for_position(st, site, s.id, ahead), _ref_wait_for_position(st, site, s.id, ahead)
            assert 0 <= want - got <= 1, (s.id, ahead, got, want)
    for s in site.sectors:   # streams too, not only the rounded waits
        assert estimate._call_streams(st, site, s.id) == _ref_call_streams(st, site, s.id)


def _brute_nth(streams, need):
    times = sorted(first + m * gap for first, gap in streams for m in range(need))
    return times[need - 1]


def test_nth_call_is_exact_against_brute_force():
    rng = random.Random(5)
    for _ in range(5000):
        streams = [(rng.choice([0.0, 0.0, rng.uniform(0, 600), rng.uniform(0, 5000)]),
                    rng.choice([rng.uniform(5, 100), rng.uniform(100, 1000), rng.uniform(1000, 9000)]))
                   for _ in range(rng.randint(1, 12))]
        need = rng.randint(1, 300)
        assert estimate._nth_call(streams, need) == pytest.approx(_brute_nth(streams, need), abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_shared_work_estimate_equals_the_per_sector_one_over_random_days(seed):
    rng = random.Random(seed)
    site = small_site()
    d = Driver(site, DynamicPolicy())
    sectors = [s.id for s in site.sectors]
    counters = [c.id for c in site.counters]
    t = 0.0
    checked = 0
    for _ in range(400):
        t += rng.expovariate(1 / 20.0)
        r = rng.random()
        try:
            if r < 0.40:
                d.issue(rng.choice(sectors), t, priority=rng.choice(["normal", "normal", "elderly"])
                        if rng.random() < 0.1 else "normal")
            elif r < 0.65:
                d.call(rng.choice(counters), t)
            elif r < 0.82:
                d.done(rng.choice(counters), t)
            elif r < 0.88:
                d.set_status(rng.choice(counters), rng.choice(["open", "paused", "closed", "open"]), t)
            elif r < 0.94:
                c = rng.choice(counters)
                trained = list(site.counter_by_id[c].trained)
                d.set_sectors(c, rng.sample(trained, rng.randint(1, len(trained))), t,
                              override=rng.random() < 0.5, reason="test", by="t")
            else:
                d.send(SetAutoMode(rng.random() < 0.6, by="test"), t)
        except DomainError:
            pass                                   # a refused command changes nothing we compare
        _check(d, site)
        checked += 1
    assert checked == 400


@pytest.mark.slow     # the 60-counter bench site through random days
def test_all_sector_waits_matches_on_the_bench_sized_site(tmp_path):
    """A 60-counter site with counters sharing several sectors, as `bench/throughput.py` loads it."""
    from bench.harness import write_bench_site
    from queue_server.config import load_site
    site = load_site(write_bench_site(tmp_path, 60, 4))
    rng = random.Random(7)
    d = Driver(site, DynamicPolicy())
    sectors = [s.id for s in site.sectors]
    counters = [c.id for c in site.counters]
    for i in range(300):
        d.issue(sectors[i % len(sectors)], i * 0.5)
    d.send(SetAutoMode(True, by="test"), 200)
    t = 200.0
    for _ in range(300):
        t += 1.3
        c = rng.choice(counters)
        try:
            d.call(c, t) if rng.random() < 0.6 else d.done(c, t)
        except DomainError:
            pass
        if rng.random() < 0.3:
            _check(d, site)
    _check(d, site)
