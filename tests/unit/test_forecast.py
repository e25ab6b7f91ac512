"""The printed wait's forecast (queue_server/domain/forecast/) and what it learns over days."""
from __future__ import annotations

from datetime import timedelta

import pytest

from queue_server.domain import estimate, forecast
from queue_server.domain.policy import DynamicPolicy
from queue_server.domain.learning import slot_of
from queue_server.limits import CpuBudget
from queue_server.sim.driver import Driver
from tests.support.domain_harness import small_site


def _busy_c(d: Driver, ahead: int, at: float = 0.0) -> None:
    """q3 (the only counter for c) serving one citizen since `at`, `ahead` more waiting."""
    d.issue("c", at)
    d.call("q3", at)
    for i in range(ahead):
        d.issue("c", at + 1 + i)


def _forecast(d: Driver, sector: str, seconds: float, rank: int = 1) -> int | None:
    st = d.state
    order = max(d.epoch(seconds), st.last_order + 0.001)
    ahead = estimate.ahead_of(st, sector, rank, order)
    return forecast.printed_wait(st, d.config, sector, rank, order, ahead, d.at(seconds))


def test_an_idle_counter_prints_no_wait_and_the_same_state_prints_the_same_wait():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    assert d.issue("c", 0)["est_wait_s"] == 0
    d2 = Driver(site, DynamicPolicy())
    _busy_c(d2, 3)
    assert _forecast(d2, "c", 10) == _forecast(d2, "c", 10) > 0


def test_more_ahead_waits_longer_and_about_a_service_each():
    d = Driver(small_site(), DynamicPolicy())      # configured service: 5 minutes
    _busy_c(d, 0)
    waits = []
    for n in range(1, 7):
        waits.append(_forecast(d, "c", 10))
        d.issue("c", 10 + n)
    assert waits == sorted(waits)
    per_person = (waits[-1] - waits[0]) / 5
    assert 200 <= per_person <= 400, waits        # the median of a skewed service, near 5 minutes


def test_too_many_ahead_or_nobody_to_serve_falls_back_to_the_stream_estimate():
    d = Driver(small_site(), DynamicPolicy())
    _busy_c(d, forecast.MAX_AHEAD + 1)
    assert _forecast(d, "c", 100) is None
    ahead = d.state.waiting_count("c")
    stream = estimate.wait_for_position(d.state, d.config, "c", ahead)
    assert d.issue("c", 100)["est_wait_s"] == stream
    d2 = Driver(small_site(), DynamicPolicy())
    d2.set_status("q3", "closed", 0)
    assert _forecast(d2, "c", 10) is None


def test_priority_citizens_expected_to_come_lengthen_a_normal_ticket_s_wait():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    _busy_c(d, 4)
    calm = _forecast(d, "c", 10)
    st = d.state.sectors["c"]
    # what earlier days taught: many arrivals in this half hour and the next, most of them priority
    slot = int(slot_of(d.at(10).astimezone(site.site.tz)))
    st.arrival_profile = {str(slot): 20.0, str(slot + 1): 20.0}
    st.profile_days, st.priority_share_days = 3, 0.9
    assert _forecast(d, "c", 10) > calm * 1.3
    assert _forecast(d, "c", 10, rank=0) < calm    # a priority ticket goes ahead of them all


def test_a_day_is_learned_at_the_next_day_start():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    for i in range(12):                             # 12 tickets in the first half hour, 3 priority, 10 min each
        d.issue("c", i * 60, priority="elderly" if i % 4 == 0 else "normal")
    t = 1000.0
    for _ in range(12):
        d.call("q3", t)
        d.done("q3", t + 600)
        t += 600
    st = d.state.sectors["c"]
    slot = slot_of(d.at(0).astimezone(site.site.tz))   # the site's half hour, whatever the clock's zone
    assert st.arrivals_today == {slot: 12} and st.priority_today == 3 and st.profile_days == 0
    d.rollover(d.at(0) + timedelta(days=1))
    assert st.profile_days == 1 and st.arrival_profile == {slot: 12.0}
    assert st.priority_share_days == 0.25 and 599 <= st.service_mean_days <= 601
    assert st.service_cv_days is not None and st.service_cv_days < 0.01   # every service took 10 minutes
    assert st.arrivals_today == {} and st.priority_today == 0
    # the observed mean now leads: 10 minutes, not the configured 5
    assert 599 <= estimate.mean_service_s(d.state, site, "c") <= 601


def test_the_forecast_gets_a_bounded_share_of_the_loop():
    b = CpuBudget(share=0.05, burst_s=0.01)
    assert b.left() > 0
    b.spend(0.02)                                   # one slow forecast overdraws the burst
    assert not b.left() > 0                         # the next tickets print the stream estimate


