"""Learning a centre's days from its event log (queue_server/planning/history.py), on hand-made
event lists whose answer is known: arrival rates, weekday and day-of-month effects, closed
weekdays, service times, shares, the counters as they were, and the clear errors."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from queue_server.config import load_site
from queue_server.domain import events as ev
from queue_server.domain.events import Event
from queue_server.planning.history import HistoryError, learn_events, learn_scenario, window

SITE = load_site(Path(__file__).resolve().parents[2] / "queue_server" / "sim" / "site-sample.yaml")
TZ = SITE.site.tz
MONDAY = date(2026, 3, 2)


def at(day: date, clock: str, plus_s: float = 0.0) -> datetime:
    h, m = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=TZ) + timedelta(seconds=plus_s)


class Log:
    """Events as the domain writes them (the fields the learning reads), numbered in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: str, when: datetime, **data) -> None:
        self.events.append(Event(len(self.events) + 1, kind, when.isoformat(), data))

    def ticket(self, when: datetime, sector: str, procedure: str | None = None, priority: str = "normal",
               wait_s: float | None = None, service_s: float | None = None, counter: str = "q1",
               no_show: bool = False) -> None:
        tid = f"{when:%Y%m%d}-{len(self.events)}"
        self.add(ev.TICKET_ISSUED, when, ticket={"id": tid, "sector": sector, "procedure": procedure,
                                                 "priority": priority}, seq_in_sector=1)
        if wait_s is None:
            return
        called = when + timedelta(seconds=wait_s)
        self.add(ev.TICKET_CALLED, called, ticket_id=tid, counter=counter, sector=sector, wait_s=wait_s)
        if no_show:
            self.add(ev.TICKET_NO_SHOW, called + timedelta(seconds=60), ticket_id=tid, counter=counter, waited_s=60)
        elif service_s is not None:
            self.add(ev.TICKET_SERVED, called + timedelta(seconds=service_s), ticket_id=tid, counter=counter,
                     outcome="completed", service_s=service_s)

    def many(self, day: date, clock: str, n: int, sector: str = "tu-phap-ho-tich", **kw) -> None:
        """`n` tickets spread over the half-hour from `clock`, each served in 5 minutes."""
        for i in range(n):
            self.ticket(at(day, clock, i * 1800 / n), sector, wait_s=kw.pop("wait_s", 60),
                        service_s=300, **kw)


def days(n: int, start: date = MONDAY) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def test_rates_per_half_hour_are_the_mean_over_the_days_with_a_step_only_where_they_differ():
    log = Log()
    for d in days(14):
        log.many(d, "08:00", 10)
        log.many(d, "08:30", 4)
        log.many(d, "13:30", 6, sector="dat-dai")
        log.many(d, "14:00", 7, sector="dat-dai")        # 12 vs 14 an hour: no evidence of a change
    h = learn_events(log.events, SITE, weeks=2)
    assert (h.start, h.end, len(h.days)) == (MONDAY, MONDAY + timedelta(days=13), 14)
    tp = h.arrivals["tu-phap-ho-tich"]
    assert tp == {8 * 3600: pytest.approx(20.0), 8 * 3600 + 1800: pytest.approx(8.0)}
    dd = h.arrivals["dat-dai"]
    assert list(dd.values()) == pytest.approx([13.0, 13.0])     # one merged step: (6 + 7) tickets an hour
    data = h.scenario_data("site.yaml")
    assert data["arrivals"]["tu-phap-ho-tich"] == {"08:00": 20.0, "08:30": 8.0, "09:00": 0.0}
    assert data["arrivals"]["dat-dai"] == {"13:30": 13.0, "14:30": 0.0}
    assert data["days"] == 14 and "weekday_arrivals" not in data and "day_of_month_factor" not in data


def test_a_weekday_that_differs_gets_its_own_profile_and_the_others_share_one():
    log = Log()
    for d in days(21):
        log.many(d, "08:00", 30 if d.weekday() == 0 else 10)
    h = learn_events(log.events, SITE, weeks=3)
    assert list(h.weekday_arrivals) == [0]
    assert h.weekday_arrivals[0]["tu-phap-ho-tich"][8 * 3600] == pytest.approx(60.0)
    assert h.arrivals["tu-phap-ho-tich"][8 * 3600] == pytest.approx((3 * 60 + 18 * 20) / 21)
    sc, _ = learn_scenario(log.events, SITE, weeks=3)
    assert sc.arrivals_on(date(2026, 3, 9))["tu-phap-ho-tich"][0] == (8 * 3600, pytest.approx(60.0))
    assert sc.arrivals_on(date(2026, 3, 10))["tu-phap-ho-tich"][0][1] == pytest.approx(
        h.arrivals["tu-phap-ho-tich"][8 * 3600], abs=1e-3)   # the file rounds rates to 3 decimals


