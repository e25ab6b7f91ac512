"""Messages to citizens' phones through a real site (issue #16): the real server (mosquitto, SQLite,
its tick and the notifier's thread) sends a closure's notice, "your turn is near" and a reminder
to a real HTTP gateway on a loopback port, which checks each signature; a gateway that is down
gets the message once it is back. The killed-server case: test_notify_sigkill.py."""
from __future__ import annotations

import json
import logging
from datetime import datetime

from queue_server.config import DEMO_SITE
from queue_server.domain import commands as C
from queue_server.domain import events as ev
from tests.support.open_site import open_now
from tests.support.site import RunningSite
from tests.support.sms_gateway import PHONE, PROCEDURE, SECTOR, SmsGateway, id_hash, local_slot, notify_site
from tests.support.wait import wait_for


def test_closure_turn_near_and_reminder_arrive_signed(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    gw = SmsGateway().start()
    path = notify_site(tmp_path, webhook_url=gw.url, remind_before_h=[2], turn_near_ahead=2)
    published: list = []
    try:
        with RunningSite(tmp_path / "site", path) as running:
            # the secret was made at the first start, owner-only, in the data directory
            key_file = tmp_path / "site" / "notify-webhook.key"
            assert key_file.stat().st_mode & 0o077 == 0
            gw.secret = bytes.fromhex(key_file.read_text().strip())
            service = running.service
            service.listeners.append(published.extend)
            now = service.clock()
            site = running.site

            # a closure: the booking at 12:00 is cancelled, the 12:30 slot offered
            closed = service.execute("web", "web", C.CreateBooking(PROCEDURE, local_slot(site, now, "12:00"), id_hash(1),
                                                                   phone=PHONE))["result"]["booking"]["code"]
            service.execute("web", "web", C.CreateBooking(PROCEDURE, local_slot(site, now, "12:00"), id_hash(2)))
            service.execute("manager", "web", C.CloseSlots(day=now.astimezone(site.site.tz).date().isoformat(),
                                                           slot=local_slot(site, now, "12:00"), by="admin"))
            # a ticket from a phone with 3 walk-ins ahead: near once one of them goes
            walk_ins = [service.execute("kiosk", "k1", json.dumps(
                {"v": 1, "req_id": f"w{i}", "type": "ticket.issue", "sector": SECTOR}).encode())["result"]["ticket"]
                for i in range(3)]
            remote = service.execute("web", "web", C.RemoteTicket(PROCEDURE, id_hash(3), phone=PHONE))["result"]
            # a reminder 2 h before a booking at 21:00
            reminded = service.execute("web", "web", C.CreateBooking(PROCEDURE, local_slot(site, now, "21:00"),
                                                                     id_hash(4), phone=PHONE))["result"]["booking"]["code"]
            gw.wait(lambda g: len(g.accepted()) == 1, what="the closure's notice")
            service.execute("web", "web", C.CancelTicket(walk_ins[0]["token"]))
            gw.wait(lambda g: len(g.accepted()) == 2, what="'your turn is near'")
            # the clock at 19:05: the reminder is due
            later = datetime.fromisoformat(local_slot(site, now, "19:05")).replace(tzinfo=site.site.tz)
            service.clock = lambda: later
            gw.wait(lambda g: len(g.accepted()) == 3, what="the reminder")
            wait_for(lambda: len(running.events(ev.NOTIFY_SENT)) == 3, what="three notify.sent")
            queued = running.events(ev.NOTIFY_QUEUED)
    finally:
        gw.stop()

    assert all(r.verified for r in gw.requests) and len(gw.requests) == 3
    closure, near, reminder = (r.body for r in gw.requests)
    assert closure["kind"] == "closure" and closure["phone"] == PHONE and closure["data"]["code"] == closed
    assert closure["data"]["offer"] == local_slot(site, now, "12:30")
    assert closure["text"]["vi"].startswith("Lịch hẹn lúc 12:00") and "12:30" in closure["text"]["vi"]
    assert closure["text"]["en"].startswith("Your booking at 12:00")
    assert near["kind"] == "turn_near" and near["data"]["ahead"] == 2
    assert near["data"]["ticket"] == remote["ticket"]["number"]
    assert near["text"]["vi"].startswith("Sắp đến lượt bạn tại " + site.site.name.vi)
    assert reminder["kind"] == "reminder" and reminder["data"]["code"] == reminded and reminder["data"]["lead_h"] == 2
    assert reminder["text"]["vi"].startswith("Nhắc lịch hẹn") and "21:00" in reminder["text"]["en"]
    # each delivery's id is the message's id in the log (what a gateway drops repeats by)
    assert [r.delivery for r in gw.requests] == [e.data["id"] for e in queued]
    # the phone is kept in the log (booking.created, notify.queued): never published, never logged in full
    assert all(e.data["phone"] == PHONE for e in queued)
    log_events = [m.payload for m in published if m.payload.get("type") == "event"]
    assert ev.NOTIFY_QUEUED in {p["event"] for p in log_events}
    assert PHONE not in json.dumps([m.payload for m in published], ensure_ascii=False)
    assert PHONE not in caplog.text and "+84******678" in caplog.text


def test_a_gateway_down_then_up_gets_it_after_a_retry(tmp_path):
    gw = SmsGateway().start()
    gw.stop()                                   # the port is closed: no answer at all
    path = notify_site(tmp_path, webhook_url=gw.url, retry_first_s=0.2)
    with RunningSite(tmp_path / "site", path) as running:
        gw.secret = bytes.fromhex((tmp_path / "site" / "notify-webhook.key").read_text().strip())
        service = running.service
        now = service.clock()
        site = running.site
        service.execute("web", "web", C.CreateBooking(PROCEDURE, local_slot(site, now, "12:00"), id_hash(1), phone=PHONE))
        service.execute("manager", "web", C.CloseSlots(day=now.astimezone(site.site.tz).date().isoformat(),
                                                       slot=local_slot(site, now, "12:00"), by="admin"))
        loop = running.server.notifier.loop
        wait_for(lambda: any(n >= 2 for n in loop.attempts.values()), timeout=20, what="two failed attempts")
        assert running.events(ev.NOTIFY_SENT) == [] and len(service.state.notify_pending) == 1
        gw.start()                              # back, on the same port
        gw.wait(lambda g: len(g.accepted()) == 1, what="the delivery after the gateway came back")
        wait_for(lambda: len(running.events(ev.NOTIFY_SENT)) == 1, what="notify.sent")
        [sent] = running.events(ev.NOTIFY_SENT)
    gw.stop()
    assert sent.data["attempts"] >= 3 and sent.data["kind"] == "closure"
    assert [r.verified for r in gw.requests] == [True]
    assert service.state.notify_pending == {}


def test_no_notify_section_no_notifier_and_no_message(tmp_path):
    with RunningSite(tmp_path / "site", open_now(DEMO_SITE, tmp_path)) as running:
        assert running.server.notifier is None
        now = running.service.clock()
        running.service.execute("web", "web", C.CreateBooking(PROCEDURE, local_slot(running.site, now, "12:00"),
                                                              id_hash(1), phone=PHONE))
        running.service.execute("manager", "web", C.CloseSlots(
            day=now.astimezone(running.site.site.tz).date().isoformat(), slot=local_slot(running.site, now, "12:00")))
        assert running.service.execute("notifier", "tick", C.QueueNotices())["result"] == {"queued": 0}
    assert not (tmp_path / "site" / "notify-webhook.key").exists()


def test_an_answer_not_yet_recorded_is_sent_again_with_the_same_delivery_id(tmp_path):
    """A crash between the gateway's 200 and its notify.sent: the next notifier sends the message
    again under the same X-Motcua-Delivery, which the gateway drops as a repeat."""
    from queue_server.config import load_site
    from queue_server.notify.notifier import Notifier
    from queue_server.service import QueueService
    from queue_server.store import EventStore

    secret = b"g" * 32
    gw = SmsGateway(secret).start()
    site = load_site(notify_site(tmp_path, webhook_url=gw.url))
    service = QueueService(site, EventStore(str(tmp_path / "motcua.db")))
    service.start()
    try:
        now = service.clock()
        service.execute("web", "web", C.CreateBooking(PROCEDURE, local_slot(site, now, "12:00"), id_hash(1), phone=PHONE))
        service.execute("manager", "web", C.CloseSlots(day=local_slot(site, now, "")[:10],
                                                       slot=local_slot(site, now, "12:00"), by="admin"))
        service.execute("notifier", "tick", C.QueueNotices())
        crashed = Notifier(service, site.notify, secret)
        crashed.outbox.delivered = lambda *a, **kw: None       # dies before it records the answer
        crashed.start()
        gw.wait(lambda g: len(g.accepted()) == 1, what="the first delivery")
        crashed.stop()
        assert len(service.state.notify_pending) == 1
        again = Notifier(service, site.notify, secret)
        again.start()
        gw.wait(lambda g: len(g.accepted()) == 2, what="the delivery again")
        wait_for(lambda: not service.state.notify_pending, what="notify.sent")
        again.stop()
        sent = [e for e in service.store.read(types=(ev.NOTIFY_SENT,))]
    finally:
        service.stop()
        service.store.close()
        gw.stop()
    first, second = gw.requests
    assert first.delivery == second.delivery and first.body == second.body
    assert len({r.delivery for r in gw.accepted()}) == 1 and len(sent) == 1
