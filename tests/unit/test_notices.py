"""domain/notices.py: which messages to citizens' phones are due, and the outbox in the log
(notify.queued / notify.sent / notify.failed), through the domain's pipeline with a fake clock."""
from __future__ import annotations

from datetime import datetime, timedelta

from queue_server.domain import commands as C
from queue_server.domain import notices
from queue_server.domain.site import parse_site
from queue_server.domain.state import SiteState
from tests.support.booking_site import ANA, BAO, DAY, book, site
from tests.support.domain_harness import TZ, Harness

PHONE = "+84912345678"
HOOK = {"webhook_url": "https://sms.example.gov.vn/motcua"}


def notify_site(**notify):
    d = site().model_dump()
    d["notify"] = {**HOOK, **notify}
    return parse_site(d)


def due(h):
    """The tick's command: the notify.queued events it wrote."""
    before = len(h.log)
    assert h.command("notifier", "tick", C.QueueNotices()) is not None
    return [e.data for e in h.log[before:] if e.type == "notify.queued"]


def test_a_reminder_at_each_lead_once_and_only_with_a_phone():
    h = Harness(notify_site(remind_before_h=[2, 24]))           # 07:30 on 24/11
    code = book(h, "2026-11-25T10:00", phone=PHONE)["booking"]["code"]
    book(h, "2026-11-25T10:00", who=BAO, procedure="p2")           # no phone: never a message
    h.advance(minutes=149)                                        # 09:59: not yet the day before
    assert due(h) == []
    h.advance(minutes=1)
    [r] = due(h)
    assert r == {"id": f"test.{code}.2026-11-25T10:00.r24", "kind": "reminder", "code": code, "phone": PHONE,
                 "lang": "vi", "sector": "a", "procedure": "p1", "slot": "2026-11-25T10:00", "lead_h": 24.0,
                 "expires_epoch": datetime(2026, 11, 25, 10, 0, tzinfo=TZ).timestamp()}
    assert due(h) == []                                          # never twice
    h.advance(minutes=22 * 60)                                    # 08:00 on the day: 2 h before
    assert [r["lead_h"] for r in due(h)] == [2.0]
    assert due(h) == []
    assert h.state.bookings[code].phone == PHONE                  # still owed nothing more, but booked


def test_no_reminder_whose_time_had_passed_at_booking_and_only_the_nearest_after_an_outage():
    h = Harness(notify_site(remind_before_h=[24, 2]))
    book(h, "10:00", phone=PHONE)                                 # today: both leads passed already
    late = book(h, "2026-11-25T09:00", who=BAO, phone=PHONE)["booking"]["code"]
    h.advance(minutes=25 * 60)                                    # 08:30 the next day, after an outage
    assert [(r["code"], r["lead_h"]) for r in due(h)] == [(late, 2.0)]


def test_turn_near_for_a_ticket_from_a_phone_then_its_phone_is_forgotten():
    h = Harness(notify_site(turn_near_ahead=2))
    for _ in range(3):
        h.issue("a", procedure="p1")
    r = h.command("web", "web", C.RemoteTicket(procedure="p1", id_hash=ANA, phone=PHONE))
    h.command("web", "web", C.RemoteTicket(procedure="p1", id_hash=BAO))     # no phone
    assert due(h) == []                                          # 3 ahead
    h.next("q1")
    [n] = due(h)
    assert n["kind"] == "turn_near" and n["ahead"] == 2 and n["number"] == r["ticket"]["number"]
    assert n["id"] == f"test.{r['ticket']['id']}.near" and n["arrive_by_epoch"] == h.state.tickets[n["ticket_id"]].arrive_by_epoch
    assert h.state.bookings[r["booking"]["code"]].phone is None
    assert due(h) == []
    assert PHONE in str(h.state.notify_pending)                  # the outbox holds it until sent


def test_a_closure_tells_the_citizen_with_the_offer():
    h = Harness(notify_site())
    code = book(h, "09:00", phone=PHONE)["booking"]["code"]
    book(h, "09:00", who=BAO, procedure="p2")
    h.command("web", "web", C.CloseSlots(day=DAY, slot=f"{DAY}T09:00", by="admin"))
    [n] = due(h)
    assert (n["kind"], n["code"], n["slot"], n["offer"]) == ("closure", code, f"{DAY}T09:00", f"{DAY}T09:30")
    assert h.state.bookings[code].phone is None and due(h) == []
    # a closure whose slot is over by the time anything is asked: nothing to tell any more
    late = book(h, "10:00", who="c" * 64, phone=PHONE)["booking"]["code"]
    h.command("web", "web", C.CloseSlots(day=DAY, slot=f"{DAY}T10:00", by="admin"))
    assert notices.due(h.state, h.core.config, h.now + timedelta(hours=3)) == []
    assert [n["code"] for n in due(h)] == [late]


