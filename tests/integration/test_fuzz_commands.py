"""Guarantee 4: bad input never crashes the server, gets the contract's error, changes nothing.

In-process (fast): more than 10,000 hypothesis-generated payloads go through the real path
(QueueService.process -> parse_command -> domain -> SQLite store) and every reply through the
real MQTT gateway's encoder, for every command topic (each kiosk and counter, plus topics of
unregistered devices and topics that are not command topics at all). Over the real broker:
a few hundred of the same payloads from real device clients (test_fuzz_broker.py).
"""
from __future__ import annotations

import json
import os
from concurrent.futures import Future
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.topics import Topics
from protocol.version import MAX_PAYLOAD_BYTES
from queue_server.mqtt.gateway import MqttGateway
from queue_server.loop import Item as _Item
from queue_server.service import QueueService
from queue_server.store import EventStore
from tests.support.payloads import CONTRACT_ERRORS, command_payload, json_values, payloads

NOON = datetime(2026, 11, 24, 3, 0, tzinfo=timezone.utc)     # 10:00 in Hà Nội, the centre is open
TARGET_PAYLOADS = 10_000


class Harness:
    """The real service and the real gateway encoder, with the broker replaced by a list."""

    def __init__(self, site, db):
        self.store = EventStore(str(db))
        self.svc = QueueService(site, self.store, clock=lambda: NOON)
        self.gateway = MqttGateway(self.svc, "mqtt://127.0.0.1:9")      # never started
        self.sent: list[tuple[str, bytes]] = []
        self.gateway.client.publish = lambda topic, payload, qos=0, retain=False: self.sent.append((topic, payload))
        self.queued: list[_Item] = []
        self.svc.post = lambda kind, device, payload: self.queued.append(_Item(kind, device, payload, Future()))
        self.topics = Topics(site.id)
        self.count = 0

    def send(self, topic: str, payload: bytes) -> list[_Item]:
        self.gateway._on_cmd(None, None, SimpleNamespace(topic=topic, payload=payload))
        self.count += 1
        items, self.queued = self.queued, []
        return items

    def run(self, items: list[_Item]) -> list[dict]:
        self.sent.clear()
        self.svc.process(items)
        replies = [it.future.result(0) for it in items]
        for topic, raw in self.sent:
            assert isinstance(raw, (bytes, bytearray)) and len(raw) <= MAX_PAYLOAD_BYTES * 4
            json.loads(raw.decode("utf-8"))        # every published payload is valid UTF-8 JSON
        return replies


@pytest.fixture(scope="module")
def harness(site_config, tmp_path_factory):
    h = Harness(site_config, tmp_path_factory.mktemp("fuzz") / "motcua.db")
    # one real ticket first: the day has started and there is something a bad command could break
    items = h.send(h.topics.kiosk_cmd("k1"), b'{"v":1,"type":"ticket.issue","req_id":"warm","sector":"dat-dai"}')
    assert h.run(items)[0]["ok"]
    yield h
    h.store.close()


@pytest.mark.slow     # more than 10,000 payloads through the real service
def test_ten_thousand_bad_payloads_on_every_command_topic(harness, site_config):
    h = harness
    targets = ([("kiosk", k) for k in site_config.devices.kiosks] + [("counter", c.id) for c in site_config.counters])
    before = h.svc.state.to_dict()
    seq0, stored0 = h.svc.state.last_seq, h.store.count()
    start = h.count

    kiosk_targets = [t for t in targets if t[0] == "kiosk"]
    counter_targets = [t for t in targets if t[0] == "counter"]
    one_payload = (st.tuples(st.sampled_from(kiosk_targets), command_payload("kiosk"))
                   | st.tuples(st.sampled_from(counter_targets), command_payload("counter")))

    @settings(max_examples=int(os.environ.get("MOTCUA_FUZZ_BATCHES", "400")), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(one_payload, min_size=26, max_size=40))
    def one_batch(sends):
        batch: list[_Item] = []
        for (kind, device), payload in sends:
            batch += h.send(h.topics.cmd(kind, device), payload)
        replies = h.run(batch)
        for reply in replies:
            assert reply is not None and reply["ok"] is False, reply
            assert reply["error"]["code"] in CONTRACT_ERRORS, reply
            assert reply["error"]["message"] and reply["error"].get("message_vi")
        reply_topics = [t for t, _ in h.sent if t.endswith("/reply")]
        assert len(reply_topics) == len(batch), "every command topic gets its answer"
        if h.svc.state.last_seq != seq0:
            new = list(h.store.read(after=seq0))
            raise AssertionError(f"a bad payload changed the state: {[(e.type, e.device, e.req_id) for e in new]}")

    one_batch()
    n = h.count - start
    assert n >= TARGET_PAYLOADS, f"only {n} payloads were generated"
    assert h.store.count() == stored0 and h.svc.state.to_dict() == before
    print(f"fuzz: {n} payloads on {len(targets)} command topics, state unchanged")


