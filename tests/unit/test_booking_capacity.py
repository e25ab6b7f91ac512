"""A booking slot's capacity follows the roster as planned (issue #16, domain/bookings.py): the
counters staffed in the slot (their `hours`, else the site's unless they start closed) that serve
the sector (their `sectors`, evenly; with auto mode on, their `trained` list, by the work each
sector brought at that hour on earlier days), times the share for bookings, over the learned mean
service."""
from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.domain import bookings
from queue_server.domain.site import parse_site
from tests.support.booking_site import DAY, book, site
from tests.support.domain_harness import TZ, Harness, small_site

SECTORS = ("a", "b", "c")


def _config(counters, hours=("07:30-11:30", "13:30-17:00")):
    d = small_site().model_dump()
    d["site"]["hours"] = list(hours)
    d["counters"] = counters
    d["bookings"] = {"slot_min": 30}
    return parse_site(d)


def _counter(i, sectors, trained=None, status="open", hours=()):
    return {"id": f"q{i}", "label": {"vi": f"Quầy {i}", "en": f"Counter {i}"}, "sectors": list(sectors),
            "trained": list(trained or sectors), "initial_status": status, "hours": list(hours)}


def _at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{DAY}T{hhmm}").replace(tzinfo=TZ)


def _time_s(config, sector, a, b, auto=False):
    state = Harness(config).state
    state.auto_mode = auto
    return bookings.counter_time_s(state, config, sector, _at(a), _at(b))


def test_a_counter_counts_only_while_the_roster_staffs_it():
    config = _config([_counter(1, ["a"], hours=["07:30-09:00"]), _counter(2, ["a", "b"]),
                      _counter(3, ["a"], status="closed", hours=["10:00-11:30"]), _counter(4, ["a"], status="closed")])
    # 08:45-09:15: q1 until 09:00 (15 min), q2 half of its 30 min; q3 not yet; q4 a spare never planned
    assert _time_s(config, "a", "08:45", "09:15") == 15 * 60 + 15 * 60
    assert _time_s(config, "a", "09:00", "09:30") == 15 * 60                   # q2's half only
    assert _time_s(config, "a", "10:00", "10:30") == 15 * 60 + 30 * 60         # the spare planned from 10:00
    assert _time_s(config, "b", "08:45", "09:15") == 15 * 60


def test_auto_mode_spreads_a_counter_over_its_trained_sectors():
    config = _config([_counter(1, ["a"], trained=["a", "c"]), _counter(2, ["c"])])
    assert _time_s(config, "c", "08:00", "08:30") == 30 * 60                   # q2 only
    assert _time_s(config, "c", "08:00", "08:30", auto=True) == 30 * 60 + 15 * 60
    assert _time_s(config, "a", "08:00", "08:30", auto=True) == 15 * 60


def test_in_auto_mode_a_counter_s_time_follows_the_work_each_sector_brings():
    """q1 serves a, trained for c too; earlier days brought 6 of a and none of c at 08:00-08:30."""
    config = _config([_counter(1, ["a"], trained=["a", "c"]), _counter(2, ["c"])])
    state = Harness(config).state
    state.auto_mode = True
    state.sectors["a"].arrival_profile["16"] = 6.0                 # the half hour 08:00-08:30
    a = bookings.counter_time_s(state, config, "a", _at("08:00"), _at("08:30"))
    c = bookings.counter_time_s(state, config, "c", _at("08:00"), _at("08:30"))
    # a: q1's 1 / 1.1 of its time; c: q2's all and q1's floor (0.1 / 1.1): quiet, still bookable
    assert round(a) == round(1800 / 1.1) and round(c) == round(1800 + 180 / 1.1)
    assert abs(a + c - 3600) < 1e-6
    assert bookings.counter_time_s(state, config, "a", _at("09:00"), _at("09:30")) == 900   # nothing learned then


def test_the_free_slots_follow_the_roster_and_the_learned_service():
    """One counter for sector a, planned 07:30-09:00; 5 min service, half for bookings: 3 a slot."""
    d = site().model_dump()
    d["counters"] = [_counter(1, ["a"], hours=["07:30-09:00"]), _counter(2, ["b", "c"])]
    h = Harness(parse_site(d), start=datetime(2026, 11, 23, 12, 0, tzinfo=TZ))      # the day before
    now = h.now
    free = {s["slot"][11:]: s["free"] for s in bookings.free_slots(h.state, h.core.config, "p1", _at("00:00").date(), now)}
    assert free == {"07:30": 3, "08:00": 3, "08:30": 3}                        # nothing after 09:00
    assert book(h, "09:00") == "booking_full"                                  # the next day's 07:30 offered
    assert book(h, "08:30")["booking"]["slot"] == f"{DAY}T08:30"
    # Earlier days taught the centre that sector a takes 10 minutes: half as many fit
    h.state.sectors["a"].service_mean_days = 600.0
    free = {s["slot"][11:]: s["free"] for s in bookings.free_slots(h.state, h.core.config, "p1", _at("00:00").date(), now)}
    # 900 s for bookings a slot: one of 600 s; at 08:30 the booking made holds the 300 s it was made with
    assert free == {"07:30": 1, "08:00": 1, "08:30": 1}


_hhmm = st.integers(min_value=7 * 4, max_value=17 * 4 - 1).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}")


@st.composite
def rosters(draw):
    counters = []
    for i in range(1, draw(st.integers(1, 5)) + 1):
        sectors = draw(st.lists(st.sampled_from(SECTORS), min_size=1, max_size=3, unique=True))
        extra = draw(st.lists(st.sampled_from(SECTORS), max_size=3, unique=True))
        trained = sectors + [s for s in extra if s not in sectors]
        hours = []
        if draw(st.booleans()):
            a, b = sorted(draw(st.lists(_hhmm, min_size=2, max_size=2, unique=True)))
            hours = [f"{a}-{b}"]
        counters.append(_counter(i, sectors, trained, draw(st.sampled_from(["open", "paused", "closed"])), hours))
    return counters


@settings(max_examples=150, deadline=None)
@given(roster=rosters(), start=_hhmm, auto=st.booleans(),
       arrivals=st.lists(st.floats(min_value=0, max_value=50), min_size=3, max_size=3))
def test_the_sectors_capacities_add_up_to_the_counters_planned_time(roster, start, auto, arrivals):
    """No counter time is counted twice or lost: over the sectors, exactly the staffed counter time
    of the slot; and no sector gets more than the slot's length per counter staffed."""
    config = _config(roster)
    a = _at(start)
    b = a + timedelta(minutes=30)
    state = Harness(config).state
    state.auto_mode = auto
    for sector, n in zip(SECTORS, arrivals):          # what earlier days brought at that half hour
        state.sectors[sector].arrival_profile[str((a.hour * 3600 + a.minute * 60) // 1800)] = n
    per_sector = {s: bookings.counter_time_s(state, config, s, a, b) for s in SECTORS}
    planned = [bookings.planned_s(config, c, a, b) for c in config.counters]
    assert abs(sum(per_sector.values()) - sum(planned)) < 1e-6
    assert all(0 <= p <= 30 * 60 for p in planned)
    staffed = sum(1 for p in planned if p > 0)
    assert all(v <= staffed * 30 * 60 + 1e-6 for v in per_sector.values())


def test_a_counters_bad_hours_are_named():
    import pytest
    from queue_server.domain.site import SiteConfigError
    with pytest.raises(SiteConfigError, match=r"counters\[0\]\.hours: .*'10:00-09:00' is not an opening period"):
        _config([_counter(1, ["a"], hours=["10:00-09:00"])])
