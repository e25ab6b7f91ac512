"""The simulator's appointments (issue #16): citizens book through the real booking.create,
check in through booking.check_in, and the figures of docs/appointments.md ("The simulator").
A small site and a few simulated hours each: fast."""
from __future__ import annotations

import pytest

from queue_server.domain import events as ev
from queue_server.sim import Simulation, parse_scenario
from queue_server.sim.engine import draw_citizens
from queue_server.sim.metrics import appointment_figures
from queue_server.sim.scenario import ScenarioError

SITE = {
    "site": {"id": "hen", "name": {"vi": "Thử", "en": "Test"}, "hours": ["08:00-11:00"]},
    "sectors": [{"id": "a", "prefix": "A", "name": {"vi": "A", "en": "A"}, "target_wait_min": 10,
                 "procedures": [{"id": "p1", "name": {"vi": "Thủ tục 1", "en": "Procedure 1"}, "fee_vnd": 0,
                                 "days": 0, "online": "none"}]}],
    "counters": [{"id": "q1", "label": {"vi": "Quầy 1", "en": "Counter 1"}, "sectors": ["a"]},
                 {"id": "q2", "label": {"vi": "Quầy 2", "en": "Counter 2"}, "sectors": ["a"]}]}


def scenario(appointments=None, rate=10, days=1):
    data = {"name": "hen", "site": SITE, "days": days, "seed": 3, "arrivals": {"a": {"08:00": rate, "11:00": 0}},
            "service_min": {"a": {"dist": "fixed", "mean": 6}}}
    if appointments is not None:
        data["appointments"] = appointments
    return parse_scenario(data)


def run(sc, record=None):
    return Simulation(sc, "dynamic", forecast=False, record=record).run()


def test_without_the_section_the_same_citizens_and_waits():
    plain, none_book = scenario(), scenario({"share": 0.0})
    assert draw_citizens(plain, 3, 0) == draw_citizens(none_book, 3, 0)
    a, b = run(plain)[0], run(none_book)[0]
    assert [(r.issued_s, r.wait_s) for r in a.records] == [(r.issued_s, r.wait_s) for r in b.records]
    assert b.bookings == 0 and not b.booked


def test_bookers_book_and_check_in_through_the_domain():
    events: list = []
    sc = scenario({"share": 1.0, "no_show": 0.0, "punctuality_min": {"mean": 0, "sd": 0}})
    day = run(sc, events)[0]
    citizens = draw_citizens(sc, 3, 0)
    assert day.bookings + day.booking_refused == len(citizens)
    assert day.bookings > 0
    kinds = [e.type for e in events]
    assert kinds.count(ev.BOOKING_CREATED) == day.bookings
    assert kinds.count(ev.BOOKING_CHECKED_IN) == day.bookings == len(day.booked)
    # On time at their slot's start: every one called, none before the slot
    assert all(b.outcome == "on_time" and b.called_s is not None and b.called_s >= b.slot_s for b in day.booked)
    assert day.never_called == 0
    fig = appointment_figures([day])
    assert fig["bookings"] == day.bookings and fig["booked_checked_in"] == len(day.booked)
    assert 0 < fig["utilisation"] <= 1


def test_an_early_citizen_waits_for_the_slot_in_the_hall():
    sc = scenario({"share": 1.0, "no_show": 0.0, "punctuality_min": {"mean": -20, "sd": 0}}, rate=2)
    day = run(sc)[0]
    assert day.booked and all(b.outcome == "early" for b in day.booked)
    # held until the slot's start, then called at once (two counters, a light load)
    assert all(b.called_s is not None and b.slot_s <= b.called_s <= b.slot_s + 600 for b in day.booked)
    # they are counted in the hall from their check-in
    first = min(b.checked_in_s for b in day.booked)
    assert any(t == first and w >= 1 for t, w in day.waiting_curve)


def test_unused_bookings_never_come_and_are_no_shows_the_next_day():
    events: list = []
    day1, _ = run(scenario({"share": 1.0, "no_show": 1.0}, days=2), events)
    assert day1.bookings > 0 and day1.booked_no_show == day1.bookings and not day1.booked
    no_shows = [e for e in events if e.type == ev.BOOKING_NO_SHOW]
    assert len(no_shows) == day1.bookings


def test_a_full_day_sends_the_rest_in_as_walk_ins():
    day = run(scenario({"share": 1.0, "no_show": 0.0}, rate=40))[0]
    assert day.booking_refused > 0
    assert day.tickets == day.bookings + day.booking_refused


@pytest.mark.parametrize("bad, field", [({"share": 1.5}, "appointments.share"),
                                        ({"share": 0.5, "no_show": -1}, "appointments.no_show"),
                                        ({"share": 0.5, "punctuality_min": {"sd": -1}}, "appointments.punctuality_min.sd"),
                                        ({"share": 0.5, "lead": 3}, "appointments.lead")])
def test_a_bad_appointments_section_names_the_field(bad, field):
    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
        scenario(bad)


def test_the_events_of_a_day_with_bookings_stay_in_time_order():
    events: list = []
    run(scenario({"share": 0.5, "punctuality_min": {"mean": -25, "sd": 3}}, days=2), events)
    stamps = [e.ts for e in events]
    assert stamps == sorted(stamps)
