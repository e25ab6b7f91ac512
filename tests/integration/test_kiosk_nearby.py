"""The province's nearby-centres advice reaches the kiosk's view-model through a real mosquitto.

The catalogue is the server's own document (queue_server.catalogue) served as it is.
First on a bare broker (retained before the kiosk starts, then live updates and clearing);
then on a site broker with the provisioned users and ACL (firmware_config.provision builds it the
same way), where only the bridge user may write the advice and the kiosk user reads it.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from firmware_config import bridge
from firmware_config.broker import acl_text, password_file, write_site_broker
from firmware_config.device_config import parse_device_config
from kiosk.runtime import build_kiosk
from protocol.messages import SectorStats
from protocol.topics import ProvinceTopics
from queue_server.catalogue import catalogue_document
from queue_server.config import load_site
from queue_server.domain.state import SiteState
from tests.support.broker import Mosquitto, free_port
from tests.support.catalogue_http import StaticCatalogue
from tests.support.mqtt_peer import Peer
from tests.support.wait import wait_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "queue_server" / "sites" / "demo-district.yaml"
P = ProvinceTopics()

pytestmark = pytest.mark.timeout(60)


def advice(site, sector, *options):
    return {"v": 1, "type": "province.nearby", "ts": "2026-11-25T09:00:00+07:00", "site": site, "sector": sector,
            "own": {"waiting": 14, "est_wait_s": 3000}, "nearby": list(options),
            "title": {"vi": "Điểm tiếp nhận gần đây chờ ít hơn", "en": "Nearby centres with shorter waits"}}


WARD_2 = {"site": "phuong-2", "name": {"vi": "Bộ phận một cửa Phường 2", "en": "Ward 2 one-stop desk"},
          "distance_km": 3.2, "waiting": 2, "est_wait_s": 300,
          "address": {"vi": "12 Lê Lợi, Phường 2", "en": "12 Le Loi St, Ward 2"}}


def send(peer: Peer, topic: str, payload) -> None:
    """Publish like the province does: retained, QoS 1."""
    peer.pub(topic, json.dumps(payload, ensure_ascii=False) if not isinstance(payload, bytes) else payload, retain=True)


@pytest.fixture
def site():
    return load_site(DEMO)


@pytest.fixture
def catalogue_http(site):
    # only the catalogue is needed here (the advice comes from the province, not the server):
    # the server's own document for an empty day, without the rest of the server
    http = StaticCatalogue(catalogue_document(SiteState.initial(site), site))
    yield http
    http.stop()


def start_kiosk(tmp_path, site, url, http, **mqtt_extra):
    config = parse_device_config({"site": site.id, "id": "k1", "mqtt": {"url": url, **mqtt_extra},
                                  "server_url": http.url, "printer": {"kind": "dummy"},
                                  "speech": {"enabled": False}, "long_wait_min": 30}, "kiosk")
    kiosk = build_kiosk(config, cache_dir=tmp_path / "cache", with_buttons=False)
    kiosk.start(wait=5)
    return kiosk


def test_retained_advice_reaches_the_card(tmp_path, mosquitto, site, catalogue_http):
    province = Peer(mosquitto.port)
    send(province, P.nearby(site.id, "dat-dai"), advice(site.id, "dat-dai", WARD_2))      # before the kiosk starts
    send(province, P.nearby("other-site", "dat-dai"), advice("other-site", "dat-dai", WARD_2))
    kiosk = start_kiosk(tmp_path, site, mosquitto.url, catalogue_http)
    try:
        vm = kiosk.vm
        assert vm.connected
        wait_for(lambda: "dat-dai" in vm.nearby, what="retained advice")
        assert vm.nearby["dat-dai"][0]["site"] == "phuong-2"
        vm.on_sector_stats("dat-dai", SectorStats(waiting=20, shown_wait_s=3600))
        vm.open_sector("dat-dai")
        vm.open_procedure("cap-gcn-lan-dau")
        near = vm.card()["nearby"]
        assert near["title"] == "Điểm tiếp nhận gần đây chờ ít hơn"
        assert near["rows"][0]["name"] == "Bộ phận một cửa Phường 2"
        assert "12 Lê Lợi" in vm.speech_text()

        # a live update for another sector, then the province clears dat-dai with an empty list
        send(province, P.nearby(site.id, "xay-dung"), advice(site.id, "xay-dung", WARD_2))
        wait_for(lambda: "xay-dung" in vm.nearby, what="live advice")
        send(province, P.nearby(site.id, "dat-dai"), advice(site.id, "dat-dai"))
        wait_for(lambda: "dat-dai" not in vm.nearby, what="advice cleared")
        assert vm.card()["nearby"] is None
        # garbage on the topic is no crash, and deleting the retained message clears too
        send(province, P.nearby(site.id, "xay-dung"), b"\xff not json")
        wait_for(lambda: "xay-dung" not in vm.nearby, what="garbage clears")
        send(province, P.nearby(site.id, "xay-dung"), advice(site.id, "xay-dung", WARD_2))
        wait_for(lambda: "xay-dung" in vm.nearby, what="advice back")
        send(province, P.nearby(site.id, "xay-dung"), b"")
        wait_for(lambda: "xay-dung" not in vm.nearby, what="retained message deleted")
        assert set(vm.nearby) == set() and vm.connected
    finally:
        kiosk.stop()
        province.close()


def test_with_the_provisioned_acl_only_the_bridge_writes_and_the_kiosk_reads(tmp_path, site, catalogue_http):
    """The site ACL as provisioning writes it (acl_text + the bridge's and the nearby readers' lines)."""
    port = free_port()
    files = write_site_broker(site, tmp_path / "mosq", port)
    creds = dict(files.creds, bridge={"username": bridge.BRIDGE_LOCAL_USER, "password": secrets.token_urlsafe(18)})
    password_file(creds, files.passwd)
    files.acl.write_text(acl_text(site, bridge.bridge_local_acl(site.id) + bridge.nearby_readers_acl(site)))
    broker = Mosquitto(tmp_path / "run", port=port, conf=files.conf.read_text()).start()
    k = creds["kiosk"]["k1"]
    kiosk = start_kiosk(tmp_path, site, f"mqtt://127.0.0.1:{port}", catalogue_http,
                        username=k["username"], password=k["password"])
    forger = Peer(port, creds["kiosk"]["k2"]["username"], creds["kiosk"]["k2"]["password"])
    link = Peer(port, "bridge", creds["bridge"]["password"])
    try:
        assert kiosk.vm.connected
        send(forger, P.nearby(site.id, "dat-dai"), advice(site.id, "dat-dai", dict(WARD_2, site="forged")))
        send(link, P.nearby(site.id, "xay-dung"), advice(site.id, "xay-dung", WARD_2))
        wait_for(lambda: "xay-dung" in kiosk.vm.nearby, what="advice through the bridge user")
        assert "dat-dai" not in kiosk.vm.nearby           # a kiosk cannot write advice
    finally:
        forger.close()
        link.close()
        kiosk.stop()
        broker.stop()
