"""The kiosk against the real core: tickets, live waits, server/broker down, retained status, catalogue cache.

Every test runs the real queue server in-process (tests.support.site.RunningSite: SQLite, MQTT
gateway, web app) on a real mosquitto with the generated users and ACL. Live waits come from
real tickets; "issued once" is counted as `ticket.issued` events in the store. Only the
deliberately broken catalogue comes from a tiny HTTP peer (tests.support.catalogue_http).
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
from kiosk.runtime import build_kiosk
from protocol.topics import Topics
from queue_server.domain.events import TICKET_ISSUED
from tests.support.catalogue_http import StaticCatalogue
from tests.support.mqtt_peer import Peer
from tests.support.open_site import open_now
from tests.support.site import RunningSite
from tests.support.wait import wait_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "queue_server" / "sites" / "demo-district.yaml"

pytestmark = pytest.mark.timeout(60)


def retained(running: RunningSite, topic: str, timeout=3.0) -> dict:
    """The retained message of a topic, read by a fresh client (logged in as the server, which reads all)."""
    user, password = running.creds["server"]["username"], running.creds["server"]["password"]
    box, got = [], threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2)
    c.username_pw_set(user, password)
    c.on_connect = lambda cl, *a: cl.subscribe(topic, 1)
    c.on_message = lambda cl, u, m: (box.append(json.loads(m.payload)), got.set())
    c.connect("127.0.0.1", running.mqtt_port)
    c.loop_start()
    try:
        assert got.wait(timeout), f"nothing retained on {topic}"
        return box[-1]
    finally:
        c.disconnect()
        c.loop_stop()


def issued(running: RunningSite, device: str | None = None) -> list:
    """The `ticket.issued` events in the store (of one kiosk's requests when `device` is given;
    the store names a device kind/id)."""
    return [e for e in running.events(TICKET_ISSUED) if device is None or e.device == f"kiosk/{device}"]


def kiosk_config(running: RunningSite, device: str, server_url: str | None = None):
    user, password = running.credentials("kiosk", device)
    return parse_device_config({"site": running.site.id, "id": device,
                                "mqtt": {"url": running.broker_url, "username": user, "password": password},
                                "server_url": server_url or running.http_url, "printer": {"kind": "dummy"},
                                "speech": {"enabled": False}}, "kiosk")


@pytest.fixture
def rig(tmp_path):
    # open now, whatever the hour: else the kiosk rightly says "past closing" before printing
    with RunningSite(tmp_path / "site", open_now(DEMO, tmp_path)) as running:
        kiosk = build_kiosk(kiosk_config(running, "k2"), cache_dir=tmp_path / "cache", with_buttons=False)
        kiosk.vm.settings.request_timeout_s = 2.0
        kiosk.start(wait=5)
        try:
            yield kiosk, running
        finally:
            kiosk.stop()


def test_ticket_over_mqtt_printed_and_live_waits(rig):
    kiosk, running = rig
    vm = kiosk.vm
    other = running.device("kiosk", "k1")
    for _ in range(7):                              # seven citizens already wait for land matters
        assert other.request("ticket.issue", {"sector": "dat-dai"})["ok"]
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
    assert vm.ticket.number == "A001" and vm.ticket.procedure == "ket-hon"
    assert issued(running)[-1].device == "kiosk/k2"
    assert b"\x1dv0" in kiosk.printer._printer().output
    assert elapsed < 2.0, f"touch to printed bytes took {elapsed:.2f} s"


def test_server_down_then_up_issues_one_ticket_with_the_same_req_id(rig):
    kiosk, running = rig
    vm = kiosk.vm
    wait_for(lambda: vm.server_online is True, what="server online")
    running.stop_server()                             # announces server/status offline (retained)
    wait_for(lambda: vm.server_online is False, what="server offline seen")
    assert "khởi động lại" in vm.banner()
    vm.open_sector("dat-dai")
    vm.take_ticket()
    wait_for(lambda: vm.screen == "error", what="no-answer screen")
    req_id = vm.pending["req_id"]
    running.start_server()
    wait_for(lambda: vm.server_online is True, what="server back")
    vm.retry()
    wait_for(lambda: vm.print_status == "ok", what="ticket after retry")
    tickets = issued(running, "k2")
    assert len(tickets) == 1 and {e.req_id for e in tickets} == {req_id}


def test_broker_restart_the_kiosk_reconnects_and_retries(rig):
    kiosk, running = rig
    vm = kiosk.vm
    running.broker.stop()
    wait_for(lambda: not vm.connected, what="disconnect seen")
    assert "Mất kết nối" in vm.banner() and vm.status_led == "fault"
    vm.open_sector("xay-dung")
    vm.take_ticket()
    wait_for(lambda: vm.screen == "error", what="no-answer screen")
    running.broker.start()
    wait_for(lambda: vm.connected, timeout=10, what="kiosk reconnect")
    # The broker kept nothing (no persistence), so an online status is the server's own after it
    # reconnected; it publishes that after subscribing to the kiosks' commands.
    watcher = Peer(running.mqtt_port, running.creds["server"]["username"], running.creds["server"]["password"],
                   topics=[Topics(running.site.id).server_status])
    try:
        watcher.wait_for(lambda m: isinstance(m.data, dict) and m.data.get("online") is True, timeout=10)
    finally:
        watcher.close()
    vm.retry()
    wait_for(lambda: vm.print_status == "ok", what="ticket after broker restart")
    assert [e.data["ticket"]["sector"] for e in issued(running)] == ["xay-dung"]


def test_retained_device_status_tells_staff_about_paper_and_help(rig):
    kiosk, running = rig
    vm = kiosk.vm
    topic = Topics("demo-district").device_status("kiosk", "k2")
    assert retained(running, topic)["online"] is True
    vm.request_help()
    wait_for(lambda: retained(running, topic).get("help_requested") is True, what="help in status")
    status = retained(running, topic)
    assert status["help_requested_at"] and status["kind"] == "kiosk" and status["id"] == "k2"
    vm.printer_status = "ok"
    from kiosk.printing import PrintOutcome
    vm._report_printer(PrintOutcome("paper_out", "no paper"))
    wait_for(lambda: retained(running, topic).get("printer") == "paper_out", what="paper_out in status")
    vm.help_served()
    wait_for(lambda: retained(running, topic).get("help_requested") is False, what="help cleared")


def test_catalogue_is_cached_and_used_when_the_server_is_down(tmp_path):
    with RunningSite(tmp_path / "site", DEMO) as running:
        store = CatalogueStore(running.http_url, tmp_path / "c" / "catalogue.json")
        fresh = store.load()
        assert not store.from_cache and fresh.sector("dat-dai").name.vi == "Đất đai"
        running.stop_server()
        cached = CatalogueStore(running.http_url, tmp_path / "c" / "catalogue.json", timeout=0.5)
        cat = cached.load()
        assert cached.from_cache and cat == fresh
        empty = CatalogueStore(running.http_url, tmp_path / "nothing" / "catalogue.json", timeout=0.5)
        with pytest.raises(CatalogueError):
            empty.load()


def test_a_broken_catalogue_never_replaces_the_good_cache(tmp_path):
    cache = tmp_path / "catalogue.json"
    with RunningSite(tmp_path / "site", DEMO) as running:
        CatalogueStore(running.http_url, cache).load()
    broken = StaticCatalogue({"site": {"id": "x"}, "sectors": "oops"})     # what no real server sends
    try:
        store = CatalogueStore(broken.url, cache)
        cat = store.load()                    # the server's answer is refused, the cache is used
        assert store.from_cache and cat.sector("dat-dai") is not None
    finally:
        broken.stop()


def test_with_the_real_queue_server(tmp_path):
    with RunningSite(tmp_path / "site", open_now(DEMO, tmp_path)) as running:
        kiosk = build_kiosk(kiosk_config(running, "k1"), cache_dir=tmp_path / "cache", with_buttons=False)
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
            assert t.number.startswith("A") and t.sector == "tu-phap-ho-tich"
            assert vm.ticket_ahead() == 0 and t.track_url
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
