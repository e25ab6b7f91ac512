"""Booking at another centre (issue #16) over the real bridge: a provisioned site (its broker with
the generated bridge and ACL, the real `motcua server` taking bookings) and the province broker
from the generated files, with province/booking_relay.py on the province side.

The site's offer reaches the province; a booking from the relay lands in the site's event log
(`by: province`) and its reply returns; the same req_id again gives the same booking; an offline
site is refused clearly and never double-booked, also when a command reaches it after the relay
gave up; a kiosk cannot write a province booking command on its site broker, nor a site's bridge
user on the province broker; a site without a bridge spends nothing on offers.
"""
from __future__ import annotations

import json
import os
import signal
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from firmware_config.device_config import load_device_config
from firmware_config.inventory import parse_inventory
from firmware_config.localrun import local_inventory_data, province_broker_conf, site_broker_conf
from firmware_config.provision import provision
from province.booking_relay import BookingRelay, SiteOffline
from protocol.messages import OFFER_SLOTS
from protocol.topics import ProvinceTopics, Topics
from queue_server.store import EventStore
from tests.support.broker import Mosquitto, free_port
from tests.support.mqtt_peer import Peer
from tests.support.procs import ServerProcess
from tests.support.site import RunningSite
from tests.support.wait import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site-inventory.yaml"
PROC = "phieu-lltp-1"
P = ProvinceTopics()


def card(i: int) -> str:
    """A stand-in for protocol/cccd.id_hash of a card: the site sees only 64 hex digits."""
    return f"{i:064x}"


def created(db: Path) -> list[dict]:
    store = EventStore(str(db))
    try:
        return [e.data for e in store.read() if e.type == "booking.created"]
    finally:
        store.close()


