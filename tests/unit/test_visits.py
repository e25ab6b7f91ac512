"""A visit (one ticket, several procedures), breaks with a reason, daily caps, the word before a long
wait and the overnight option, on the pure domain (docs/visits.md)."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.messages import ProtocolError
from queue_server.domain import closing, views, visits
from queue_server.domain.commands import SetCounterStatus
from queue_server.domain.policy import OldestFirstPolicy
from queue_server.domain.state import SiteState
from queue_server.sim.scenario import VisitShares
from tests.support.domain_harness import TZ, Harness
from tests.support.visit_site import issue_visit, visit_site


@pytest.fixture
def h():
    return Harness(visit_site(), OldestFirstPolicy())


# --- the order of a visit ----------------------------------------------------------------------

def test_plan_serves_the_short_wait_first_and_keeps_a_sectors_procedures_together():
    waits = {"a": 3600.0, "b": 300.0, "c": 1200.0}
    items = [("a", "a1"), ("c", "c1"), ("a", "a2"), ("b", "b1")]
    order, end = visits.plan(items, waits.__getitem__, lambda s, p: 600.0)
    assert order == [("b", "b1"), ("c", "c1"), ("a", "a1"), ("a", "a2")]
    # b: 300 + 600 = 900; c: max(900, 1200) + 600 = 1800; a: max(1800, 3600) + 600 + 600 = 4800
    assert end == 4800.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=5),
       st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 7200), min_size=4),
       st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(60, 1800), min_size=4))
def test_no_order_of_the_procedures_ends_the_visit_sooner(sectors, waits, services):
    """The bound the visit's order keeps: over every order of the procedures (sectors split or
    not), none ends sooner under the same model."""
    items = [(s, f"{s}{i}") for i, s in enumerate(sectors)]
    order, end = visits.plan(items, waits.__getitem__, lambda s, p: services[s])
    assert sorted(order) == sorted(items)
    best = min(visits.end_of(list(p), waits.__getitem__, lambda s, p: services[s]) for p in permutations(items))
    assert end <= best + 1e-6


# --- a visit through the domain ------------------------------------------------------------------

def test_one_number_for_the_visit_in_the_order_that_ends_it_first(h):
    for _ in range(4):      # a queue in sector a: it goes last
        h.issue("a")
    t = issue_visit(h, ("a", "a1"), ("b", "b1"))
    assert t["number"] == "B001" and t["sector"] == "b" and t["procedure"] == "b1"
    v = t["visit"]
    assert (v["step"], v["steps"]) == (1, 2)
    assert [(p["sector"], p["status"]) for p in v["procedures"]] == [("b", "current"), ("a", "waiting")]
    assert v["end_s"] >= t["printed_wait_s"] + 2 * 5 * 60 * 0.5
    assert h.state.waiting_count("b") == 1 and h.state.waiting_count("a") == 4


def test_a_single_procedure_ticket_is_as_it_was(h):
    t = h.issue("a", procedure="a1")
    assert "visit" not in t and "past_closing" not in t
    issued = [e for e in h.log if e.type == "ticket.issued"][-1]
    assert not {"visit", "step", "queued_epoch", "visit_end_s"} & issued.data["ticket"].keys()


def test_after_a_procedure_the_ticket_joins_the_next_queue_in_its_place(h):
    t = issue_visit(h, ("b", "b1"), ("c", "c1"))
    h.advance(1)
    later = h.issue("c")["number"]             # came after the visit's ticket
    assert h.next("q2") == t["number"]
    h.advance(5)
    r = h.do("counter", "q2", type="serve.done")
    assert r["ticket"]["status"] == "waiting" and r["ticket"]["sector"] == "c"
    assert h.state.counters["q2"].last_served is None      # the rating pad waits for the visit's end
    assert r["ticket"]["visit"]["step"] == 2
    served = [e for e in h.log if e.type == "ticket.served"][-1]
    assert served.data["sector"] == "b" and served.data["procedure"] == "b1" and served.data["step"] == 0
    assert h.state.sectors["b"].served_today == 1           # each procedure counts
    assert h.next("q3") == t["number"]                     # ahead of the later citizen
    call = [e for e in h.log if e.type == "ticket.called"][-1]
    assert (call.data["step"], call.data["steps"]) == (2, 2)
    assert call.data["wait_s"] == 0.0                       # its wait in this queue, not since issue
    serving = views.serving_of(h.state, "q3")
    assert (serving["step"], serving["steps"]) == (2, 2)
    h.advance(3)
    h.do("counter", "q3", type="serve.done")
    assert h.state.tickets[t["id"]].status == "served" and h.state.counters["q3"].last_served == t["id"]
    assert h.do("counter", "q3", type="rating.submit", ticket_id=t["id"], score=4)["rating"]["score"] == 4
    assert h.next("q3") == later


def test_continue_here_calls_the_citizen_again_at_the_same_counter(h):
    t = issue_visit(h, ("a", "a1"), ("b", "b1"))
    h.issue("b")                                            # someone already waiting in b
    assert h.next("q1") == t["number"]
    h.advance(4)
    r = h.do("counter", "q1", type="serve.done", continue_here=True)
    assert r["ticket"]["status"] == "called" and r["ticket"]["counter"] == "q1" and r["ticket"]["sector"] == "b"
    call = [e for e in h.log if e.type == "ticket.called"][-1]
    assert call.data["how"] == "continue" and call.data["counter"] == "q1"
    assert views.counter_state(h.state, h.core.config, "q1", h.now)["serving"]["step"] == 2
    board = views.board(h.state, h.core.config, h.now)
    assert board["recent_calls"][0]["step"] == 2 and board["recent_calls"][0]["steps"] == 2


def test_continue_here_at_a_counter_that_does_not_serve_the_next_sector_joins_the_queue(h):
    t = issue_visit(h, ("b", "b1"), ("c", "c1"))
    assert h.next("q2") == t["number"]
    r = h.do("counter", "q2", type="serve.done", continue_here=True)
    assert r["ticket"]["status"] == "waiting" and h.state.waiting_count("c") == 1


def test_a_clerk_adds_and_drops_procedures(h):
    t = h.issue("a", procedure="a1")
    assert h.next("q1") == t["number"]
    r = h.do("counter", "q1", type="visit.add", sector="c", procedure="c1")
    assert r["ticket"]["visit"]["steps"] == 2
    r = h.do("counter", "q1", type="visit.add", sector="a", procedure="a2")
    # one sector's procedures together: a2 comes before c1
    assert [p["procedure"] for p in r["ticket"]["visit"]["procedures"]] == ["a1", "a2", "c1"]
    assert h.state.sectors["c"].taken_today == 1
    r = h.do("counter", "q1", type="visit.drop", sector="c")
    assert r["ticket"]["visit"]["steps"] == 2 and h.state.sectors["c"].taken_today == 0
    assert h.do("counter", "q1", type="visit.drop", sector="c") == "not_found"
    assert h.do("counter", "q1", type="visit.add", sector="x") == "unknown_sector"
    for _ in range(3):
        h.do("counter", "q1", type="visit.add", sector="b", procedure="b1")
    assert h.do("counter", "q1", type="visit.add", sector="b") == "bad_request"      # 5 at most
    assert h.do("counter", "q2", type="visit.add", sector="b") == "no_current_ticket"


def test_a_visit_survives_a_snapshot_and_a_replay(h):
    t = issue_visit(h, ("b", "b1"), ("c", "c1"), ("a", "a2"))
    h.next("q2")
    h.do("counter", "q2", type="serve.done")
    snap = h.state.to_dict()
    again = SiteState.from_dict(snap, h.core.config)
    assert again.to_dict() == snap
    replayed = SiteState.initial(h.core.config)
    for e in h.log:
        replayed.apply(e)
    assert replayed.to_dict() == snap
    assert again.tickets[t["id"]].visit[0]["status"] == "done"


def test_a_snapshot_from_before_caps_counts_what_was_taken(h):
    issue_visit(h, ("b", "b1"), ("c", "c1"))
    h.issue("b")
    snap = h.state.to_dict()
    for sec in snap["sectors"].values():
        del sec["taken_today"], sec["procedures_taken_today"]
    for t in snap["tickets"].values():
        for key in ("visit", "step", "queued_epoch", "visit_end_s"):
            t.pop(key)
    old = SiteState.from_dict(snap, h.core.config)
    assert old.sectors["b"].taken_today == 2          # the visit read as a ticket of its current sector
    assert old.sectors["b"].procedures_taken_today == {"b1": 1}


# --- breaks ------------------------------------------------------------------------------------

def test_a_break_has_a_reason_and_counts_as_closed(h):
    for _ in range(3):
        h.issue("c")
    open_wait = views.sector_stats(h.state, h.core.config, "c", h.now)["shown_wait_s"]
    r = h.do("counter", "q3", type="counter.pause", reason="lunch")
    assert r["counter"] == {"id": "q3", "status": "paused", "sectors": ["c"], "break_reason": "lunch"}
    assert views.counter_state(h.state, h.core.config, "q3", h.now)["break_reason"] == "lunch"
    board = views.board(h.state, h.core.config, h.now)
    assert [c.get("break_reason") for c in board["counters"]] == [None, None, "lunch"]
    paused = views.sector_stats(h.state, h.core.config, "c", h.now)
    assert paused["counters"] == ["q3"] and paused["shown_wait_s"] > open_wait
    h.do("counter", "q3", type="counter.close")
    closed = views.sector_stats(h.state, h.core.config, "c", h.now)["shown_wait_s"]
    assert paused["shown_wait_s"] == closed           # a break counts as closed until it returns
    h.do("counter", "q3", type="counter.pause")
    assert h.state.counters["q3"].break_reason == "other"   # an older device's pause
    h.do("counter", "q3", type="counter.pause", reason="files")
    events = [e.data.get("reason") for e in h.log if e.type == "counter.status_changed"]
    assert events == ["lunch", None, "other", "files"]
    h.do("counter", "q3", type="counter.open")
    assert h.state.counters["q3"].break_reason is None
    with pytest.raises(ProtocolError):        # the contract refuses a reason not in the list
        h.do("counter", "q3", type="counter.pause", reason="nap")
    assert h.command("manager", "web", SetCounterStatus("q3", "paused", reason="nap")) == "bad_request"
    assert h.command("manager", "web", SetCounterStatus("q3", "paused", reason="meeting"))["counter"][
        "break_reason"] == "meeting"


# --- daily caps --------------------------------------------------------------------------------

def test_daily_caps_refuse_and_say_what_is_left():
    h = Harness(visit_site(caps={"a": 2}, proc_caps={"b1": 1}), OldestFirstPolicy())
    cfg = h.core.config
    assert views.sector_stats(h.state, cfg, "a", h.now)["remaining_today"] == 2
    assert views.sector_stats(h.state, cfg, "b", h.now)["procedures_remaining"] == {"b1": 1}
    assert "remaining_today" not in views.sector_stats(h.state, cfg, "c", h.now)
    h.issue("a")
    assert issue_visit(h, ("a", "a1"), ("a", "a2")) == "daily_cap_reached"    # both would not fit
    issue_visit(h, ("a", "a1"), ("b", "b1"))
    assert views.sector_stats(h.state, cfg, "a", h.now)["remaining_today"] == 0
    assert views.board(h.state, cfg, h.now)["sectors"][0]["remaining_today"] == 0
    assert h.do("kiosk", "k1", type="ticket.issue", sector="a") == "daily_cap_reached"
    assert h.do("kiosk", "k1", type="ticket.issue", sector="b", procedure="b1") == "daily_cap_reached"
    assert h.issue("b")["number"] == "B002"        # the sector itself is not capped
    h.now = datetime(2026, 11, 25, 7, 30, tzinfo=TZ)
    assert h.issue("a")["number"] == "A001"        # a new day, new numbers


# --- past closing ------------------------------------------------------------------------------

def at(hh, mm):
    return datetime(2026, 11, 24, hh, mm, tzinfo=TZ)


def test_a_wait_is_counted_in_open_time():
    cfg = visit_site({"hours": ["07:30-11:30", "13:30-17:00"]})
    assert not closing.past_closing(cfg, at(11, 20), 30 * 60)        # called 13:50
    assert not closing.past_closing(cfg, at(7, 0), 3 * 3600)         # from 07:30
    assert closing.past_closing(cfg, at(16, 50), 15 * 60)
    assert closing.past_closing(cfg, at(10, 0), 5 * 3600 + 60)        # 1 h 30 + 3 h 30 = 5 h of open time
    assert not closing.past_closing(cfg, at(10, 0), 5 * 3600 - 60)
    assert closing.past_closing(cfg, at(18, 0), 0)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 24 * 60 - 1), st.integers(0, 12 * 3600), st.integers(0, 3600))
def test_a_longer_wait_never_ends_before_closing_when_a_shorter_one_does_not(minute, wait, more):
    cfg = visit_site({"hours": ["07:30-11:30", "13:30-17:00"]})
    now = at(minute // 60, minute % 60)
    if closing.past_closing(cfg, now, wait):
        assert closing.past_closing(cfg, now, wait + more)


def test_the_kiosk_hears_of_it_before_printing_and_a_citizen_may_still_take_it():
    h = Harness(visit_site({"hours": ["07:30-11:30", "13:30-17:00"]}), OldestFirstPolicy(), start=at(16, 40))
    for _ in range(10):
        h.issue("c")
    assert views.sector_stats(h.state, h.core.config, "c", h.now)["past_closing"] is True
    assert views.sector_stats(h.state, h.core.config, "a", h.now)["past_closing"] is False
    assert h.do("kiosk", "k1", type="ticket.issue", sector="c", accept_past_closing=False) == "past_closing"
    t = h.issue("c", accept_past_closing=True)
    assert t["number"] == "C011" and t["past_closing"] is True
    assert h.issue("c")["past_closing"] is True     # an older kiosk: printed, as before
    assert "past_closing" not in h.issue("a", accept_past_closing=False)


# --- overnight ---------------------------------------------------------------------------------

def test_overnight_keeps_the_days_waiting_tickets_and_numbers_go_on_after_them():
    h = Harness(visit_site({"overnight": True}), OldestFirstPolicy())
    h.issue("a")
    h.issue("a")
    h.issue("b")
    assert h.next("q1") == "A001"                     # called: the citizen has gone home by morning
    h.now = datetime(2026, 11, 25, 7, 30, tzinfo=TZ)
    t = h.issue("a")
    assert t["number"] == "A003" and t["ahead"] == 1
    day = [e for e in h.log if e.type == "day.started"][-1].data
    assert day["expired"] == ["20261124-A001"] and sorted(day["carried"]) == ["20261124-A002", "20261124-B001"]
    assert h.next("q1") == "A002"                     # yesterday's ticket first, in its place
    assert h.state.sectors["a"].issued_today == 1


def test_without_overnight_the_day_ends_as_before(h):
    h.issue("a")
    h.now = datetime(2026, 11, 25, 7, 30, tzinfo=TZ)
    assert h.issue("a")["number"] == "A001" and h.state.waiting_count("a") == 1
    assert "carried" not in [e for e in h.log if e.type == "day.started"][-1].data


# --- reports -----------------------------------------------------------------------------------

def test_reports_count_visits_and_procedures_apart_and_break_time_per_reason(h):
    from queue_server.reports import build_report
    t = issue_visit(h, ("b", "b1"), ("c", "c1"))
    h.issue("a")
    h.advance(2)
    h.next("q2")
    h.advance(6)
    h.do("counter", "q2", type="serve.done")
    h.advance(4)
    h.next("q3")
    h.advance(5)
    h.do("counter", "q3", type="serve.done")
    h.do("counter", "q3", type="counter.pause", reason="lunch")
    h.advance(30)
    h.do("counter", "q3", type="counter.open")
    h.do("counter", "q2", type="counter.pause", reason="files")
    h.advance(10)
    report = build_report(h.log, h.core.config, "2026-11-24", "2026-11-24", now=h.now)   # q2 still on a break
    assert (report.visit_count, report.procedure_count) == (2, 3)
    rows = {r.key: r for r in report.by_sector}
    assert (rows["b"].served, rows["c"].served, rows["a"].served) == (1, 1, 0)
    assert rows["c"].mean_wait_s == 4 * 60            # in its own queue, not since the ticket was printed
    assert {r.key: r.tickets for r in report.by_procedure}["c1"] == 1
    assert report.total.served == 2 and report.total.tickets == 3     # Decision 766 counts each procedure
    assert report.breaks == [{"counter": "q2", "reason": "files", "breaks": 1, "seconds": 600.0},
                             {"counter": "q3", "reason": "lunch", "breaks": 1, "seconds": 1800.0}]
    assert report.breaks_by_reason == {"files": 600.0, "lunch": 1800.0}
    assert report.to_dict()["visits"] == 2
    assert t["number"] == "B001"


# --- the simulator -----------------------------------------------------------------------------

def test_the_simulator_issues_visits_or_one_ticket_per_procedure_to_the_same_citizens():
    from pathlib import Path

    from queue_server.sim import Simulation, load_scenario
    from queue_server.sim.engine import draw_citizens
    from queue_server.sim.metrics import visit_figures
    scenarios = Path(__file__).resolve().parents[2] / "queue_server" / "sim" / "scenarios"
    sc = load_scenario(scenarios / "visits-two-procedures.yaml")
    with_visits = draw_citizens(sc, 1, 0)
    without = draw_citizens(dataclasses.replace(sc, visits=VisitShares()), 1, 0)
    # the same citizens and first procedures; about 30 % with a second one in another sector
    assert [(c.at, c.sector, c.procedure, c.service_s) for c in with_visits] == \
        [(c.at, c.sector, c.procedure, c.service_s) for c in without]
    multi = [c for c in with_visits if c.extra]
    assert 0.2 < len(multi) / len(with_visits) < 0.4
    assert all(len(c.extra) == 1 and c.extra[0][0] != c.sector for c in multi)
    figures = {}
    for mode in ("visit", "per-procedure"):
        days = Simulation(sc, "dynamic", seed=1, days=1, visits=mode, forecast=False).run()
        figures[mode] = (days[0].tickets, visit_figures(days))
    (t_visit, f_visit), (t_each, f_each) = figures["visit"], figures["per-procedure"]
    assert f_visit["visits"] == f_each["visits"] == len(with_visits)
    assert t_visit == len(with_visits)                      # one ticket a visit
    assert t_each > t_visit                                 # a new ticket after each service
    assert f_visit["mean_time_in_centre_multi_s"] < f_each["mean_time_in_centre_multi_s"]
    assert f_visit["visit_end_mae_s"] is not None and f_each["visit_end_mae_s"] is None
