"""A day's report counts the bookings made on earlier days (queue_server/reports/source.py): the
log read back from a real SQLite file, as the reports page reads it."""
from __future__ import annotations

from datetime import date, timedelta

from queue_server.reports import build_report
from queue_server.reports.source import events_for_days
from queue_server.store.log import EventStore
from tests.support.booking_site import ANA, BAO, DAY, book, check_in, site
from tests.support.domain_harness import Harness


def test_a_booking_made_days_before_counts_in_its_days_report(tmp_path):
    h = Harness(site())
    later = (date.fromisoformat(DAY) + timedelta(days=2)).isoformat()
    kept = book(h, f"{later}T08:30")["booking"]["code"]
    book(h, f"{later}T09:00", who=BAO)                    # never comes
    h.issue("a")                                            # today's walk-in
    h.advance(minutes=24 * 60)
    h.issue("a")                                            # a day in between, with its own day.started
    h.advance(minutes=24 * 60 + 40)                         # the booked day, 08:10
    assert check_in(h, code=kept)["check_in"]["outcome"] == "early"
    h.advance(minutes=24 * 60)                              # the day after: the 09:00 booking is a no-show
    h.issue("a")
    store = EventStore(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        store.append(h.log, [])
        day_report = build_report(events_for_days(store, later, later), h.core.config,
                                  later, later).to_dict()["bookings"]
        first_day = build_report(events_for_days(store, DAY, DAY), h.core.config, DAY, DAY).to_dict()["bookings"]
    finally:
        store.close()
    a = day_report["by_sector"][0]
    assert (a["sector"], a["booked"], a["came"], a["no_show"]) == ("a", 2, 1, 1)
    assert day_report["came_by_booking"] == 1
    assert first_day["came_by_booking"] == 0 and not first_day["by_sector"]    # none of them was for that day
    assert ANA not in repr(day_report)