def test_wrong_topics_are_ignored_or_refused(harness, site_config):
    h = harness
    root = h.topics.root
    seq0 = h.svc.state.last_seq
    valid = b'{"v":1,"type":"ticket.issue","req_id":"wt","sector":"dat-dai"}'
    n = 0

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(
        st.text(max_size=60).map(lambda s: f"{root}/{s}"),
        st.tuples(st.sampled_from(["kiosk", "counter", "display", "server", "Kiosk"]),
                  st.text(max_size=45)).map(lambda t: f"{root}/{t[0]}/{t[1]}/cmd"),
        st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True).map(lambda d: f"{root}/kiosk/zz{d}/cmd"[:200]),
        st.text(max_size=80)), st.sampled_from([valid, b"garbage"]))
    def one(topic, payload):
        nonlocal n
        items = h.send(topic, payload)
        n += 1
        parsed = h.topics.parse_cmd(topic)
        if parsed is None:
            assert items == []                                   # not a command topic: ignored
            return
        kind, device = parsed
        replies = h.run(items)
        registered = (kind == "kiosk" and device in site_config.devices.kiosks) or \
                     (kind == "counter" and device in site_config.counter_by_id)
        if not registered:
            assert replies[0]["ok"] is False and replies[0]["error"]["code"] in ("not_allowed", "bad_request")
        assert h.svc.state.last_seq == seq0 or registered

    one()
    assert n >= 300
    # an unregistered kiosk with a perfectly valid command changes nothing
    replies = h.run(h.send(h.topics.kiosk_cmd("k99"), b'{"v":1,"type":"ticket.issue","req_id":"x","sector":"dat-dai"}'))
    assert replies[0]["error"]["code"] == "not_allowed"
    assert h.svc.state.last_seq == seq0


def test_unknown_fields_on_a_good_command_are_ignored(harness):
    """The contract allows additions: extra fields never make a good command fail."""
    h = harness

    @settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.text(min_size=1, max_size=12).filter(
        lambda k: k not in ("v", "type", "req_id", "sector", "procedure", "priority", "lang", "ts")),
        json_values, min_size=1, max_size=6))
    def one(extra):
        rid = f"extra-{h.count}"         # hypothesis repeats values; a repeated req_id is (rightly) a replay
        cmd = {"v": 1, "type": "ticket.issue", "req_id": rid, "sector": "xay-dung", **extra}
        seq = h.svc.state.last_seq
        h.svc.limiter._buckets.clear()
        replies = h.run(h.send(h.topics.kiosk_cmd("k2"), json.dumps(cmd).encode()))
        assert replies[0]["ok"], replies[0]
        assert h.svc.state.last_seq == seq + 1

    one()


@pytest.mark.parametrize("v", ["true", "1.0"])
def test_v_must_be_the_integer_1(v):
    from protocol.messages import ProtocolError, parse_command
    with pytest.raises(ProtocolError):
        parse_command("counter", f'{{"v":{v},"type":"counter.open","req_id":"a"}}')


def test_device_status_payloads_never_escape_the_gateway(harness, site_config):
    """Any device may publish its own status: nothing it sends may raise out of the paho callback
    (an exception there ends paho's network thread and the server hears no command again)."""
    from protocol.messages import DeviceStatus
    h = harness
    targets = [("kiosk", k) for k in site_config.devices.kiosks] + [("counter", c.id) for c in site_config.counters]
    n = 0

    @settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(targets), payloads | json_values.map(lambda v: json.dumps(v).encode())
           | st.just(b"[" * 100_000) | st.just(b'{"a":' * 5_000 + b"1" + b"}" * 5_000))
    def one(target, payload):
        nonlocal n
        kind, device = target
        h.gateway._on_device_status(None, None, SimpleNamespace(topic=h.topics.device_status(kind, device),
                                                                payload=payload))
        n += 1
        status = h.svc.devices.get((kind, device))
        assert status is None or isinstance(status, DeviceStatus)

    one()
    assert n >= 400
