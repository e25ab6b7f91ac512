"""The simulator's lead time (issue #16, docs/appointments.md "The simulator"): bookers book
`lead_days` before their visit, and with `later_days` a booker whose own day is full takes a later
day's first free slot. A tiny site (one counter, four 30-minute slots a day, every slot's counter
time bookable) over three days, through the real domain; who booked what is read back from the
event log (each simulated citizen's card hash is the hash of "seed:day:index")."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

import pytest

from queue_server.domain import events as ev
from queue_server.sim import Simulation, parse_scenario
from queue_server.sim.engine import draw_citizens
from queue_server.sim.scenario import ScenarioError

SEED = 5
SITE = {
    "site": {"id": "hen", "name": {"vi": "Thử", "en": "Test"}, "hours": ["08:00-10:00"]},
    "sectors": [{"id": "a", "prefix": "A", "name": {"vi": "A", "en": "A"}, "target_wait_min": 10,
                 "procedures": [{"id": "p1", "name": {"vi": "Thủ tục 1", "en": "Procedure 1"}, "fee_vnd": 0,
                                 "days": 0, "online": "none"}]}],
    "counters": [{"id": "q1", "label": {"vi": "Quầy 1", "en": "Counter 1"}, "sectors": ["a"]}],
    "bookings": {"share": 1.0, "slot_min": 30}}
EVERYONE_ON_TIME = {"share": 1.0, "no_show": 0.0, "punctuality_min": {"mean": 0, "sd": 0}}


def scenario(appointments, days=3):
    data = {"name": "lead", "site": SITE, "days": days, "seed": SEED,
            "arrivals": {"a": {"08:00": 6, "10:00": 0}}, "service_min": {"a": {"dist": "fixed", "mean": 30}}}
    if appointments is not None:
        data["appointments"] = appointments
    return parse_scenario(data)


def run(sc):
    events: list = []
    return Simulation(sc, "dynamic", forecast=False, record=events).run(), events


def bookings_by_citizen(sc, events) -> dict[tuple[int, int], dict]:
    """(day, index in the day's draw) -> their booking.created event's data, with its date."""
    who = {hashlib.sha256(f"{SEED}:{d}:{k}".encode()).hexdigest(): (d, k)
           for d in range(sc.days) for k in range(len(draw_citizens(sc, SEED, d)))}
    return {who[e.data["id_hash"]]: {**e.data, "made": e.ts[:10], "seq": e.seq}
            for e in events if e.type == ev.BOOKING_CREATED}


def test_the_default_lead_and_later_days_change_nothing():
    plain = run(scenario(EVERYONE_ON_TIME))
    default = run(scenario({**EVERYONE_ON_TIME, "lead_days": {0: 1.0}, "later_days": 0}))
    assert plain[0] == default[0]
    assert [(e.type, e.ts, e.data) for e in plain[1]] == [(e.type, e.ts, e.data) for e in default[1]]
    assert sum(d.booked_later + d.booked_past_end for d in plain[0]) == 0


def test_a_booker_two_days_ahead_books_first_and_keeps_the_slot_a_day_of_booker_would_take():
    same_day_sc = scenario(EVERYONE_ON_TIME)
    ahead_sc = scenario({**EVERYONE_ON_TIME, "lead_days": {0: 0.5, 2: 0.5}})
    (same_day, same_ev), (ahead, ahead_ev) = run(same_day_sc), run(ahead_sc)
    by_same, by_ahead = bookings_by_citizen(same_day_sc, same_ev), bookings_by_citizen(ahead_sc, ahead_ev)
    day2 = ahead_sc.date_of(2).isoformat()
    early = {c: b for c, b in by_ahead.items() if c[0] == 2 and b["made"] < day2}
    assert early and all(b["made"] == ahead_sc.date_of(0).isoformat() for b in early.values())   # two days before
    # Day 2's bookers of the day itself book at its midnight, after them: its four slots are
    # gone by then, so they find none and come as walk-ins.
    assert not any(c[0] == 2 and b["made"] == day2 for c, b in by_ahead.items())
    assert ahead[2].booking_refused > same_day[2].booking_refused - len(early)
    # Someone who booked two days ahead holds a slot that, all booking on the day, went to a
    # citizen who came earlier that day, while they themselves found none or a later one.
    won = [c for c, b in early.items()
           if (c not in by_same or by_same[c]["slot"] > b["slot"])
           and any(o != c and o[0] == 2 and ob["slot"] == b["slot"] for o, ob in by_same.items())]
    assert won
    assert ahead[2].booking_lead_days == 2 * len(early)


def test_later_days_moves_a_full_days_booker_to_the_next_days_first_free_slot():
    moving_sc, staying_sc = scenario({**EVERYONE_ON_TIME, "later_days": 1}), scenario(EVERYONE_ON_TIME)
    (moving, moving_ev), (staying, staying_ev) = run(moving_sc), run(staying_sc)
    by_moving, by_staying = bookings_by_citizen(moving_sc, moving_ev), bookings_by_citizen(staying_sc, staying_ev)
    day1, day2 = moving_sc.date_of(1).isoformat(), moving_sc.date_of(2).isoformat()
    moved = sorted((c for c, b in by_moving.items() if c[0] == 1 and b["day"] == day2), key=lambda c: c[1])
    assert moved and moving[2].booked_later == len(moved)
    # Booked at day 1's midnight, when day 2 had nothing booked: its first slots, in their order.
    first_slots = sorted(b["slot"] for c, b in by_moving.items() if b["day"] == day2)[:len(moved)]
    assert [by_moving[c]["slot"] for c in moved] == first_slots
    # They check in on day 2 and are served there.
    codes = {by_moving[c]["code"] for c in moved}
    checked = {e.data["code"]: e.data["ticket_id"] for e in moving_ev if e.type == ev.BOOKING_CHECKED_IN}
    served = {e.data["ticket_id"] for e in moving_ev if e.type == ev.TICKET_SERVED}
    assert codes <= set(checked) and all(checked[c].startswith(day2.replace("-", "")) for c in codes)
    assert all(checked[c] in served for c in codes)
    # Without later_days the same citizens found no slot and came as walk-ins on their own day.
    assert all(c not in by_staying for c in moved)
    walk_ins = [datetime.fromisoformat(e.data["ticket"]["issued_at"]).timestamp() for e in staying_ev
                if e.type == ev.TICKET_ISSUED and e.data["ticket"].get("booking") is None]
    for d, k in moved:
        the_day = moving_sc.date_of(d)
        midnight = datetime(the_day.year, the_day.month, the_day.day, tzinfo=moving_sc.site.site.tz).timestamp()
        came = midnight + draw_citizens(moving_sc, SEED, d)[k].at
        assert any(abs(t - came) < 1e-3 for t in walk_ins)
    assert staying[1].booking_refused >= len(moved) and staying[2].booked_later == 0
    # Day 2's own bookers then find its slots taken and move on past the last simulated day.
    assert moving[2].booked_past_end > 0


@pytest.mark.parametrize("bad, words", [
    ({"lead_days": {0: 0.5, 1: 0.4}}, "appointments.lead_days: Value error, the shares of the bookers sum to 0.9"),
    ({"lead_days": {}}, "sum to 0; they must sum to 1"),
    ({"lead_days": {0: 1.2, 1: -0.2}}, "appointments.lead_days[1]: Input should be greater than or equal to 0"),
    ({"lead_days": {61: 1.0}}, "appointments.lead_days[61].[key]: Input should be less than or equal to 60"),
    ({"lead_days": {-1: 1.0}}, "appointments.lead_days[-1].[key]: Input should be greater than or equal to 0"),
    ({"lead_days": {"soon": 1.0}}, "appointments.lead_days.soon.[key]: Input should be a valid integer"),
    ({"later_days": -1}, "appointments.later_days: Input should be greater than or equal to 0"),
])
def test_bad_lead_times_are_clear_errors(bad, words):
    with pytest.raises(ScenarioError) as err:
        scenario({**EVERYONE_ON_TIME, **bad})
    assert words in str(err.value)


def test_the_same_seed_gives_the_same_days():
    sc = scenario({**EVERYONE_ON_TIME, "lead_days": {0: 0.4, 1: 0.3, 2: 0.3}, "later_days": 2, "no_show": 0.2,
                   "punctuality_min": {"mean": -5, "sd": 5}})
    first, again = run(sc), run(sc)
    assert first[0] == again[0]
    assert [(e.type, e.ts, e.data) for e in first[1]] == [(e.type, e.ts, e.data) for e in again[1]]
    assert sum(d.bookings for d in first[0]) > 0


def test_a_lead_beyond_the_sites_days_ahead_books_when_the_day_opens():
    site = {**SITE, "bookings": {**SITE["bookings"], "days_ahead": 3}}
    sc = parse_scenario({"name": "lead", "site": site, "days": 6, "seed": SEED,
                         "arrivals": {"a": {"08:00": 2, "10:00": 0}}, "service_min": {"a": {"dist": "fixed", "mean": 30}},
                         "appointments": {**EVERYONE_ON_TIME, "lead_days": {5: 1.0}}})
    days, events = run(sc)
    made = bookings_by_citizen(sc, events)
    day5 = [b for (d, _), b in made.items() if d == 5]
    assert day5 and all(b["made"] == sc.date_of(2).isoformat() for b in day5)   # 3 days before, not 5
    assert days[5].booking_lead_days == 3 * days[5].bookings


def test_later_days_never_book_a_weekday_the_scenario_closes():
    """The site config knows nothing of the scenario's closed_weekdays, so the domain's next free
    slot may fall on one: the booker takes the next open day's instead, and every booking is
    played (none lost as 'past the end' inside the run)."""
    data = {"name": "lead", "site": SITE, "days": 8, "seed": SEED, "closed_weekdays": ["sat", "sun"],
            "arrivals": {"a": {"08:00": 6, "10:00": 0}}, "service_min": {"a": {"dist": "fixed", "mean": 30}},
            "appointments": {**EVERYONE_ON_TIME, "later_days": 3}}
    sc = parse_scenario(data)
    days, events = run(sc)
    booked = [date.fromisoformat(e.data["day"]) for e in events if e.type == ev.BOOKING_CREATED]
    played = {sc.date_of(d) for d in range(sc.days)}
    assert booked and all(d.weekday() < 5 for d in booked)
    assert sum(r.booked_later for r in days) > 0                     # days were full: some moved on
    assert sum(r.booked_past_end for r in days) == sum(1 for d in booked if d not in played)
