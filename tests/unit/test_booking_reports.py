"""Booking figures in the reports (issue #16, queue_server/reports/bookings.py), from a day run
through the real domain: the share of citizens who came by a booking, no-shows, punctuality and
the wait after the slot, per sector and slot."""
from __future__ import annotations

from queue_server.domain import commands as C
from queue_server.reports import build_report
from tests.support.domain_harness import Harness
from tests.support.booking_site import ANA, BAO, DAY, book, check_in, site


def test_share_no_shows_and_punctuality():
    h = Harness(site())
    early = book(h, "08:30")["booking"]["code"]
    late = book(h, "08:00", who=BAO)["booking"]["code"]
    gone = book(h, "10:00", who="c" * 64)["booking"]["code"]
    dropped = book(h, "11:00", who="d" * 64, procedure="p2")["booking"]["code"]
    h.command("web", "web", C.CancelBooking(code=dropped, id_hash="d" * 64))
    h.issue("a")                                     # A001 walk-in, 07:30
    h.advance(minutes=40)                            # 08:10: 20 minutes before 08:30
    assert check_in(h, code=early)["check_in"]["outcome"] == "early"
    h.advance(minutes=10)                            # 08:20: 20 minutes after 08:00
    assert check_in(h, code=late)["check_in"]["outcome"] == "late"
    assert h.next("q1") == "A001"
    h.advance(minutes=15)                            # 08:35: the early one is due since 08:30
    called = h.next("q1")
    assert h.state.tickets[h.state.bookings[early].ticket_id].number == called
    h.advance(minutes=24 * 60)                       # the next day: the 10:00 booking is a no-show
    h.issue("b")
    r = build_report(h.log, h.core.config, DAY, DAY).to_dict()["bookings"]
    assert r["citizens"] == 3                        # A001 and the two booked citizens' tickets
    assert (r["came_by_booking"], r["came_by_remote"], r["booked_share_pct"]) == (2, 0, 66.7)
    a = r["by_sector"][0]
    assert (a["sector"], a["booked"], a["came"], a["late"], a["no_show"], a["cancelled"]) == ("a", 4, 2, 1, 1, 1)
    assert a["no_show_pct"] == 33.3 and a["late_pct"] == 50.0
    assert a["mean_punctuality_min"] == 0.0          # -20 and +20 minutes
    slots = {(x["slot"], x["sector"]): x for x in r["by_slot"]}
    assert slots[("08:30", "a")]["p90_wait_after_slot_s"] == 300.0     # called at 08:35
    assert slots[("08:00", "a")]["p90_wait_after_slot_s"] is None      # late: a walk-in from check-in
    assert slots[("10:00", "a")]["no_show"] == 1
    assert ANA and gone