def test_with_auto_mode_on_idle_trained_counters_count():
    """q1 serves a and b but is trained for c too; with auto mode on it will be moved to help c."""
    from queue_server.domain.commands import SetAutoMode
    d = Driver(small_site(), DynamicPolicy())
    _busy_c(d, 5)
    alone = _forecast(d, "c", 10)
    d.send(SetAutoMode(True, by="test"), 10)
    assert _forecast(d, "c", 11) < alone * 0.8


def test_with_auto_mode_on_a_counter_busy_with_its_own_sectors_does_not_help():
    """Auto mode moves a counter to its trained list only when its own sectors are empty: q1 and
    q2, with a queue in a and b, are no help to c for a long while; idle, they are."""
    from queue_server.domain.commands import SetAutoMode
    d = Driver(small_site(), DynamicPolicy())
    for i in range(12):
        d.issue("a" if i % 2 else "b", i)
    d.call("q1", 20)
    d.call("q2", 20)
    _busy_c(d, 5, at=30)
    alone = _forecast(d, "c", 40)
    d.send(SetAutoMode(True, by="test"), 40)
    assert _forecast(d, "c", 41) > 0.9 * alone
    idle = Driver(small_site(), DynamicPolicy())
    _busy_c(idle, 5, at=30)
    idle.send(SetAutoMode(True, by="test"), 40)
    assert _forecast(idle, "c", 41) < 0.8 * alone


def test_a_failing_forecast_never_costs_a_ticket(monkeypatch):
    def broken(*a, **k):
        raise ZeroDivisionError("a bug in the forecast")
    monkeypatch.setattr(forecast, "printed_wait", broken)
    d = Driver(small_site(), DynamicPolicy())
    _busy_c(d, 2)
    ahead = d.state.waiting_count("c")
    stream = estimate.wait_for_position(d.state, d.config, "c", ahead)
    t = d.issue("c", 50)
    assert t["number"] == "C004" and t["est_wait_s"] == stream


def test_the_forecast_plays_the_site_s_own_policy():
    """q1 alone serves a (30-minute services) and b (2-minute ones); it is busy with an a citizen,
    another waits. The dynamic policy calls the new b ticket first (a short service frees the
    counter sooner); oldest-first would call the older a ticket, a whole long service later;
    under the static policy q1 never calls b at all."""
    from queue_server.domain.policy import OldestFirstPolicy, StaticPolicy
    d = Driver(small_site(), DynamicPolicy())
    d.set_status("q2", "closed", 0)
    d.state.sectors["a"].service_mean_days = 1800.0
    d.state.sectors["b"].service_mean_days = 120.0
    d.issue("a", 0)
    d.call("q1", 0)
    d.issue("a", 5)
    st = d.state
    order = max(d.epoch(10), st.last_order + 0.001)
    ahead = estimate.ahead_of(st, "b", 1, order)

    def wait(policy):
        return forecast.printed_wait(st, d.config, "b", 1, order, ahead, d.at(10), policy)

    dynamic, oldest = wait(DynamicPolicy()), wait(OldestFirstPolicy())
    assert dynamic < 0.7 * oldest and oldest - dynamic > 600, (dynamic, oldest)
    assert wait(StaticPolicy()) is None


def test_a_forecast_too_dear_for_the_time_allowed_gives_way_after_one_play():
    d = Driver(small_site(), DynamicPolicy())
    _busy_c(d, 4)
    st = d.state
    order = max(d.epoch(10), st.last_order + 0.001)
    ahead = estimate.ahead_of(st, "c", 1, order)
    free = forecast.printed_wait(st, d.config, "c", 1, order, ahead, d.at(10))
    assert free is not None
    ticks = iter(range(1_000))

    def clock() -> float:
        """A clock on which every reading is a second after the last: one play takes 1 s, so 32 take 32 s."""
        return float(next(ticks))

    assert forecast.printed_wait(st, d.config, "c", 1, order, ahead, d.at(10), time_limit_s=40.0,
                                 clock=clock) == free
    assert forecast.printed_wait(st, d.config, "c", 1, order, ahead, d.at(10), time_limit_s=30.0,
                                 clock=clock) is None
    with pytest.raises(ValueError):     # a limit no clock can keep is a caller's mistake
        forecast.printed_wait(st, d.config, "c", 1, order, ahead, d.at(10), time_limit_s=40.0)


