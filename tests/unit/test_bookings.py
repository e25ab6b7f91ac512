"""Bookings and remote tickets in the pure domain (issue #16, queue_server/domain/bookings.py):
capacity, limits, cancel/move, the kiosk's check-in and each of its refusals, remote tickets,
closures, no-shows, and that the fold, replay and snapshots agree."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from protocol import booking_code, booking_texts
from queue_server.domain import bookings
from queue_server.domain import commands as C
from queue_server.domain.core import QueueCore, fold_in
from queue_server.domain.site import parse_site
from queue_server.domain.state import SiteState
from tests.support.booking_site import ANA, BAO, DAY, book, check_in, site
from tests.support.domain_harness import TZ, Harness, small_site

@pytest.fixture
def h():
    return Harness(site())


def test_slots_follow_the_opening_periods():
    cfg = site(slot_min=15)
    slots = bookings.slots_of_day(cfg, date(2026, 11, 24))
    # 07:30-11:30 and 13:30-17:00 in 15 minutes: 16 + 14
    assert len(slots) == 30
    assert slots[0][0] == f"{DAY}T07:30" and slots[-1][0] == f"{DAY}T16:45"
    assert slots[0][1].tzinfo is not None and slots[0][2] - slots[0][1] == timedelta(minutes=15)


def test_capacity_is_counters_times_slot_over_service_times_share(h):
    # sector a: q1 serves a and b (half a counter), 5-minute services, 30-minute slots, half for
    # bookings: 0.5 x 1800 / 300 x 0.5 = 1.5 -> one booking a slot
    free = bookings.free_slots(h.state, h.core.config, "p1", date(2026, 11, 24), h.now)
    assert free[0] == {"slot": f"{DAY}T08:00", "slot_start": f"{DAY}T08:00:00+07:00",
                       "slot_end": f"{DAY}T08:30:00+07:00", "free": 1}
    assert book(h, "09:00")["booking"]["status"] == "booked"
    assert book(h, "09:00", who=BAO) == "booking_full"
    err = h.core.decide("web", C.CreateBooking(procedure="p1", slot=f"{DAY}T09:00", id_hash=BAO),
                        _ctx(h)).error
    assert err.detail == {"next_free": f"{DAY}T09:30"}
    assert err.words == ("booking_full", {"slot": "09:30 24/11/2026"})
    assert f"{DAY}T09:00" not in [s["slot"] for s in bookings.free_slots(h.state, h.core.config, "p1",
                                                                          date(2026, 11, 24), h.now)]


def test_share_and_a_longer_procedure_change_the_capacity():
    h = Harness(site(share=1.0))     # all of q1's half for sector a: 0.5 x 1800 / 300 = 3 a slot
    for i in range(3):
        assert book(h, "09:00", who=f"{i:064x}")["booking"]["status"] == "booked"
    assert book(h, "09:00", who=f"{9:064x}") == "booking_full"
    # procedure-aware: p2 learned to take twice its sector's mean
    h2 = Harness(site(share=1.0))
    h2.state.sectors["a"].procedure_service = {"p1": [100.0, 100 * 150.0], "p2": [100.0, 100 * 300.0]}
    need = bookings.service_s(h2.state, h2.core.config, "a", "p2")
    assert need > bookings.service_s(h2.state, h2.core.config, "a", "p1")
    free = bookings.free_slots(h2.state, h2.core.config, "p2", date(2026, 11, 24), h2.now)[0]["free"]
    assert free == int(900 // need)


def _ctx(h):
    from queue_server.domain.core import Context
    return Context(now=h.now, device="web", token="t")


def test_bad_slots_are_refused_clearly(h):
    assert book(h, f"{DAY}T09:10") == "bad_request"          # not a slot's start
    assert book(h, f"{DAY}T12:00") == "bad_request"          # between the periods
    assert book(h, "07:30") == "bad_request"                 # started already
    assert book(h, "2026-12-24T09:00") == "bad_request"      # past days_ahead (14)
    assert book(h, "tomorrow") == "bad_request"
    assert book(h, "09:00", procedure="nope") == "unknown_procedure"
    assert Harness(small_site()).command("web", "web", C.CreateBooking(
        procedure="p1", slot=f"{DAY}T09:00", id_hash=ANA)) in ("not_allowed", "unknown_procedure")


def test_limits_per_card(h):
    assert book(h, "09:00")["booking"]
    assert book(h, "10:00") == "booking_limit"                      # one active booking per procedure
    assert book(h, "10:00", procedure="p2")["booking"]
    assert book(h, "2026-11-25T10:00", procedure="p2") == "booking_limit"
    h2 = Harness(site(per_week=2))
    assert book(h2, "09:00")["booking"] and book(h2, "10:00", procedure="p2")["booking"]
    # a cancelled booking does not hold the procedure, but still counts in the week
    h3 = Harness(site(per_week=2))
    c = book(h3, "09:00")["booking"]["code"]
    assert h3.command("web", "web", C.CancelBooking(code=c, id_hash=ANA))["booking"]["status"] == "cancelled"
    assert book(h3, "10:00")["booking"]
    assert book(h3, "11:00", procedure="p2") == "booking_limit"


def test_cancel_and_move_need_the_same_card(h):
    b = book(h, "09:00")["booking"]
    code = b["code"]
    assert booking_code.is_code(code)
    assert h.command("web", "web", C.CancelBooking(code=code, id_hash=BAO)) == "not_found"
    assert h.command("web", "web", C.CancelBooking(code="K7Q4-MZ21", id_hash=ANA)) == "not_found"
    moved = h.command("web", "web", C.MoveBooking(code=booking_code.display(code).lower(), id_hash=ANA,
                                                  slot=f"{DAY}T10:00"))["booking"]
    assert (moved["code"], moved["slot"]) == (code, f"{DAY}T10:00")
    # the old slot is free again, the new one taken
    assert book(h, "09:00", who=BAO)["booking"]
    assert book(h, "10:00", who=BAO, procedure="p2") == "booking_full"
    assert h.command("web", "web", C.CancelBooking(code=code, id_hash=ANA))["booking"]["status"] == "cancelled"
    assert h.command("web", "web", C.CancelBooking(code=code, id_hash=ANA)) == "booking_cancelled"
    assert h.command("web", "web", C.MoveBooking(code=code, id_hash=ANA, slot=f"{DAY}T11:00")) == "booking_cancelled"


def test_check_in_early_waits_for_its_slot_then_goes_before_walk_ins(h):
    code = book(h, "09:00")["booking"]["code"]
    h.issue("a")                                              # A001, 07:30
    h.advance(minutes=50)                                     # 08:20: more than 30 min early
    assert check_in(h, code=code) == "booking_too_early"
    h.advance(minutes=15)                                     # 08:35
    r = check_in(h, code=booking_code.display(code).lower())
    assert r["check_in"]["outcome"] == "early" and r["check_in"]["due_at"] == f"{DAY}T09:00:00+07:00"
    assert r["ticket"]["booking"] == code and r["ticket"]["booking_kind"] == "slot"
    assert r["booking"]["status"] == "checked_in"
    assert h.next("q1") == "A001"                             # before its slot, the walk-in
    h.issue("a")                                              # A003 walk-in, 08:35
    h.advance(minutes=26)                                     # 09:01: due
    assert h.next("q1") == r["ticket"]["number"]              # the booking before the earlier walk-in
    assert h.next("q1") == "A003"


def test_check_in_on_time_late_and_by_qr_and_id_hash(h):
    c1 = book(h, "08:00")["booking"]["code"]
    c2 = book(h, "08:30", who=BAO)["booking"]["code"]
    c3 = book(h, "10:00", who="c" * 64)["booking"]["code"]
    h.advance(minutes=35)                                      # 08:05
    on_time = check_in(h, code=booking_code.qr_payload("https://x.example", "test", c1))
    assert on_time["check_in"]["outcome"] == "on_time" and on_time["ticket"]["status"] == "waiting"
    assert check_in(h, code=booking_code.qr_payload("https://x.example", "other-centre", c2)) == "booking_wrong_site"
    assert check_in(h, code=c1) == "booking_used"
    h.advance(minutes=45)                                      # 08:50: 20 minutes after 08:30
    late = check_in(h, id_hash=BAO)
    assert late["check_in"]["outcome"] == "late" and late["ticket"]["booking_kind"] == "late"
    assert late["booking"]["status"] == "late"
    assert check_in(h, code="K7Q4-MZ21") == "not_found"        # a right-looking code of nobody's
    assert check_in(h, code="no such") == "not_found"
    assert check_in(h, id_hash="d" * 64) == "not_found"
    assert c3


def test_wrong_day_and_cancelled(h):
    code = book(h, "2026-11-26T09:00")["booking"]["code"]
    assert check_in(h, code=code) == "booking_wrong_day"
    assert check_in(h, id_hash=ANA) == "booking_wrong_day"
    err = h.core.decide("kiosk", _parsed(code=code), _ctx(h)).error
    assert err.detail == {"day": "2026-11-26"} and err.words == ("booking_wrong_day", {"day": "26/11/2026"})
    h.command("web", "web", C.CancelBooking(code=code, id_hash=ANA))
    assert check_in(h, code=code) == "booking_cancelled"


def _parsed(**fields):
    import json
    from protocol.messages import parse_command
    return parse_command("kiosk", json.dumps({"v": 1, "req_id": "x", "type": "booking.check_in", **fields}))


def test_a_remote_ticket_keeps_its_place_but_is_not_called_until_checked_in(h):
    h.issue("a")                                               # A001
    r = h.command("web", "web", C.RemoteTicket(procedure="p1", id_hash=ANA))
    remote = r["ticket"]
    assert r["booking"]["kind"] == "remote" and r["booking"]["arrive_by"] == f"{DAY}T08:00:00+07:00"
    h.issue("a")                                               # A003, behind it
    assert h.command("web", "web", C.RemoteTicket(procedure="p2", id_hash=ANA)) == "booking_limit"
    assert h.next("q1") == "A001"
    assert h.next("q1") == "A003"                              # not checked in: not called
    h.issue("a")                                               # A004
    h.advance(minutes=10)
    r2 = check_in(h, code=r["booking"]["code"])
    assert r2["check_in"]["outcome"] == "remote" and r2["ticket"]["number"] == remote["number"]
    assert h.next("q1") == remote["number"]                    # its place: before A004


def test_a_remote_ticket_lapses_after_its_grace(h):
    r = h.command("web", "web", C.RemoteTicket(procedure="p1", id_hash=ANA))
    h.advance(minutes=31)
    h.issue("b")                                               # any command: the lapse is written first
    assert h.state.tickets[r["ticket"]["id"]].status == "expired"
    assert h.state.bookings[r["booking"]["code"]].status == "lapsed"
    assert check_in(h, code=r["booking"]["code"]) == "booking_used"
    assert [e.type for e in h.log].count("ticket.lapsed") == 1


def test_remote_only_while_open():
    h = Harness(site(), start=datetime(2026, 11, 24, 12, 0, tzinfo=TZ))
    assert h.command("web", "web", C.RemoteTicket(procedure="p1", id_hash=ANA)) == "sector_closed"
    assert Harness(site(remote=False)).command("web", "web", C.RemoteTicket(procedure="p1", id_hash=ANA)) == "not_allowed"


def test_closing_cancels_with_the_next_free_slot_offered(h):
    a = book(h, "09:00")["booking"]["code"]
    b = book(h, "09:30", who=BAO)["booking"]["code"]
    other_day = book(h, "2026-11-25T09:00", who="c" * 64)["booking"]["code"]
    r = h.command("web", "web", C.CloseSlots(day=DAY, slot=f"{DAY}T09:00", reason="power cut", by="admin"))
    assert [x["code"] for x in r["cancelled"]] == [a]
    assert r["cancelled"][0]["offer"] == f"{DAY}T10:00"        # 09:30 is taken
    assert r["cancelled"][0]["cancel_reason"] == "closed"
    assert book(h, "09:00", who="d" * 64) == "slot_closed"
    r = h.command("web", "web", C.CloseSlots(day=DAY, by="admin"))     # the whole day
    assert [x["code"] for x in r["cancelled"]] == [b]
    assert r["cancelled"][0]["offer"] == "2026-11-25T07:30"
    assert h.state.bookings[other_day].status == "booked"
    assert booking_texts.closure_message(f"{DAY}T09:30", "2026-11-25T07:30")["vi"].startswith("Lịch hẹn lúc 09:30 24/11/2026")
    assert h.command("web", "web", C.CloseSlots(day="24/11", by="admin")) == "bad_request"
    assert h.command("web", "web", C.CloseSlots(day=DAY, sector="zz", by="admin")) == "unknown_sector"


def test_a_booking_never_checked_in_is_a_no_show_at_the_next_day(h):
    code = book(h, "09:00")["booking"]["code"]
    h.advance(minutes=24 * 60)
    h.issue("a")
    assert h.state.bookings[code].status == "no_show"
    types = [e.type for e in h.log]
    assert types.index("booking.no_show") < types.index("day.started", types.index("booking.created"))


def test_replay_and_snapshots_agree(h):
    book(h, "09:00")
    code = book(h, "09:30", who=BAO)["booking"]["code"]
    h.command("web", "web", C.RemoteTicket(procedure="p2", id_hash=ANA))
    h.command("web", "web", C.CloseSlots(day="2026-11-25", sector="a", by="admin"))
    h.advance(minutes=90)                                      # 09:00
    assert check_in(h, code=code)["check_in"]["outcome"] == "early"    # held until 09:30
    replayed = SiteState.initial(h.core.config)
    for e in h.log:
        replayed.apply(e)
    snap = h.state.to_dict()
    assert replayed.to_dict() == snap
    again = SiteState.from_dict(snap, h.core.config)
    assert again.to_dict() == snap
    assert again.held == h.state.held and again.by_id_hash == h.state.by_id_hash
    # a snapshot from before bookings (no such keys) loads
    old = {k: v for k, v in snap.items() if k not in ("bookings", "closures")}
    assert SiteState.from_dict(old, h.core.config).bookings == {}
    # the restored state decides the same: the held ticket is released at its slot
    core = QueueCore(h.core.config, state=again)
    later = h.now + timedelta(minutes=31)
    assert [e.type for e in core.rollover(later)] == ["ticket.released"]
    fold_in(core.state, core.rollover(later))


def test_a_walk_ins_events_and_snapshot_are_unchanged():
    h = Harness(site())
    h.issue("a")
    data = h.log[-1].data["ticket"]
    assert not {"booking", "booking_kind", "held", "due_epoch", "arrive_by_epoch"} & set(data)
    assert "bookings" not in h.state.to_dict()
    assert not {"booking", "held"} & set(next(iter(h.state.to_dict()["tickets"].values())))


def test_every_booking_text_is_translated():
    assert booking_texts.T.missing(list(booking_texts.MSGIDS)) == []
    for key in booking_texts.ERRORS:
        assert key in ("booking_full_none", "booking_not_found", "bookings_off", "centre_closed") or \
            key in {c.value for c in __import__("protocol.errors", fromlist=["ErrorCode"]).ErrorCode}
    assert booking_texts.check_in_notice("early", f"{DAY}T09:00:00+07:00", 15)["vi"].endswith("09:00.")
    assert "15" in booking_texts.check_in_notice("late", None, 15)["en"]


def test_the_phone_is_kept_only_while_a_message_may_be_owed(h):
    used = book(h, "08:00", phone="+84912345678")["booking"]
    closed = book(h, "09:00", who=BAO, phone="+84987654321")["booking"]
    assert used["reminders"] and h.state.bookings[used["code"]].phone == "+84912345678"
    h.advance(minutes=35)
    assert check_in(h, code=used["code"])["booking"]["reminders"] is False
    assert h.state.bookings[used["code"]].phone is None
    h.command("web", "web", C.CloseSlots(day=DAY, slot=f"{DAY}T09:00", by="admin"))
    assert h.state.bookings[closed["code"]].phone == "+84987654321"     # its message is still owed
    assert "+84912345678" not in str(h.state.to_dict())


def test_a_remote_ticket_counts_against_a_daily_cap():
    d = site().model_dump()
    d["sectors"][0]["procedures"][0]["daily_cap"] = 1
    h = Harness(parse_site(d))
    h.issue("a", procedure="p1")
    assert h.command("web", "web", C.RemoteTicket(procedure="p1", id_hash=ANA)) == "daily_cap_reached"
    assert "ticket" in h.command("web", "web", C.RemoteTicket(procedure="p2", id_hash=ANA))