def test_weekdays_never_open_are_closed_and_the_simulated_days_skip_them():
    log = Log()
    for d in days(14):
        if d.weekday() < 5:
            log.many(d, "09:00", 8)
    h = learn_events(log.events, SITE, weeks=2)
    assert h.closed_weekdays == [5, 6] and len(h.days) == 10 and not h.weekday_arrivals
    sc, _ = learn_scenario(log.events, SITE, weeks=2)
    assert sc.days == 10 and [sc.date_of(i).weekday() for i in range(7)] == [0, 1, 2, 3, 4, 0, 1]
    # The log ends on a Friday: its two weeks start on the Saturday before its first Monday.
    assert h.start == MONDAY - timedelta(days=2) and h.end == MONDAY + timedelta(days=11)


def test_a_day_of_the_month_that_stands_out_gets_a_multiplier():
    log = Log()
    for d in days(28):
        for clock in ("07:30", "08:00", "08:30", "09:00"):
            log.many(d, clock, 50 if d.day == 27 else 25)
    h = learn_events(log.events, SITE, weeks=4)
    assert list(h.day_of_month_factor) == [27]
    assert h.day_of_month_factor[27] == pytest.approx(200 / (100 * 27 / 28 + 200 / 28), rel=1e-6)
    assert not h.weekday_arrivals        # one busy Friday does not make Fridays different
    assert h.scenario_data("s.yaml")["day_of_month_factor"] == {27: pytest.approx(h.day_of_month_factor[27], abs=1e-3)}


def test_service_times_shares_and_the_days_mean_wait():
    log = Log()
    for d in days(7):
        log.ticket(at(d, "08:00"), "tu-phap-ho-tich", "khai-sinh", wait_s=100, service_s=240, counter="q1")
        log.ticket(at(d, "08:10"), "tu-phap-ho-tich", "ket-hon", "elderly", wait_s=300, service_s=720, counter="q2")
        log.ticket(at(d, "08:20"), "tu-phap-ho-tich", "khai-sinh", wait_s=200, service_s=360, counter="q1")
        log.ticket(at(d, "08:30"), "tu-phap-ho-tich", "khai-sinh", wait_s=400, no_show=True, counter="q2")
    h = learn_events(log.events, SITE, weeks=1)
    tp = h.service["tu-phap-ho-tich"]
    assert tp.n == 21 and tp.mean_s == pytest.approx(440.0)
    assert tp.cv == pytest.approx((((240 - 440) ** 2 + (720 - 440) ** 2 + (360 - 440) ** 2) / 3) ** 0.5 / 440)
    assert h.procedure_service["khai-sinh"].mean_s == pytest.approx(300.0)
    assert h.procedure_service["ket-hon"].cv == 0.0
    assert h.counter_service["q1"].mean_s == pytest.approx(300.0) and h.counter_service["q2"].n == 7
    assert h.procedure_share["tu-phap-ho-tich"] == {"khai-sinh": 0.75, "ket-hon": 0.25}
    assert h.no_show == pytest.approx(0.25) and h.priority_share == pytest.approx(0.25)
    assert h.mean_wait_s == pytest.approx(250.0)
    assert h.scenario_data("s.yaml")["service_min"]["tu-phap-ho-tich"] == {
        "dist": "lognormal", "mean": pytest.approx(440 / 60, abs=1e-3), "cv": pytest.approx(tp.cv, abs=1e-3)}


def test_cancelled_tickets_are_not_arrivals():
    log = Log()
    for d in days(7):
        log.many(d, "08:00", 4)
        log.ticket(at(d, "08:05"), "tu-phap-ho-tich")
        log.add(ev.TICKET_CANCELLED, at(d, "08:06"), ticket_id=log.events[-1].data["ticket"]["id"], by="citizen")
    h = learn_events(log.events, SITE, weeks=1)
    assert h.tickets == 28 and h.arrivals["tu-phap-ho-tich"][8 * 3600] == pytest.approx(8.0)


