"""The printed end of a visit (docs/visits.md): the forecast's plays go on to the visit's end, with
the citizen called again at once where the counter serves the next sector ("continue here") or
rejoining the next queue in their ticket's place; without the forecast, the estimate waits for a
counter to free when the citizen rejoins a sector with nobody left ahead of them."""
from __future__ import annotations

from queue_server.domain import forecast, views, visits
from queue_server.domain.site import parse_site
from tests.support.domain_harness import Harness
from tests.support.visit_site import issue_visit, visit_site


def test_the_estimate_waits_for_a_counter_when_the_citizen_rejoins_a_sector():
    items = [("a", None), ("b", None), ("b", None)]
    waits = {"a": 0.0, "b": 100.0}
    service = lambda s, p: 300.0          # noqa: E731
    assert visits.end_of(items, waits.__getitem__, service) == 900.0
    # rejoining b at 300 s, its counters busy for 120 s more; the second b procedure follows at the
    # same counter (one sector's procedures together), with no second wait
    assert visits.end_of(items, waits.__getitem__, service, rejoin_s=lambda s: 120.0) == 1020.0
    # the order of the visit is chosen without it: it is about the same for every order
    assert visits.plan(items, waits.__getitem__, service)[1] == 900.0


def test_the_forecast_plays_a_visit_to_its_end_continue_here_included():
    """q1 serves a and b; b has a long queue. A priority citizen for a then b is served at q1 for
    a, and q1 keeps them for b: the visit ends after two services, not after b's queue."""
    d = visit_site().model_dump()
    d["priority_groups"] = ["elderly"]
    h = Harness(parse_site(d))
    for _ in range(10):
        h.issue("b")
    h.next("q2")
    h.advance(minutes=1)
    b_wait = views.sector_stats(h.state, h.core.config, "b", h.now)["shown_wait_s"]
    assert b_wait > 1000
    t = issue_visit(h, ("b", "b1"), ("a", "a1"), priority="elderly")
    assert [p["sector"] for p in t["visit"]["procedures"]] == ["a", "b"]
    assert t["printed_wait_s"] == 0
    # two 5-minute services played; the wait-only model said b's queue first (about 1,500 s)
    assert 450 < t["visit"]["end_s"] < 900 < b_wait + 300


def test_a_visit_whose_later_sector_has_no_open_counter_keeps_the_wait_only_estimate():
    h = Harness(visit_site())
    h.do("counter", "q3", type="counter.close")
    ticket = issue_visit(h, ("a", "a1"), ("c", "c1"))
    got = forecast.printed_visit(h.state, h.core.config, [("a", "a1"), ("c", "c1")], 1, h.now.timestamp() + 1,
                                 0, h.now)
    assert got is not None and got[1] is None            # the first wait played, the end left to end_of
    assert ticket["visit"]["end_s"] is not None


def test_the_forecast_knows_other_visits_come_back_to_a_queue_ahead_of_a_new_ticket():
    """X is being served in c and comes back to b next, in the place their earlier ticket gave them:
    a ticket taken for b after X waits for X too (the plays rejoin every visit, not only the new one)."""
    def wait_behind(x_is_a_visit: bool) -> int:
        h = Harness(visit_site())
        h.do("counter", "q1", type="counter.close")       # q2 alone serves b
        h.issue("b")
        h.next("q2")
        if x_is_a_visit:
            x = issue_visit(h, ("c", "c1"), ("b", "b1"))
            assert [p["sector"] for p in x["visit"]["procedures"]] == ["c", "b"]
        else:
            h.issue("c", procedure="c1")
        h.next("q3")
        h.advance(seconds=30)
        return h.issue("b", procedure="b1")["printed_wait_s"]
    assert wait_behind(True) > wait_behind(False) + 60
