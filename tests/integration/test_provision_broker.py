"""The generated site broker really starts, refuses bad passwords, and enforces docs/protocol.md's ACL."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from firmware_config.inventory import parse_inventory
from firmware_config.localrun import local_inventory_data, province_broker_conf, site_broker_conf
from firmware_config.provision import provision
from protocol.topics import ProvinceTopics, Topics
from tests.support.broker import Mosquitto, free_port
from tests.support.mqtt_peer import Peer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site-inventory.yaml"
SITE = "demo-district"
T = Topics(SITE)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site-broker")
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    port, pport = free_port(), free_port()
    inv = parse_inventory(local_inventory_data(data, broker_port=port, province_port=pport), "local")
    bundle = provision(inv, tmp / "out")
    server_dir = next(b.directory for b in bundle.hosts if b.host.role == "server")
    broker = Mosquitto(tmp / "run", port=port, conf=site_broker_conf(server_dir)).start()
    creds = json.loads(bundle.credentials.read_text())
    peers: list[Peer] = []

    def connect(kind: str, dev: str | None = None, password: str | None = None) -> Peer:
        entry = creds[kind] if dev is None else creds[kind][dev]
        p = Peer(port, entry["username"], password or entry["password"])
        peers.append(p)
        return p

    yield {"broker": broker, "creds": creds, "connect": connect, "bundle": bundle, "port": port,
           "province_port": pport, "tmp": tmp}
    for p in peers:
        p.close()
    broker.stop()


def test_generated_conf_starts_and_authenticates(site):
    assert site["connect"]("kiosk", "k1").ok
    assert site["connect"]("server").ok
    assert not site["connect"]("kiosk", "k1", password="wrong").ok
    anon = Peer(site["port"], None, None)
    assert not anon.ok
    anon.close()


def test_acl_matches_protocol(site):
    connect = site["connect"]
    server = connect("server")
    server.sub(T.everything)
    k1, k2, q1, d1 = connect("kiosk", "k1"), connect("kiosk", "k2"), connect("counter", "q1"), connect("display", "d1")
    # allowed: each device its own cmd and status
    k1.pub(T.kiosk_cmd("k1"), "k1-own")
    q1.pub(T.counter_cmd("q1"), "q1-own")
    k1.pub(T.device_status("kiosk", "k1"), "k1-status")
    # refused: another device's cmd, server outputs, displays publishing anything
    k1.pub(T.kiosk_cmd("k2"), "k1-as-k2")
    k1.pub(T.counter_cmd("q1"), "k1-as-q1")
    k1.pub(T.board, "k1-board")
    q1.pub(T.counter_cmd("q2"), "q1-as-q2")
    q1.pub(T.counter_state("q1"), "q1-state")
    q1.pub(T.events_log, "q1-log")
    d1.pub(T.board, "d1-board")
    d1.pub(T.kiosk_cmd("k1"), "d1-cmd")
    k2.pub(T.kiosk_reply("k1"), "k2-reply")
    time.sleep(0.5)     # a negative check: time for a refused publish to have arrived, if it could
    # (the bridge's own notification, "0" while the province is unreachable, is no device's publish)
    payloads = sorted(p.decode() for t, p in server.got if t != T.bridge_state)
    assert payloads == ["k1-own", "k1-status", "q1-own"]

    # reads: a kiosk gets the board and its own reply, not another kiosk's reply
    for p in (k1, k2, d1, q1):
        p.got.clear()
    k1.sub(T.board, T.kiosk_reply("k1"), T.kiosk_reply("k2"), T.counter_reply("q1"))
    d1.sub(T.board, T.all_counter_states, T.kiosk_cmd("k1"))
    q1.sub(T.counter_reply("q1"), T.counter_reply("q2"), T.counter_state("q1"))
    for topic in (T.board, T.kiosk_reply("k1"), T.kiosk_reply("k2"), T.counter_reply("q1"),
                  T.counter_reply("q2"), T.counter_state("q1")):
        server.pub(topic, "from-server")
    k1.pub(T.kiosk_cmd("k1"), "seen-by-nobody-but-server")
    time.sleep(0.5)     # a negative check, as above
    assert sorted(k1.topics()) == sorted([T.board, T.kiosk_reply("k1")])
    assert sorted(d1.topics()) == sorted([T.board, T.counter_state("q1")])
    assert sorted(q1.topics()) == sorted([T.counter_reply("q1"), T.counter_state("q1")])


def test_nearby_advice_readable_by_kiosks_only_from_the_bridge(site):
    """Kiosks read the province's nearby topic on their own broker; no device may write it."""
    connect = site["connect"]
    topic = ProvinceTopics().nearby(SITE, "dat-dai")
    k1 = connect("kiosk", "k1")
    k1.sub(ProvinceTopics().nearby_site(SITE))
    k2 = connect("kiosk", "k2")
    k2.pub(topic, "forged")
    connect("server").pub(topic, "forged-by-server")
    time.sleep(0.4)     # a negative check: the forged advice would have arrived by now
    assert k1.got == []
    bridge = Peer(site["port"], "bridge", site["creds"]["bridge"]["password"])
    try:
        bridge.pub(topic, "advice")
        assert k1.wait_count(1)
        assert k1.got == [(topic, b"advice")]
    finally:
        bridge.close()


def test_province_broker_conf_starts(site):
    """The province broker's generated files: the provincial user reads events, a bridge user
    may write only its own site's topics."""
    pdir = site["bundle"].province_dir
    pcreds = json.loads((pdir / "credentials.json").read_text())
    conf = province_broker_conf(pdir)
    port = free_port()
    conf = conf.replace(f"listener {site['province_port']} 0.0.0.0", f"listener {port} 127.0.0.1")
    prov = Mosquitto(site["tmp"] / "prov-run", port=port, conf=conf).start()
    try:
        reader = Peer(port, "province", pcreds["province"]["password"])
        reader.sub(ProvinceTopics().all_events_log)
        br = Peer(port, f"bridge-{SITE}", pcreds["bridges"][SITE]["password"])
        br.pub(T.events_log, "ok")
        br.pub(Topics("other-site").events_log, "forged")
        assert reader.wait_count(1)
        time.sleep(0.3)     # a negative check: the forged event would have arrived by now
        assert reader.got == [(T.events_log, b"ok")]
        reader.close()
        br.close()
    finally:
        prov.stop()