def test_the_counters_as_they_were_at_opening_and_the_changes_of_a_usual_day():
    log = Log()
    log.add(ev.COUNTER_SECTORS, at(MONDAY, "07:00"), counter="q3", sectors=["tu-phap-ho-tich"],
            previous=["ly-lich-tu-phap", "tu-phap-ho-tich"], override=False, reason=None, by="manager")
    for i, d in enumerate(days(14)):
        log.many(d, "08:00", 5)
        log.add(ev.COUNTER_STATUS, at(d, "07:30"), counter="q6", status="open", by="sim")
        log.add(ev.COUNTER_STATUS, at(d, "10:00", 60 * (i % 5)), counter="q6", status="closed", by="sim")
        if i == 3:   # once, not a usual day
            log.add(ev.COUNTER_STATUS, at(d, "14:00"), counter="q8", status="paused", by="q8")
            log.add(ev.COUNTER_STATUS, at(d, "14:20"), counter="q8", status="open", by="q8")
        if i == 5:   # a move within a day is the policy's, not the roster's
            log.add(ev.COUNTER_SECTORS, at(d, "09:00"), counter="q1", sectors=["tra-ket-qua"],
                    previous=["tu-phap-ho-tich", "tra-ket-qua"], override=False, reason=None, by="auto")
            log.add(ev.COUNTER_SECTORS, at(d, "15:00"), counter="q1", sectors=["tu-phap-ho-tich", "tra-ket-qua"],
                    previous=["tra-ket-qua"], override=False, reason=None, by="auto")
    h = learn_events(log.events, SITE, weeks=2)
    assert h.counters["q3"].sectors == ("tu-phap-ho-tich",)
    assert h.counters["q1"].sectors == ("tu-phap-ho-tich", "tra-ket-qua")
    assert {c.status for c in h.counters.values()} == {"open"}
    assert h.counter_changes == [(10 * 3600 + 120, "q6", "closed")]     # the median of 10:00..10:04
    data = h.scenario_data("s.yaml")
    assert data["counter_changes"] == [{"at": "10:02", "counter": "q6", "status": "closed"}]
    q3 = next(c for c in data["counters"] if c["id"] == "q3")
    assert q3["sectors"] == ["tu-phap-ho-tich"] and q3["trained"] == ["ly-lich-tu-phap", "tu-phap-ho-tich"]


def test_a_counter_usually_closed_at_opening_starts_closed_and_opens_at_its_usual_time():
    log = Log()
    for d in days(7):
        log.many(d, "08:00", 5)
        log.add(ev.COUNTER_STATUS, at(d, "08:15"), counter="q8", status="open", by="q8")
        log.add(ev.COUNTER_STATUS, at(d, "16:30"), counter="q8", status="closed", by="q8")
    h = learn_events(log.events, SITE, weeks=1)
    assert h.counters["q8"].status == "closed"
    assert h.counter_changes == [(8 * 3600 + 900, "q8", "open"), (16 * 3600 + 1800, "q8", "closed")]
    sc, _ = learn_scenario(log.events, SITE, weeks=1)
    assert sc.site.counter_by_id["q8"].initial_status == "closed"
    assert [(c.at, c.counter, c.status) for c in sc.counter_changes] == [("08:15", "q8", "open"), ("16:30", "q8", "closed")]


def test_the_window_is_the_last_whole_weeks_and_a_short_log_is_a_clear_error():
    assert window(MONDAY, MONDAY + timedelta(days=30), 2) == (MONDAY + timedelta(days=17), MONDAY + timedelta(days=30))
    short = Log()
    for d in days(10):
        short.many(d, "08:00", 2)
    with pytest.raises(HistoryError, match=r"covers 10 days \(2026-03-02 to 2026-03-11\), fewer than the 2 week\(s\) asked; use --weeks 1"):
        learn_events(short.events, SITE, weeks=2)
    with pytest.raises(HistoryError, match="at least one whole week"):
        learn_events(short.events[:20], SITE, weeks=1)
    log = Log()
    for d in days(21):
        log.many(d, "08:00", 2 if d < MONDAY + timedelta(days=7) else 6)
    h = learn_events(log.events, SITE, weeks=2)
    assert h.start == MONDAY + timedelta(days=7) and h.arrivals["tu-phap-ho-tich"][8 * 3600] == pytest.approx(12.0)


def test_a_log_with_no_days_or_of_another_site_is_a_clear_error():
    with pytest.raises(HistoryError, match="no days"):
        learn_events([], SITE)
    log = Log()
    log.add(ev.COUNTER_STATUS, at(MONDAY, "07:30"), counter="q1", status="open", by="q1")
    with pytest.raises(HistoryError, match="no days"):
        learn_events(log.events, SITE)
    for d in days(7):
        log.many(d, "08:00", 3, sector="cap-phep-lai-xe")
    with pytest.raises(HistoryError, match="not of site 'demo-district'.*sector 'cap-phep-lai-xe'"):
        learn_events(log.events, SITE, weeks=1)


