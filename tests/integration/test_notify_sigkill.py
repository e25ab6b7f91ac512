"""The notifier's outbox is the event log: a `motcua server` subprocess SIGKILLed with messages
still queued sends them after its restart, and a message the gateway took before the kill is not
sent again (issue #16). A real mosquitto with the site's users and ACL, SQLite, and a real HTTP
gateway on a loopback port that checks every signature."""
from __future__ import annotations

import secrets

from queue_server.config import load_site
from queue_server.domain import commands as C
from queue_server.domain import events as ev
from queue_server.service import QueueService
from queue_server.store import EventStore
from tests.support.procs import ServerProcess, site_broker
from tests.support.sms_gateway import PHONE, PROCEDURE, SECTOR, SmsGateway, id_hash, local_slot, notify_site
from tests.support.wait import wait_for


def logged(db, *types):
    store = EventStore(str(db))
    try:
        return list(store.read(types=types))
    finally:
        store.close()


def test_queued_messages_survive_a_sigkill_and_go_once(tmp_path):
    secret = secrets.token_bytes(32)
    first: list[str] = []

    def answer(body):
        # before the kill the gateway takes only the first message; the others wait (503)
        if not first:
            first.append(body["id"])
        return 200 if body["id"] in first or gateway_back else 503

    gateway_back = False
    gw = SmsGateway(secret, answer=answer).start()
    # a long first retry: before the kill nothing is tried twice
    site_path = notify_site(tmp_path / "cfg", webhook_url=gw.url, retry_first_s=300)
    site = load_site(site_path)
    data_dir = tmp_path / "srv" / "data"
    data_dir.mkdir(parents=True)
    (data_dir / "notify-webhook.key").write_text(secret.hex() + "\n")   # the province's own secret
    db = tmp_path / "srv" / "motcua.db"

    # three bookings with a phone, their slot closed: three messages queued in the log
    service = QueueService(site, EventStore(str(db)))
    service.start()
    now = service.clock()
    for i, hhmm in enumerate(("15:00", "15:30", "16:00")):
        r = service.execute("web", "web", C.CreateBooking(PROCEDURE, local_slot(site, now, hhmm), id_hash(i + 1),
                                                          phone=PHONE))
        assert r["ok"], r
    service.execute("manager", "web", C.CloseSlots(day=local_slot(site, now, "")[:10], sector=SECTOR, by="admin"))
    service.execute("notifier", "tick", C.QueueNotices())     # (or the service's own tick did)
    service.stop()
    service.store.close()
    ids = [e.data["id"] for e in logged(db, ev.NOTIFY_QUEUED)]
    assert len(ids) == 3

    broker, files = site_broker(tmp_path / "mosquitto", site)
    server = ServerProcess(tmp_path / "srv", site_path, broker.url, files.credentials, db=db)
    try:
        server.start()
        gw.wait(lambda g: len(g.requests) >= 3, what="the first attempts")
        wait_for(lambda: len(logged(db, ev.NOTIFY_SENT)) == 1, timeout=20, what="the first notify.sent")
        server.kill()
        assert [e.data["id"] for e in logged(db, ev.NOTIFY_SENT)] == first

        gateway_back = True
        server.start()
        wait_for(lambda: len(logged(db, ev.NOTIFY_SENT)) == 3, timeout=30, what="every notify.sent after the restart")
        server.stop()
    finally:
        server.kill()
        gw.stop()
        broker.stop()

    taken = [r.delivery for r in gw.accepted()]
    assert sorted(taken) == sorted(ids) and len(taken) == 3       # each taken once: none lost, none twice
    assert all(r.verified for r in gw.requests)
    assert {r.body["phone"] for r in gw.requests} == {PHONE}
    assert logged(db, ev.NOTIFY_FAILED) == []
