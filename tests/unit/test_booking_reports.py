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


def test_booked_remote_and_walk_in_waits_side_by_side_and_the_online_766_figures():
    """07:30 a walk-in and two tickets from phones; a booking at 08:00 made on the site's pages and
    one at 08:30 by a clerk (`cli`: not an online channel). One phone's ticket lapses."""
    h = Harness(site())
    h.issue("a")                                                            # A001, the walk-in
    remote = h.command("web", "web", C.RemoteTicket(procedure="p1", id_hash=ANA))["booking"]["code"]
    h.command("web", "web", C.RemoteTicket(procedure="p2", id_hash=BAO))    # never checked in
    online = book(h, "08:00", who="c" * 64)["booking"]["code"]
    by_clerk = book(h, "08:30", who="d" * 64, by="cli")["booking"]["code"]
    h.advance(minutes=10)                                                   # 07:40
    assert check_in(h, code=remote)["check_in"]["outcome"] == "remote"
    assert h.next("q1") == "A001"                                           # waited 10 min
    h.advance(minutes=5)                                                    # 07:45
    h.next("q1")                                                            # the phone's: 5 min from check-in
    assert check_in(h, code=online)["check_in"]["outcome"] == "early"
    h.advance(minutes=16)                                                   # 08:01: 1 min after its slot
    assert h.state.tickets[h.state.bookings[online].ticket_id].number == h.next("q1")
    assert check_in(h, code=by_clerk)["check_in"]["outcome"] == "early"
    h.advance(minutes=79)                                                   # 09:20: 50 min after 08:30
    assert h.state.tickets[h.state.bookings[by_clerk].ticket_id].number == h.next("q1")
    r = build_report(h.log, h.core.config, DAY, DAY)
    b = r.to_dict()["bookings"]
    assert b["citizens"] == 5 and (b["came_by_booking"], b["came_by_remote"], b["came_online"]) == (2, 1, 2)
    t = b["total"]
    assert (t["booked"], t["remote"], t["came"], t["lapsed"], t["no_show"]) == (2, 2, 3, 1, 0)
    w = b["waits"]
    assert w["walk_in"] == {"n": 1, "mean_wait_s": 600.0, "p90_wait_s": 600.0}
    assert w["remote"] == {"n": 1, "mean_wait_s": 300.0, "p90_wait_s": 300.0}
    assert w["booked"] == {"n": 2, "mean_wait_s": 1530.0, "p90_wait_s": 3000.0}
    ind = {i["id"]: i for i in r.indicators}
    assert (ind["online_booking_share"]["numerator"], ind["online_booking_share"]["denominator"]) == (2, 5)
    assert ind["online_booking_share"]["value"] == 40.0
    assert (ind["booking_kept"]["value"], ind["booking_called_in_slot"]["value"]) == (100.0, 50.0)
    assert ind["booking_called_in_slot"]["name"]["vi"].startswith("Tỷ lệ người đặt lịch được gọi trong 30 phút")


def test_a_site_without_bookings_has_no_online_booking_indicators():
    from tests.support.domain_harness import small_site
    h = Harness(small_site())
    h.issue("a")
    ids = {i["id"] for i in build_report(h.log, h.core.config, DAY, DAY).indicators}
    assert "no_show_rate" in ids and not ids & {"online_booking_share", "booking_kept", "booking_called_in_slot"}
