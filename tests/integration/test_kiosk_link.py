"""The kiosk's link reads each broadcast message through its model (protocol/messages.py), on a
real mosquitto: live waits and the server's state reach the view-model; a payload the contract
refuses is dropped there and changes nothing (before, a server status without `online` read as
"server restarting" and raised the banner and the fault LED).

Order is what makes the checks event-driven: one publisher, QoS 1, so the broker hands the kiosk
the messages in the order sent, and a good message after the junk proves the junk was read.
"""
from __future__ import annotations

import pytest

from firmware_config.device_config import parse_device_config
from kiosk.runtime import build_kiosk
from protocol.client import DeviceClient
from protocol.messages import SectorStats, ServerStatus, dumps
from protocol.topics import Topics
from queue_server.catalogue import catalogue_document
from queue_server.config import load_site
from queue_server.domain.state import SiteState
from tests.support.catalogue_http import StaticCatalogue
from tests.support.kiosk_fakes import DEMO
from tests.support.mqtt_peer import Peer
from tests.support.wait import wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def kiosk(tmp_path, mosquitto):
    site = load_site(DEMO)
    http = StaticCatalogue(catalogue_document(SiteState.initial(site), site))
    config = parse_device_config({"site": site.id, "id": "k1", "mqtt": {"url": mosquitto.url},
                                  "server_url": http.url, "printer": {"kind": "dummy"},
                                  "speech": {"enabled": False}}, "kiosk")
    k = build_kiosk(config, cache_dir=tmp_path / "cache", with_buttons=False)
    try:
        assert k.link.start(wait=5)
        assert k.link.client.wait_subscribed(timeout=5)     # SUBACKs: what is published now arrives
        yield k
    finally:
        k.stop()
        http.stop()


def test_waits_and_server_state_arrive_through_their_models_and_junk_is_dropped(kiosk, mosquitto):
    vm, t = kiosk.vm, Topics(kiosk.config.site)
    server = Peer(mosquitto.port)
    try:
        for junk in (b"\xff not json", b"[1, 2]", dumps({"v": 1, "type": "sector.stats", "waiting": "many"})):
            server.pub(t.sector_stats("dat-dai"), junk)
        for junk in (b"", b"{}", dumps({"v": 1, "type": "server.status", "online": "perhaps"})):
            server.pub(t.server_status, junk)
        # an older server's name for the wait still reads, through the model
        server.pub(t.sector_stats("xay-dung"), dumps({"v": 1, "type": "sector.stats", "waiting": 4,
                                                      "est_wait_s": 1200}))
        wait_for(lambda: "xay-dung" in vm.stats, what="the good stats after the junk")
        assert set(vm.stats) == {"xay-dung"}
        assert (vm.stats["xay-dung"]["waiting"], vm.stats["xay-dung"]["shown_wait_s"]) == (4, 1200)
        assert vm.server_online is None and vm.banner() == "" and vm.status_led == "ready"

        server.pub(t.sector_stats("dat-dai"), dumps(SectorStats.build(ts="2026-12-02T08:00:00+07:00", seq=7,
                                                                     sector="dat-dai", waiting=9, shown_wait_s=3300)))
        server.pub(t.server_status, dumps(ServerStatus.build(ts="2026-12-02T08:00:00+07:00", online=False)))
        wait_for(lambda: vm.server_online is False, what="the server's status")
        assert (vm.stats["dat-dai"]["waiting"], vm.stats["dat-dai"]["shown_wait_s"]) == (9, 3300)
        assert "khởi động lại" in vm.banner() and vm.status_led == "fault"
    finally:
        server.close()


def test_subscribe_can_wait_for_the_suback(mosquitto):
    """DeviceClient.subscribe(wait=...) returns once the broker granted it, so a message
    published right after is delivered: no sleep in a test, no guess in a tool."""
    client = DeviceClient(mosquitto.url, "demo-district", "display", "d9")
    got: list[bytes] = []
    assert client.start(5)
    try:
        topic = Topics("demo-district").board
        assert client.subscribe(topic, lambda _t, payload: got.append(payload), wait=5)
        sender = Peer(mosquitto.port)
        try:
            sender.pub(topic, b'{"v": 1}')
        finally:
            sender.close()
        wait_for(lambda: got == [b'{"v": 1}'], what="the message published after the SUBACK")
    finally:
        client.stop()
