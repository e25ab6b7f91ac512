"""A booking end to end on the real parts (issue #16): made through the domain command over the
queue service (as the booking pages do), checked in by a kiosk-like MQTT client on a real
mosquitto with the site's ACL, called by a counter before a walk-in who came earlier; the
refusals reach the kiosk with their Vietnamese words; `events/log` never carries the phone.

The service reads its clock through `service.clock` (as tests/integration/test_whatif_web.py
does): the test sets it to the instants it needs (just before the slot, in it) instead of waiting.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from protocol import booking_code, cccd
from protocol.messages import Reply, check
from protocol.topics import Topics
from queue_server.domain.commands import CreateBooking
from tests.support.mqtt_peer import Peer
from tests.support.open_site import open_now
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(120)
JUSTICE, BIRTH = "tu-phap-ho-tich", "khai-sinh"
DEMO = Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("booking-mqtt")
    with RunningSite(d, open_now(DEMO, d / "site")) as s:
        yield s


def test_booked_checked_in_at_the_kiosk_and_called_before_an_earlier_walk_in(site):
    service = site.service
    assert service.id_hash_key is not None and len(service.id_hash_key) >= cccd.MIN_KEY_BYTES
    assert (site.dir / "id-hash.key").stat().st_mode & 0o077 == 0        # owner only
    tz = site.site.site.tz
    real = datetime.now(tz)
    # the first half hour starting at least an hour from now (the site is open 06:00-22:00 and it is ~10:00)
    slot = (real + timedelta(hours=1)).replace(second=0, microsecond=0)
    slot += timedelta(minutes=(30 - slot.minute % 30) % 30)
    clock = [real]
    service.clock = lambda: clock[0]
    server = site.creds["server"]
    log = Peer(site.mqtt_port, server["username"], server["password"], topics=[Topics(site.site.id).events_log])

    id_hash = cccd.id_hash(service.id_hash_key, "001090000001")
    made = service.execute("web", "web", CreateBooking(procedure=BIRTH, slot=slot.strftime("%Y-%m-%dT%H:%M"),
                                                       id_hash=id_hash, phone="+84912345678"))
    assert made["ok"], made
    code = made["result"]["booking"]["code"]
    assert made["result"]["booking"]["slot_start"] == slot.isoformat()

    kiosk = site.device("kiosk", "k1")
    clock[0] = slot - timedelta(minutes=50)      # too early: check-in opens 30 minutes before
    early = kiosk.request("booking.check_in", {"code": code})
    assert not early["ok"] and early["error"]["code"] == "booking_too_early"
    assert early["error"]["message_vi"].startswith("Bạn đến sớm")
    assert early["error"]["detail"]["check_in_from"] == (slot - timedelta(minutes=30)).isoformat()
    wrong = kiosk.request("booking.check_in", {"code": booking_code.qr_payload("https://x.example", "xa-khac", code)})
    assert wrong["error"]["code"] == "booking_wrong_site"

    clock[0] = slot - timedelta(minutes=5)
    walk_in = kiosk.request("ticket.issue", {"sector": JUSTICE})["result"]["ticket"]
    clock[0] = slot + timedelta(minutes=2)
    r = kiosk.request("booking.check_in", {"code": booking_code.display(code).lower()})
    assert r["ok"], r
    ticket, checked = r["result"]["ticket"], r["result"]["check_in"]
    assert (ticket["booking"], ticket["booking_kind"], checked["outcome"]) == (code, "slot", "on_time")
    assert checked["notice"]["vi"] and checked["notice"]["en"] and ticket["track_url"].endswith(ticket["token"])
    for reply in (early, wrong, r):      # every field the server sent is in the contract's model
        check(Reply, reply)
    again = kiosk.request("booking.check_in", {"code": code})
    assert again["error"]["code"] == "booking_used" and again["error"]["message_vi"]

    q1 = site.device("counter", "q1")
    assert q1.request("call.next")["result"]["ticket"]["number"] == ticket["number"]
    q1.request("serve.done")
    assert q1.request("call.next")["result"]["ticket"]["number"] == walk_in["number"]

    # the phone is in the site's log (for reminders), never on events/log
    stored = [e for e in site.events("booking.created") if e.data["code"] == code]
    assert stored and stored[0].data["phone"] == "+84912345678"
    published = log.wait_for(lambda m: m[1] and m[1].get("event") == "booking.created")[1]
    assert published["data"]["code"] == code and "phone" not in published["data"]
    assert b"+84912345678" not in b"".join(p for _, p in log.got)
    log.c.loop_stop()
    log.c.disconnect()
    service.clock = lambda: datetime.now(tz)
