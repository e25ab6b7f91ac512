"""Guarantee 4 over the real broker: generated bad payloads from real device clients (with their
own credentials, on their own command topics) and, with the server's credentials, on the topics
of devices that are not registered. Every payload gets its error reply; the server keeps going
and its state does not move.
"""
from __future__ import annotations

import json
import threading
import time

from hypothesis import HealthCheck, given, settings

from tests.support.payloads import CONTRACT_ERRORS, command_payload
from tests.support.site import RunningSite
from tests.support.wait import until

PER_DEVICE = 150


def test_bad_payloads_over_the_broker(tmp_path):
    with RunningSite(tmp_path) as site:
        kiosk = site.device("kiosk", "k1")
        counter = site.device("counter", "q1")
        assert kiosk.request("ticket.issue", {"sector": "dat-dai"})["ok"]      # the day has started
        seq0 = site.service.state.last_seq
        replies: dict[str, list[dict]] = {"k1": [], "q1": []}
        lock = threading.Lock()

        def collect(name):
            def cb(_topic, payload):
                with lock:
                    replies[name].append(json.loads(payload))
            return cb
        assert kiosk.subscribe(kiosk.topics.kiosk_reply("k1"), collect("k1"), wait=5)       # SUBACK
        assert counter.subscribe(counter.topics.counter_reply("q1"), collect("q1"), wait=5)
        sent = {"k1": 0, "q1": 0}

        for name, client, kind in (("k1", kiosk, "kiosk"), ("q1", counter, "counter")):
            @settings(max_examples=PER_DEVICE, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(command_payload(kind))
            def send(payload):
                client.publish(client.topics.cmd(kind, client.device_id), payload).wait_for_publish(5)
                sent[name] += 1
            send()

        until(lambda: all(len(replies[n]) >= sent[n] for n in sent), timeout=20)
        for name in sent:
            assert len(replies[name]) >= sent[name], f"{name}: {len(replies[name])} replies to {sent[name]} payloads"
            for r in replies[name]:
                assert r["ok"] is False and r["error"]["code"] in CONTRACT_ERRORS, r

        # with the server's own credentials, commands on topics of unregistered devices
        from protocol.client import DeviceClient
        user, password = site.creds["server"]["username"], site.creds["server"]["password"]
        spy = DeviceClient(site.broker_url, site.site.id, "display", "spy", username=user, password=password,
                           client_id="fuzz-server-user")
        assert spy.start(5)
        try:
            stranger_replies: list[dict] = []
            assert spy.subscribe(spy.topics.kiosk_reply("zz1"), lambda _t, p: stranger_replies.append(json.loads(p)),
                                 wait=5)
            for i in range(20):
                spy.publish(spy.topics.kiosk_cmd("zz1"),
                            {"v": 1, "type": "ticket.issue", "req_id": f"s{i}", "sector": "dat-dai"}).wait_for_publish(5)
            until(lambda: len(stranger_replies) >= 20, timeout=5)
            assert len(stranger_replies) == 20
            assert all(r["error"]["code"] == "not_allowed" for r in stranger_replies)
        finally:
            spy.stop()

        # nasty status payloads on k1's own status topic (it may publish there): deep nesting
        # once ended the server's MQTT thread
        for nasty in (b"[" * 100_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000, b"\xff\xfe", b"x" * 70_000, b"[]"):
            kiosk.publish(kiosk.topics.device_status("kiosk", "k1"), nasty).wait_for_publish(5)
        time.sleep(0.3)     # a negative check: time for a nasty status to have done harm

        assert site.service.state.last_seq == seq0, "a bad payload changed the state"
        # (this test's own subscriptions replaced k1's and q1's reply handlers: ask as k2)
        assert site.device("kiosk", "k2").request("ticket.issue", {"sector": "dat-dai"})["ok"], \
            "the server stopped answering"
        print(f"fuzz over the broker: {sum(sent.values())} payloads + 20 from an unregistered kiosk topic")