def test_each_procedure_s_service_time_is_learned_and_read_for_the_tickets_ahead():
    """Birth registrations take 2 minutes here and marriages 20: one marriage ahead is a longer
    wait than one birth registration ahead, though the sector's mean is the same for both."""
    from queue_server.domain.site import parse_site

    def sector(sid, prefix, procedures=()):
        return {"id": sid, "prefix": prefix, "name": {"vi": sid, "en": sid}, "target_wait_min": 20, "service_min": 5,
                "procedures": [{"id": p, "name": {"vi": p, "en": p}} for p in procedures]}
    site = parse_site({
        "site": {"id": "test", "name": {"vi": "Thử", "en": "Test"}},
        "sectors": [sector("a", "A"), sector("c", "C", ("khai-sinh", "ket-hon"))],
        "counters": [{"id": "q1", "label": {"vi": "Quầy 1", "en": "Counter 1"}, "sectors": ["a"]},
                     {"id": "q3", "label": {"vi": "Quầy 3", "en": "Counter 3"}, "sectors": ["c"]}]})
    d = Driver(site, DynamicPolicy())
    t = 0.0
    for i in range(40):                             # what earlier citizens showed
        proc = "ket-hon" if i % 2 else "khai-sinh"
        d.issue("c", t, procedure=proc)
        d.call("q3", t + 1)
        d.done("q3", t + 1 + (1200 if proc == "ket-hon" else 120))
        t += 1300
    st = d.state.sectors["c"]
    assert st.procedure_service["ket-hon"] == [20.0, 20 * 1200.0]
    factors = estimate.procedure_factors(st)
    assert factors["ket-hon"] > 1.4 and factors["khai-sinh"] < 0.6      # pulled toward 1 by the prior
    d.rollover(d.at(t) + timedelta(days=1))                           # earlier days count less
    assert st.procedure_service["ket-hon"] == [18.0, 18 * 1200.0]

    def wait_with(proc_ahead):
        d2 = Driver(site, DynamicPolicy())
        d2.state.sectors["c"].procedure_service = {k: list(v) for k, v in st.procedure_service.items()}
        d2.state.sectors["c"].service_mean_days = 660.0               # the sector's mean, as learned
        d2.issue("c", 0, procedure="khai-sinh")
        d2.call("q3", 0)
        d2.issue("c", 5, procedure=proc_ahead)
        return _forecast(d2, "c", 10)

    long, short = wait_with("ket-hon"), wait_with("khai-sinh")
    assert long > 1.6 * short and long - short > 400, (long, short)   # ~19 min against ~10


def test_the_tracking_page_starts_from_the_printed_wait_and_follows_the_queue():
    """The printed wait is a forecast, the live one the cheaper stream estimate: the page corrects
    the live one as the forecast corrected it at issue, so paper and phone agree at first."""
    d = Driver(small_site(), DynamicPolicy())
    _busy_c(d, 4)
    t = d.issue("c", 30)
    ticket = d.state.tickets[t["id"]]
    assert ticket.est_stream_s is not None and ticket.est_stream_s != ticket.est_wait_s

    def live():
        ahead = estimate.ahead_of(d.state, "c", ticket.rank, ticket.order)
        return estimate.live_wait(d.state, d.config, ticket, ahead)

    # (the stream estimate counts a service's progress from the last event, so a few seconds differ)
    assert abs(live() - t["est_wait_s"]) <= 0.05 * t["est_wait_s"], (live(), t["est_wait_s"])
    first = live()
    d.done("q3", 400)
    d.call("q3", 400)
    d.done("q3", 700)
    d.call("q3", 700)
    assert live() < first * 0.8                      # two called: the wait shrinks
    ticket.est_stream_s = None                       # a ticket from before (or a transfer): the stream estimate
    ahead = estimate.ahead_of(d.state, "c", ticket.rank, ticket.order)
    assert live() == estimate.wait_for_position(d.state, d.config, "c", ahead)


def test_the_kiosk_buttons_and_the_board_show_about_what_the_next_ticket_prints():
    """Earlier days taught that many priority citizens come now: the forecast prints much more
    than the stream estimate; the wait shown for the sector follows the printed ones, not the
    stream estimate, and goes back to it once the sector has had no ticket for a while."""
    from queue_server.domain import views
    site = small_site()
    d = Driver(site, DynamicPolicy())
    _busy_c(d, 3)
    st = d.state.sectors["c"]
    slot = int(slot_of(d.at(10).astimezone(site.site.tz)))
    st.arrival_profile = {str(slot): 20.0, str(slot + 1): 20.0, str(slot + 2): 20.0}
    st.profile_days, st.priority_share_days = 3, 0.6
    printed = [d.issue("c", 10 + i)["est_wait_s"] for i in range(4)]
    stream = estimate.sector_wait(d.state, site, "c")
    shown = views.sector_waits(d.state, site)["c"]
    upcoming = _forecast(d, "c", 20)
    assert upcoming > 1.3 * stream, (printed, stream, upcoming)
    assert abs(shown - upcoming) < abs(stream - upcoming) / 2, (shown, stream, upcoming)
    assert views.board(d.state, site, d.at(20))["sectors"][2]["est_wait_s"] == shown
    d.issue("a", 20 + estimate.SHOWN_RATIO_FOR_S + 60)      # half an hour later, nothing new in c
    assert views.sector_waits(d.state, site)["c"] == estimate.sector_wait(d.state, site, "c")
