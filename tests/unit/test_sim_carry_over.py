"""Days that carry over in the simulator (issue #16, scenario `carry_over`): nobody is called
after the closing, whoever still waits comes back at the next opening with a new ticket, and the
figures count them. A one-sector site and a few simulated hours a day: fast."""
from __future__ import annotations

import pytest

from queue_server.sim import Simulation, parse_scenario
from queue_server.sim.engine import draw_citizens
from queue_server.sim.metrics import carry_over_figures
from queue_server.sim.scenario import ScenarioError

OPEN_S, CLOSE_S = 8 * 3600, 11 * 3600
SITE = {
    "site": {"id": "cho", "name": {"vi": "Thử", "en": "Test"}, "hours": ["08:00-11:00"]},
    "sectors": [{"id": "a", "prefix": "A", "name": {"vi": "A", "en": "A"}, "target_wait_min": 10,
                 "procedures": [{"id": "p1", "name": {"vi": "Thủ tục 1", "en": "Procedure 1"}, "online": "none"}]}],
    "counters": [{"id": "q1", "label": {"vi": "Quầy 1", "en": "Counter 1"}, "sectors": ["a"]}]}


def scenario(carry_over: bool, rate: float = 14, days: int = 2, site=SITE, appointments=None):
    # one counter, 6-minute services: 10 an hour served, `rate` an hour come
    data = {"name": "cho", "site": site, "days": days, "seed": 5, "arrivals": {"a": {"08:00": rate, "11:00": 0}},
            "service_min": {"a": {"dist": "fixed", "mean": 6}}, "carry_over": carry_over}
    if appointments is not None:
        data["appointments"] = appointments
    return parse_scenario(data)


def run(sc):
    return Simulation(sc, "dynamic", forecast=False).run()


def test_nobody_is_called_after_closing_and_the_rest_come_back_the_next_morning():
    day1, day2 = run(scenario(True))
    assert all(r.issued_s + r.wait_s <= CLOSE_S for d in (day1, day2) for r in d.records)
    assert day1.carried > 0 and day1.never_called == 0
    # those sent home leave the hall at the closing
    assert day1.waiting_curve[-1] == (CLOSE_S, 0)
    back = [r for r in day2.records if r.extra_days == 1]
    # back at the opening, in front of the day's new citizens: the first served
    assert len(back) == day1.carried
    assert all(r.issued_s == OPEN_S for r in back)
    first = sorted(day2.records, key=lambda r: r.issued_s + r.wait_s)[:len(back)]
    assert all(r.extra_days == 1 for r in first)
    # the day's own citizens are those drawn without carry-over
    assert day2.tickets == len(draw_citizens(scenario(True), 5, 1)) + day1.carried


def test_without_carry_over_everyone_is_served_the_same_day_in_overtime():
    day1, _ = run(scenario(False))
    assert day1.carried == 0 and day1.never_called == 0
    assert day1.tickets == len(day1.records)
    assert any(r.issued_s + r.wait_s > CLOSE_S for r in day1.records)
    assert all(r.extra_days == 0 for r in day1.records)


def test_a_citizen_can_come_back_several_days_and_the_figures_count_them():
    days = run(scenario(True, rate=25, days=3))
    fig = carry_over_figures(days)
    assert fig["carried_over"] == sum(d.carried for d in days) > 0
    assert fig["extra_days_max"] >= 2      # 25 an hour against 10: the queue grows each day
    served_back = [r.extra_days for d in days for r in d.records if r.extra_days]
    assert fig["served_after_coming_back"] == len(served_back)
    assert fig["extra_days_mean"] == round(sum(served_back) / len(served_back), 2)
    assert fig["unserved_after_last_day"] == days[-1].carried > 0


def test_a_booked_citizen_not_served_comes_back_as_a_walk_in():
    days = run(scenario(True, rate=25, appointments={"share": 1.0, "no_show": 0.0,
                                                     "punctuality_min": {"mean": 0, "sd": 0}}))
    day1, day2 = days
    unserved = [b for b in day1.booked if b.called_s is None]
    assert unserved and day1.never_called == 0      # every booked citizen not called was sent home
    back = [r for r in day2.records if r.extra_days == 1]
    assert back and not any(r.booked for r in back)
    assert len(back) + day2.carried >= day1.carried    # each served, or sent home once more


def test_carry_over_and_a_site_that_keeps_tickets_overnight_are_refused():
    site = {**SITE, "site": {**SITE["site"], "overnight": True}}
    with pytest.raises(ScenarioError, match="carry_over"):
        scenario(True, site=site)