def test_a_transfer_is_an_arrival_of_the_sector_it_sends_the_citizen_to():
    log = Log()
    for d in days(7):
        log.many(d, "08:00", 2)
        tid = log.events[-3].data["ticket"]["id"]      # the last ticket: issued, called, served
        log.events.pop()                                # ... not served: sent on to Land
        log.add(ev.TICKET_TRANSFERRED, at(d, "08:40"), ticket_id=tid, counter="q1", from_sector="tu-phap-ho-tich",
                to_sector="dat-dai", note=None, service_s=120)
    h = learn_events(log.events, SITE, weeks=1)
    assert h.arrivals["dat-dai"] == {8 * 3600 + 1800: pytest.approx(2.0)}
    assert h.service["tu-phap-ho-tich"].n == 14 and h.tickets == 14


def test_an_event_not_as_the_domain_writes_it_is_a_clear_error():
    log = Log()
    for d in days(7):
        log.many(d, "08:00", 2)
    log.add(ev.TICKET_ISSUED, at(MONDAY, "09:00"), ticket={"sector": "dat-dai"})   # no id
    with pytest.raises(HistoryError, match=r"event \d+ \(ticket.issued\) of the log is not as the domain writes it"):
        learn_events(log.events, SITE, weeks=1)


def _scenario(**extra):
    from queue_server.sim.scenario import parse_scenario
    data = {"name": "t", "site": str(Path(__file__).resolve().parents[2] / "queue_server" / "sim" / "site-sample.yaml"),
            "arrivals": {"tu-phap-ho-tich": {"08:00": 20, "09:00": 0}},
            "service_min": {"tu-phap-ho-tich": {"mean": 5}, "dat-dai": {"mean": 10}}, **extra}
    return parse_scenario(data)


def test_the_scenario_fields_the_learning_writes_are_validated_and_simulated():
    from queue_server.sim.engine import draw_citizens
    from queue_server.sim.scenario import ScenarioError
    sc = _scenario(weekday_arrivals={"mon": {"dat-dai": {"13:30": 30, "14:00": 0}}},
                   day_of_month_factor={3: 2.0}, closed_weekdays=["sat", "sun"])
    assert [str(sc.date_of(i)) for i in (0, 4, 5)] == ["2026-03-02", "2026-03-06", "2026-03-09"]
    monday, tuesday, next_monday = (draw_citizens(sc, 1, d) for d in (0, 1, 5))
    assert {c.sector for c in monday} == {c.sector for c in next_monday} == {"dat-dai"}
    assert {c.sector for c in tuesday} == {"tu-phap-ho-tich"}
    assert sc.arrivals_on(date(2026, 3, 3)) == {"tu-phap-ho-tich": [(8 * 3600, 40.0), (9 * 3600, 0.0)]}
    for bad, said in [({"weekday_arrivals": {"someday": {}}}, "weekday_arrivals.someday"),
                      ({"weekday_arrivals": {"sat": {"nope": {"08:00": 1}}}}, "weekday_arrivals.sat.nope: not a sector"),
                      ({"weekday_arrivals": {"sat": {"dat-dai": {"8:00": 1}}}}, "'8:00' is not a time of day"),
                      ({"day_of_month_factor": {32: 1.0}}, "day_of_month_factor"),
                      ({"closed_weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}, "closed_weekdays")]:
        with pytest.raises(ScenarioError, match=said):
            _scenario(**bad)


def test_a_quiet_sector_is_not_spread_over_the_lunch_break():
    log = Log()
    for d in days(7):
        log.many(d, "08:00", 4)
    for clock in ("10:00", "11:00", "13:30"):               # three tickets a week, either side of lunch
        log.many(MONDAY, clock, 1, sector="xay-dung")
    h = learn_events(log.events, SITE, weeks=1)
    xd = h.arrivals["xay-dung"]
    morning, lunch = [10 * 3600 + i * 1800 for i in range(3)], [11 * 3600 + 1800 + i * 1800 for i in range(4)]
    assert [xd[s] for s in morning] == pytest.approx([2 / 10.5] * 3)     # one step: 2 tickets over 3 half-hours
    assert [xd[s] for s in lunch] == [0.0] * 4 and xd[13 * 3600 + 1800] == pytest.approx(1 / 3.5)