@pytest.fixture()
def fleet(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    port, pport = free_port(), free_port()
    inv = parse_inventory(local_inventory_data(data, broker_port=port, province_port=pport, site_id="site-a"))
    bundle = provision(inv, tmp_path / "fleet")
    hosts = {b.host.hostname: b.directory for b in bundle.hosts}
    etc = hosts["mc-server"] / "files" / "etc" / "motcua"
    site_yaml = yaml.safe_load((etc / "site.yaml").read_text(encoding="utf-8"))
    site_yaml["bookings"] = {"days_ahead": 7}
    booking_site = tmp_path / "site-bookings.yaml"
    booking_site.write_text(yaml.safe_dump(site_yaml, allow_unicode=True), encoding="utf-8")
    pcreds = json.loads((bundle.province_dir / "credentials.json").read_text())
    province = Mosquitto(tmp_path / "province", port=pport, conf=province_broker_conf(bundle.province_dir).replace(
        f"listener {pport} 0.0.0.0", f"listener {pport} 127.0.0.1")).start()
    site = Mosquitto(tmp_path / "site", port=port, conf=site_broker_conf(hosts["mc-server"])).start()
    server = ServerProcess(tmp_path / "server", booking_site, site.url, etc / "credentials.json")
    relay = BookingRelay(province.url, username="province", password=pcreds["province"]["password"], timeout_s=3.0)
    try:
        server.start()
        assert relay.start()
        yield {"server": server, "relay": relay, "site": site, "province": province, "hosts": hosts,
               "pcreds": pcreds}
    finally:
        relay.stop()
        server.stop()
        site.stop()
        province.stop()


def online_offer(relay: BookingRelay):
    assert until(lambda: relay.offers().get("site-a") is not None and relay.offers()["site-a"].online, timeout=30), \
        relay.offers()
    return relay.offers()["site-a"]


def test_offer_booking_reply_and_idempotent_repeat(fleet):
    relay, server = fleet["relay"], fleet["server"]
    so = online_offer(relay)
    assert so.name.vi.startswith("Trung tâm")
    p = so.procedure(PROC)
    assert p is not None and p.sector == "ly-lich-tu-phap" and p.name.vi
    assert len(p.slots) == OFFER_SLOTS and all(s.free > 0 for s in p.slots)
    assert [s.slot_start for s in p.slots] == sorted(s.slot_start for s in p.slots)
    slot, free_before = p.slots[0].slot, p.slots[0].free

    reply = relay.create("site-a", procedure=PROC, slot=slot, id_hash=card(1), phone="+84912345678", lang="vi",
                         req_id="portal-r1")
    assert reply["ok"], reply
    booking = reply["result"]["booking"]
    assert booking["site"] == "site-a" and booking["slot"] == slot and booking["status"] == "booked"
    log = created(server.db)
    assert [(d["code"], d["by"], d["slot"], d["id_hash"]) for d in log] == [(booking["code"], "province", slot, card(1))]

    again = relay.create("site-a", procedure=PROC, slot=slot, id_hash=card(1), phone="+84912345678", lang="vi",
                         req_id="portal-r1")
    assert again["ok"] and again["result"]["booking"]["code"] == booking["code"]
    assert len(created(server.db)) == 1          # the repeat was answered, not applied

    # the offer was sent again when the booking was made: one fewer free
    def free_now() -> int:
        return next((s.free for s in relay.offers()["site-a"].procedure(PROC).slots if s.slot == slot), 0)
    assert until(lambda: free_now() == free_before - 1, timeout=10)

    # a refusal comes back as the site's page gets it: the same card, same procedure, same centre
    other = relay.create("site-a", procedure=PROC, slot=p.slots[1].slot, id_hash=card(1), req_id="portal-r2")
    assert not other["ok"] and other["error"]["code"] == "booking_limit" and other["error"]["message_vi"]

    # move and cancel travel the same way
    moved = relay.move("site-a", code=booking["code"], id_hash=card(1), slot=p.slots[1].slot, req_id="portal-r3")
    assert moved["ok"] and moved["result"]["booking"]["slot"] == p.slots[1].slot, moved
    cancelled = relay.cancel("site-a", code=booking["code"], id_hash=card(1), req_id="portal-r4")
    assert cancelled["ok"] and cancelled["result"]["booking"]["status"] == "cancelled", cancelled


def test_offline_site_is_refused_and_never_double_booked(fleet):
    relay, server = fleet["relay"], fleet["server"]
    slot, slot2 = (s.slot for s in online_offer(relay).procedure(PROC).slots[:2])

    # the server stops: its status (retained, with its will) goes out over the bridge
    server.stop()
    assert until(lambda: not relay.offers()["site-a"].online, timeout=10)
    with pytest.raises(SiteOffline) as exc:
        relay.create("site-a", procedure=PROC, slot=slot, id_hash=card(2), req_id="portal-off")
    assert exc.value.reason == "offline" and exc.value.site == "site-a"
    server.start()
    online_offer(relay)
    first = relay.create("site-a", procedure=PROC, slot=slot, id_hash=card(2), req_id="portal-off")
    assert first["ok"], first

    # the server hangs (SIGSTOP: its connection stays up, so the site looks online): the relay
    # gives up after its timeout, and the copy the server reads later is past its deadline
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        with pytest.raises(SiteOffline) as exc:
            relay.create("site-a", procedure=PROC, slot=slot2, id_hash=card(3), req_id="portal-hang")
        assert exc.value.reason == "timeout"
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    again = relay.create("site-a", procedure=PROC, slot=slot2, id_hash=card(3), req_id="portal-hang")
    assert again["ok"], again.get("error")
    repeat = relay.create("site-a", procedure=PROC, slot=slot2, id_hash=card(3), req_id="portal-hang")
    assert repeat["result"]["booking"]["code"] == again["result"]["booking"]["code"]
    by_card = sorted(d["id_hash"] for d in created(server.db))
    assert by_card == [card(2), card(3)]         # one booking each, none from the late copy

    # the bridge goes down with the site broker: the province broker says so (the bridge's will)
    fleet["site"].stop()
    assert until(lambda: not relay.offers()["site-a"].online, timeout=10)
    with pytest.raises(SiteOffline):
        relay.create("site-a", procedure=PROC, slot=slot, id_hash=card(4), req_id="portal-down")


def test_expired_copy_is_not_applied_and_not_remembered(fleet):
    relay, server, pcreds = fleet["relay"], fleet["server"], fleet["pcreds"]
    slot = online_offer(relay).procedure(PROC).slots[0].slot
    province = Peer(fleet["province"].port, "province", pcreds["province"]["password"],
                    topics=[P.booking_reply("site-a")])
    try:
        past = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
        province.pub(P.booking_cmd("site-a"), json.dumps({
            "v": 1, "type": "booking.create", "req_id": "late-1", "procedure": PROC, "slot": slot,
            "id_hash": card(5), "expires_at": past}))
        late = province.wait_for(lambda m: m.data and m.data.get("req_id") == "late-1", timeout=10).data
        assert not late["ok"] and late["error"]["code"] == "expired" and late["error"]["message_vi"]
        # bad input: a clear refusal, and the site keeps answering
        province.pub(P.booking_cmd("site-a"), json.dumps({"v": 1, "type": "booking.create", "req_id": "bad-1",
                                                          "procedure": PROC, "slot": "tomorrow", "id_hash": "x"}))
        bad = province.wait_for(lambda m: m.data and m.data.get("req_id") == "bad-1", timeout=10).data
        assert bad["error"]["code"] == "bad_request"
    finally:
        province.close()
    assert created(server.db) == []
    reply = relay.create("site-a", procedure=PROC, slot=slot, id_hash=card(5), req_id="late-1")
    assert reply["ok"], reply
    assert len(created(server.db)) == 1


def v5_puback(port: int, user: str, password: str, topic: str, payload: str) -> int:
    """The broker's PUBACK reason code for one QoS 1 publish (MQTT v5 says "not authorized": 0x87)."""
    acks: dict[int, int] = {}
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
    c.username_pw_set(user, password)
    c.on_publish = lambda client, userdata, mid, rc, props: acks.__setitem__(mid, rc.value)
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        info = c.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        return acks[info.mid]
    finally:
        c.disconnect()
        c.loop_stop()


def test_only_the_bridge_and_the_province_write_booking_commands(fleet):
    kconf = load_device_config(fleet["hosts"]["mc-kiosk-1"] / "files/etc/motcua/kiosk.yaml")
    cmd = json.dumps({"v": 1, "type": "booking.create", "req_id": "kiosk-1", "procedure": PROC,
                      "slot": "2030-01-02T08:00", "id_hash": card(6)})
    # a kiosk on its site broker
    assert v5_puback(fleet["site"].port, kconf.mqtt.username, kconf.mqtt.password, P.booking_cmd("site-a"), cmd) == 0x87
    # a site's bridge user on the province broker (it only reads its own commands)
    bridge = fleet["pcreds"]["bridges"]["site-a"]
    assert v5_puback(fleet["province"].port, bridge["username"], bridge["password"], P.booking_cmd("site-a"), cmd) == 0x87
    assert created(fleet["server"].db) == []
    # the local user `bridge` is the one that brings the province's commands in
    acl = (fleet["hosts"]["mc-server"] / "files/etc/mosquitto/motcua/acl").read_text()
    assert f"topic write {P.booking_cmd('site-a')}" in acl.split("user bridge", 1)[1].split("\n\n")[0]


def test_a_standalone_site_sends_no_offer_until_its_broker_has_a_bridge(tmp_path):
    with RunningSite(tmp_path) as s:                  # the demo district: takes bookings, no bridge
        assert s.site.bookings is not None
        t = Topics(s.site.id)
        server = s.creds["server"]
        peer = Peer(s.mqtt_port, server["username"], server["password"], topics=[t.booking_offer])
        try:
            # a command through the loop and back: the offer thread has long been running by then
            assert s.device("kiosk", "k1").request("ticket.issue", {"sector": "tu-phap-ho-tich"})["ok"]
            assert s.server.gateway.province.offers_sent == 0 and peer.got == []
            # the bridge's retained notification on the site broker ("0": the link is down, the
            # snapshot connection queues the offer for the province)
            peer.pub(t.bridge_state, "0", retain=True)
            offer = peer.wait_for(lambda m: m.topic == t.booking_offer, timeout=10).data
            assert offer["type"] == "bookings.offer" and offer["site"] == s.site.id and offer["procedures"]
        finally:
            peer.close()
