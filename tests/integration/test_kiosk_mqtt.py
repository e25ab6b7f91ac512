"""The kiosk against a real broker: tickets, live waits, server/broker down, retained status, catalogue cache.

Most tests use the stand-in server (kiosk.fakesite) on a bare mosquitto; the
last one runs the real queue server (tests.support.site.RunningSite, with the
generated users and ACL) and takes a ticket and online guidance from the kiosk.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firmware_config.device_config import parse_device_config
from kiosk.catalogue import CatalogueError, CatalogueStore
from kiosk.fakesite import CatalogueServer, FakeTicketServer, catalogue_from_site, load_site
from kiosk.runtime import build_kiosk
from protocol.topics import Topics
from tests.support.wait import wait_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "queue_server" / "sites" / "demo-district.yaml"

pytestmark = pytest.mark.timeout(60)


def retained(broker_url: str, topic: str, timeout=3.0) -> dict:
    """The retained message of a topic, read by a fresh client."""
    from protocol.client import BrokerUrl
    b = BrokerUrl.parse(broker_url)
    box, got = [], threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2)
    if b.username:
        c.username_pw_set(b.username, b.password)
    c.on_connect = lambda cl, *a: cl.subscribe(topic, 1)
    c.on_message = lambda cl, u, m: (box.append(json.loads(m.payload)), got.set())
    c.connect(b.host, b.port)
    c.loop_start()
    try:
        assert got.wait(timeout), f"nothing retained on {topic}"
        return box[-1]
    finally:
        c.disconnect()
        c.loop_stop()


@pytest.fixture
def site():
    return load_site(DEMO)


@pytest.fixture
def rig(tmp_path, mosquitto, site):
    http = CatalogueServer(catalogue_from_site(site)).start()
    server = FakeTicketServer(mosquitto.url, site).start()
    config = parse_device_config({"site": site.id, "id": "k2", "mqtt": {"url": mosquitto.url},
                                  "server_url": http.url, "printer": {"kind": "dummy"},
                                  "speech": {"enabled": False}}, "kiosk")
    kiosk = build_kiosk(config, cache_dir=tmp_path / "cache", with_buttons=False)
    kiosk.vm.settings.request_timeout_s = 2.0
    kiosk.start(wait=5)
    yield kiosk, server, http, mosquitto
    kiosk.stop()
    server.stop(announce_offline=False)
    http.stop()


def test_ticket_over_mqtt_printed_and_live_waits(rig):
    kiosk, server, _, broker = rig
    vm = kiosk.vm
    server.publish_stats("dat-dai", 7, 2400)
    wait_for(lambda: vm.stats.get("dat-dai", {}).get("waiting") == 7, what="retained sector stats")
    # server/status is retained too, but may arrive after the sector stats: wait for it, not assume it
    wait_for(lambda: vm.server_online is True, what="retained server/status online")
    assert vm.connected and vm.banner() == ""
    vm.open_sector("tu-phap-ho-tich")
    vm.open_procedure("ket-hon")
    t0 = time.perf_counter()
    vm.take_ticket()
    wait_for(lambda: vm.print_status == "ok", what="ticket printed")
    elapsed = time.perf_counter() - t0
    assert vm.ticket["number"] == "A001" and vm.ticket["procedure"] == "ket-hon"
    assert server.received[-1]["device"] == "k2"
    assert b"\x1dv0" in kiosk.printer._printer().output
    assert elapsed < 2.0, f"touch to printed bytes took {elapsed:.2f} s"


def test_server_down_then_up_issues_one_ticket_with_the_same_req_id(rig):
    kiosk, server, _, broker = rig
    vm = kiosk.vm
    server.stop()                                     # announces server/status offline (retained)
    wait_for(lambda: vm.server_online is False, what="server offline seen")
    assert "khởi động lại" in vm.banner()
    vm.open_sector("dat-dai")
    vm.take_ticket()
    wait_for(lambda: vm.screen == "error", what="no-answer screen")
    req_ids = set()
    server2 = FakeTicketServer(broker.url, load_site(DEMO)).start()
    try:
        wait_for(lambda: vm.server_online is True, what="server back")
        vm.retry()
        wait_for(lambda: vm.print_status == "ok", what="ticket after retry")
        req_ids = {r["req_id"] for r in server2.received}
        assert len(server2.issued) == 1 and len(req_ids) == 1
    finally:
        server2.stop(announce_offline=False)


def test_broker_restart_the_kiosk_reconnects_and_retries(rig):
    kiosk, server, _, broker = rig
    vm = kiosk.vm
    broker.stop()
    wait_for(lambda: not vm.connected, what="disconnect seen")
    assert "Mất kết nối" in vm.banner() and vm.status_led == "fault"
    vm.open_sector("xay-dung")
    vm.take_ticket()
    wait_for(lambda: vm.screen == "error", what="no-answer screen")
    broker.start()
    wait_for(lambda: vm.connected, timeout=10, what="kiosk reconnect")
    wait_for(lambda: server.client.is_connected(), timeout=10, what="server reconnect")
    time.sleep(0.3)     # the stand-in server's SUBACK: DeviceClient.subscribe does not wait for it
    vm.retry()
    wait_for(lambda: vm.print_status == "ok", what="ticket after broker restart")
    assert [t["sector"] for t in server.issued] == ["xay-dung"]


def test_retained_device_status_tells_staff_about_paper_and_help(rig):
    kiosk, server, _, broker = rig
    vm = kiosk.vm
    topic = Topics("demo-district").device_status("kiosk", "k2")
    assert retained(broker.url, topic)["online"] is True
    vm.request_help()
    wait_for(lambda: retained(broker.url, topic).get("help_requested") is True, what="help in status")
    status = retained(broker.url, topic)
    assert status["help_requested_at"] and status["kind"] == "kiosk" and status["id"] == "k2"
    vm.printer_status = "ok"
    from kiosk.printing import PrintOutcome
    vm._report_printer(PrintOutcome("paper_out", "no paper"))
    wait_for(lambda: retained(broker.url, topic).get("printer") == "paper_out", what="paper_out in status")
    vm.help_served()
    wait_for(lambda: retained(broker.url, topic).get("help_requested") is False, what="help cleared")


def test_catalogue_is_cached_and_used_when_the_server_is_down(tmp_path, site):
    doc = catalogue_from_site(site)
    http = CatalogueServer(doc).start()
    store = CatalogueStore(http.url, tmp_path / "c" / "catalogue.json")
    fresh = store.load()
    assert not store.from_cache and fresh.sector("dat-dai").name.vi == "Đất đai"
    http.stop()
    cached = CatalogueStore(http.url, tmp_path / "c" / "catalogue.json", timeout=0.5)
    cat = cached.load()
    assert cached.from_cache and cat == fresh
    empty = CatalogueStore(http.url, tmp_path / "nothing" / "catalogue.json", timeout=0.5)
    with pytest.raises(CatalogueError):
        empty.load()


def test_a_broken_catalogue_never_replaces_the_good_cache(tmp_path, site):
    good = CatalogueServer(catalogue_from_site(site)).start()
    cache = tmp_path / "catalogue.json"
    CatalogueStore(good.url, cache).load()
    good.document = {"site": {"id": "x"}, "sectors": "oops"}
    store = CatalogueStore(good.url, cache)
    cat = store.load()                        # the server's answer is refused, the cache is used
    assert store.from_cache and cat.sector("dat-dai") is not None
    good.stop()


def test_with_the_real_queue_server(tmp_path):
    from tests.support.site import RunningSite
    with RunningSite(tmp_path / "site", DEMO) as running:
        user, password = running.credentials("kiosk", "k1")
        config = parse_device_config({"site": running.site.id, "id": "k1",
                                      "mqtt": {"url": running.broker_url, "username": user, "password": password},
                                      "server_url": running.http_url, "printer": {"kind": "dummy"},
                                      "speech": {"enabled": False}}, "kiosk")
        kiosk = build_kiosk(config, cache_dir=tmp_path / "cache", with_buttons=False)
        kiosk.start(wait=5)
        try:
            vm = kiosk.vm
            assert vm.catalogue is not None and not vm.catalogue_from_cache
            assert vm.catalogue.procedure("khai-sinh")[1].documents   # documents from the demo site
            wait_for(lambda: vm.server_online is True, what="server/status online")
            vm.open_sector("tu-phap-ho-tich")
            vm.open_procedure("khai-sinh")
            vm.take_ticket()
            wait_for(lambda: vm.print_status == "ok", what="ticket from the real server")
            t = vm.ticket
            assert t["number"].startswith("A") and t["sector"] == "tu-phap-ho-tich"
            assert vm.ticket_ahead() == 0 and t["track_url"]
            board = running.http_get("/api/v1/board")
            assert next(s for s in board["sectors"] if s["id"] == "tu-phap-ho-tich")["waiting"] == 1
            wait_for(lambda: vm.stats.get("tu-phap-ho-tich", {}).get("waiting") == 1, what="live stats")
            vm.go_home()
            vm.open_procedure("ho-kinh-doanh")
            vm.file_online()
            wait_for(lambda: vm.guidance_status in ("ready", "local"), what="guidance")
            assert vm.guidance_status == "ready" and vm.guidance["steps"]
            vm.request_help()              # the dashboard reads device statuses from the server

            def help_seen():
                devices = running.http_get("/api/v1/devices", running.api_token)["devices"]
                return any(d["kind"] == "kiosk" and d["id"] == "k1" and d.get("help_requested") for d in devices)
            wait_for(help_seen, what="help request seen by the server")
        finally:
            kiosk.stop()
