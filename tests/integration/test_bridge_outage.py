"""Two provisioned sites bridged to a province: a real link cut and restored.

Everything runs the generated files: each site's mosquitto.conf + passwd + ACL + bridge, the
province broker's conf + passwd + ACL, and the province consumer into a real PostgreSQL.
While the province broker is down a site keeps working alone; when it returns the province
catches up within 60 s with every event exactly once; the advice flows back to a kiosk.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from firmware_config.inventory import parse_inventory
from firmware_config.localrun import local_inventory_data, province_broker_conf, site_broker_conf
from province.consumer import ProvinceService
from province.store import Store
from firmware_config.provision import provision
from protocol.topics import ProvinceTopics, Topics
from tests.support.broker import Mosquitto, free_port
from tests.support.mqtt_peer import Peer
from tests.support.postgres import pg_url  # noqa: F401  (fixture)
from tests.support.province import CONFIG, board, day_events
from tests.support.wait import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site-inventory.yaml"


def test_link_outage_site_alone_then_province_catches_up(tmp_path, pg_url):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    pport = free_port()
    out = tmp_path / "fleet"
    sites, brokers = {}, []
    for site_id in ("site-a", "site-b"):
        port = free_port()
        inv = parse_inventory(local_inventory_data(data, broker_port=port, province_port=pport, site_id=site_id))
        bundle = provision(inv, out)
        server_dir = next(b.directory for b in bundle.hosts if b.host.role == "server")
        sites[site_id] = {"port": port, "creds": json.loads(bundle.credentials.read_text())}
        brokers.append(Mosquitto(tmp_path / f"run-{site_id}", port=port, conf=site_broker_conf(server_dir)))
    pdir = out / "province"
    pcreds = json.loads((pdir / "credentials.json").read_text())
    assert set(pcreds["bridges"]) == {"site-a", "site-b"}
    pconf = province_broker_conf(pdir).replace(f"listener {pport} 0.0.0.0", f"listener {pport} 127.0.0.1")
    province = Mosquitto(tmp_path / "run-province", port=pport, conf=pconf)
    peers: list[Peer] = []

    def peer(site_id: str, kind: str, dev: str | None = None) -> Peer:
        c = sites[site_id]["creds"]
        entry = c[kind] if dev is None else c[kind][dev]
        p = Peer(sites[site_id]["port"], entry["username"], entry["password"])
        assert p.ok, f"{entry['username']} could not log in"
        peers.append(p)
        return p

    svc = None
    try:
        province.start()
        for b in brokers:
            b.start()
        svc = ProvinceService(province.url, pg_url, CONFIG, username="province",
                              password=pcreds["province"]["password"]).start()
        assert svc.connected.wait(10)
        server_a, server_b = peer("site-a", "server"), peer("site-b", "server")
        ta, tb = Topics("site-a"), Topics("site-b")
        events_a = day_events("site-a", 40)      # seq 1..120
        events_b = day_events("site-b", 4)       # seq 1..12
        store = Store(pg_url)

        # link up: the first events reach PostgreSQL through the bridges (bridges may still be connecting)
        server_a.c.publish(ta.events_log, events_a[0], qos=1).wait_for_publish(3)
        server_b.c.publish(tb.events_log, events_b[0], qos=1).wait_for_publish(3)
        assert until(lambda: store.count() == 2, timeout=20), "bridges never delivered"
        for e in events_a[1:20]:
            server_a.c.publish(ta.events_log, e, qos=1)
        for e in events_b[1:]:
            server_b.c.publish(tb.events_log, e, qos=1)
        assert until(lambda: store.count() == 32, timeout=10)

        # cut: the province broker is gone
        province.stop()
        time.sleep(0.5)     # the outage lasts a while before the site publishes into it
        for e in events_a[20:]:
            server_a.c.publish(ta.events_log, e, qos=1).wait_for_publish(3)
        # a board made during the outage is queued too (on its own bridge connection)
        server_a.c.publish(ta.board, board("site-a", "A", 77, 7777), qos=1).wait_for_publish(3)
        # the site works alone: a kiosk's command reaches the server, the reply reaches the kiosk
        server_a.sub(ta.all_kiosk_cmds)
        k1 = peer("site-a", "kiosk", "k1")
        k1.sub(ta.kiosk_reply("k1"))
        k1.pub(ta.kiosk_cmd("k1"), json.dumps({"v": 1, "type": "ticket.issue", "req_id": "r1"}))
        assert until(lambda: any(t == ta.kiosk_cmd("k1") for t, _ in server_a.got), timeout=3)
        server_a.pub(ta.kiosk_reply("k1"), json.dumps({"v": 1, "type": "reply", "req_id": "r1", "ok": True}))
        assert k1.wait_count(1)
        time.sleep(1.0)     # a negative check: time for anything that leaked to have arrived
        assert store.count() == 32                 # nothing reached the province while it was down

        # restore: the same broker, same port, its persistent sessions back
        restored = time.monotonic()
        province.start()
        assert until(lambda: store.count() == 132, timeout=60), f"only {store.count()} of 132 after 60 s"
        caught_up = time.monotonic() - restored
        assert caught_up < 60
        assert [s for s, _ in store.events("site-a")] == list(range(1, 121))
        assert [s for s, _ in store.events("site-b")] == list(range(1, 13))
        assert until(lambda: getattr(svc.now.get(("site-a", "dat-dai")), "waiting", None) == 77, timeout=30), \
            "the board made during the outage never reached the province"
        by_site = {s["site"]: s for s in store.sites()}
        assert by_site["site-a"]["missing"] == 0 and by_site["site-a"]["events"] == 120
        time.sleep(0.5)     # a negative check: time for a redelivery to have doubled something
        assert store.count() == 132                # and nothing doubled afterwards

        # advice comes back through the bridge ("in" topic) to a kiosk on its own site broker
        topic = ProvinceTopics().nearby("site-a", "dat-dai")
        k1.got.clear()
        k1.sub(topic)
        # a site's server sends a board on every change: keep sending until the advice arrives
        def advised() -> bool:
            server_b.c.publish(tb.board, board("site-b", "B", 1, 120), qos=1)
            server_a.c.publish(ta.board, board("site-a", "A", 20, 3000), qos=1)
            return until(lambda: any(t == topic and json.loads(p)["nearby"] for t, p in k1.got), timeout=0.5)
        assert until(advised, timeout=30, interval=0), (svc.counters, sorted(svc.now), k1.got)
        advice = json.loads(next(p for t, p in reversed(k1.got) if t == topic))
        assert advice["nearby"][0]["site"] == "site-b"
        store.close()
        print(f"province caught up {120 - 20} queued events in {caught_up:.1f} s after the link returned")
    finally:
        for p in peers:
            p.close()
        if svc:
            svc.stop()
        for b in brokers:
            b.stop()
        province.stop()