def test_sent_and_failed_close_a_message_once_and_replay_and_snapshots_agree():
    h = Harness(notify_site())
    a = book(h, "09:00", phone=PHONE)["booking"]["code"]
    b = book(h, "09:30", who=BAO, phone="+84987654321")["booking"]["code"]
    h.command("web", "web", C.CloseSlots(day=DAY, by="admin"))
    ids = [n["id"] for n in due(h)]
    assert ids == [f"test.{a}.{DAY}T09:00.closure", f"test.{b}.{DAY}T09:30.closure"]
    snap = h.state.to_dict()
    assert SiteState.from_dict(snap, h.core.config).notify_pending == h.state.notify_pending
    h.command("notifier", "webhook", C.NotifySent(ids[0], attempts=2))
    h.command("notifier", "webhook", C.NotifySent(ids[0], attempts=3))          # a report repeated: nothing
    h.command("notifier", "webhook", C.NotifyFailed(ids[1], "attempts", attempts=10, last_error="503"))
    closed = [(e.type, e.data) for e in h.log if e.type in ("notify.sent", "notify.failed")]
    assert closed == [("notify.sent", {"id": ids[0], "kind": "closure", "code": a, "attempts": 2}),
                      ("notify.failed", {"id": ids[1], "kind": "closure", "code": b, "reason": "attempts",
                                         "attempts": 10, "last_error": "503"})]
    assert h.state.notify_pending == {}
    replayed = SiteState.initial(h.core.config)
    for e in h.log:
        replayed.apply(e)
    assert replayed.to_dict() == h.state.to_dict()
    assert SiteState.from_dict(h.state.to_dict(), h.core.config).to_dict() == h.state.to_dict()


def test_queued_ids_are_forgotten_a_day_after_their_use():
    h = Harness(notify_site(remind_before_h=[24]))
    book(h, "2026-11-25T08:00", phone=PHONE)
    h.advance(minutes=60)
    [n] = due(h)
    assert list(h.state.notified) == [n["id"]]
    h.command("notifier", "webhook", C.NotifySent(n["id"]))
    h.advance(minutes=3 * 24 * 60)
    book(h, "2026-11-29T08:00", who=BAO, phone=PHONE)
    h.advance(minutes=24 * 60)
    assert len(due(h)) == 1
    assert list(h.state.notified) == [n for n in h.state.notified if "2026-11-29" in n]


def test_nothing_without_a_notify_section():
    h = Harness(site())
    book(h, "09:00", phone=PHONE)
    h.command("web", "web", C.CloseSlots(day=DAY, by="admin"))
    assert due(h) == [] and notices.due(h.state, h.core.config, h.now + timedelta(days=1)) == []


def test_a_bad_notify_section_is_refused_with_its_field():
    import pytest
    from queue_server.domain.site import SiteConfigError
    for bad in ({"webhook_url": "ftp://x"}, {**HOOK, "remind_before_h": [0]}, {**HOOK, "turn_near_ahead": -1},
                {**HOOK, "surprise": 1}):
        d = site().model_dump()
        d["notify"] = bad
        with pytest.raises(SiteConfigError, match="notify"):
            parse_site(d)


def test_the_gateway_gets_words_in_both_languages_and_the_facts():
    from queue_server.notify.notifier import notification
    h = Harness(notify_site(remind_before_h=[24]))
    code = book(h, "2026-11-25T10:00", phone=PHONE)["booking"]["code"]
    h.advance(minutes=150)
    [d] = due(h)
    n = notification(h.core.config, h.state.notify_pending[d["id"]])
    assert (n.id, n.kind, n.phone, n.expires_at) == (d["id"], "reminder", PHONE, d["expires_epoch"])
    shown = f"{code[:4]}-{code[4:]}"
    assert n.text["vi"] == f"Nhắc lịch hẹn: bạn có lịch hẹn tại Thử lúc 10:00 25/11/2026, mã {shown}. Khi đến, hãy quét mã tại ki-ốt."
    assert n.text["en"].startswith("Reminder: your booking at Test is at 10:00 25/11/2026")
    assert n.data == {"site": "test", "centre": {"vi": "Thử", "en": "Test"}, "code": code, "lang": "vi", "sector": "a",
                      "procedure": "p1", "slot": "2026-11-25T10:00", "lead_h": 24.0}
    assert PHONE not in repr(n)


def test_the_webhook_secret_is_made_once_owner_only_and_a_bad_one_is_named(tmp_path):
    import pytest
    from queue_server.notify.notifier import load_or_create_secret
    path = tmp_path / "notify-webhook.key"
    secret = load_or_create_secret(path)
    assert len(secret) == 32 and path.stat().st_mode & 0o077 == 0
    assert load_or_create_secret(path) == secret
    for bad in ("not hex", "ab" * 16):
        path.write_text(bad)
        with pytest.raises(SystemExit, match="notify-webhook.key"):
            load_or_create_secret(path)


def test_the_signature_check_in_the_docs_agrees_with_the_notifier():
    """docs/appointments.md shows a gateway's check in plain Python: it must accept what the
    notifier signs and refuse a changed body."""
    import re
    import time
    from pathlib import Path

    from queue_server.notify import webhook as wh
    doc = (Path(__file__).resolve().parents[2] / "docs" / "appointments.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "def check(" in b]
    scope: dict = {}
    exec(block, scope)
    secret = b"k" * 32
    n = wh.Notification("demo.X.near", "turn_near", PHONE, {"vi": "Sắp đến lượt bạn", "en": "Your turn is near"})
    sender = wh.WebhookSender("https://sms.example.gov.vn/motcua", secret, clock=time.time)
    body = n.body()
    headers = sender.headers(n, body)
    assert scope["check"](secret, headers, body)
    assert not scope["check"](secret, headers, body.replace("Sắp".encode(), b"Sap"))
    assert not scope["check"](b"j" * 32, headers, body)
