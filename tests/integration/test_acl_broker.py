"""Security: the site broker `motcua up` writes (firmware_config.broker.write_site_broker) lets every
device do exactly what docs/protocol.md's Security section says, and nothing more.

Every device user of the demo site tries to publish to every topic of the site (and of another
site, and outside the tree), and subscribes to every one of them plus wildcards. mosquitto drops an
unauthorised publish silently and may grant a subscription yet filter what it delivers, so the
test judges by what arrives: an authorised observer must see exactly the allowed publishes, and
each device must receive exactly the topics it may read — the allowed ones too, so the test can
not pass by everything being broken.
"""
from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from firmware_config.broker import username
from protocol.topics import Topics
from tests.support.mqtt_peer import Peer
from tests.support.procs import site_broker
from tests.support.wait import until

OTHER = Topics("other-site")


def markers(peer: Peer) -> set[str]:
    """The test markers a peer has received (every publish here carries {"acl": marker})."""
    return {m.data["acl"] for m in peer.messages if isinstance(m.data, dict) and isinstance(m.data.get("acl"), str)}


def publish(peer: Peer, topic: str, marker: str):
    return peer.c.publish(topic, json.dumps({"acl": marker}), qos=1)


def subscribe(peer: Peer, topics: list[str]) -> None:
    for chunk in range(0, len(topics), 20):      # a SUBSCRIBE of a few topics at a time
        peer.sub(*dict.fromkeys(topics[chunk:chunk + 20]))


def universe(site) -> list[str]:
    t = Topics(site.id)
    out = [t.board, t.events_call, t.events_log, t.server_status, f"{t.root}/anything/else", f"{t.root}/cmd",
           OTHER.board, OTHER.kiosk_cmd("k1"), OTHER.counter_cmd("q1"), "motcua/v1", "x/y", "motcua"]
    out += [t.sector_stats(s.id) for s in site.sectors]
    for k in site.devices.kiosks:
        out += [t.kiosk_cmd(k), t.kiosk_reply(k), t.device_status("kiosk", k)]
    for c in site.counters:
        out += [t.counter_cmd(c.id), t.counter_reply(c.id), t.counter_state(c.id), t.device_status("counter", c.id)]
    for d in site.devices.displays:
        out.append(t.device_status("display", d))
    out += [t.kiosk_cmd("k99"), t.counter_cmd("q99"), t.device_status("kiosk", "k99")]   # unregistered ids
    return out


def allowed(site, kind: str, dev: str) -> tuple[set[str], set[str]]:
    """(may publish, may read) for one device, straight from docs/protocol.md's Security section."""
    t = Topics(site.id)
    shared = {t.board, t.events_call, t.server_status} | {t.sector_stats(s.id) for s in site.sectors}
    if kind == "kiosk":
        own = t.device_status("kiosk", dev)
        return {t.kiosk_cmd(dev), own}, shared | {t.kiosk_reply(dev), own}
    if kind == "counter":
        own = t.device_status("counter", dev)
        return {t.counter_cmd(dev), own}, shared | {t.counter_reply(dev), t.counter_state(dev), own}
    return set(), shared | {t.counter_state(c.id) for c in site.counters}


@pytest.fixture(scope="module")
def broker(site_config, tmp_path_factory):
    d = tmp_path_factory.mktemp("acl")
    b, files = site_broker(d / "mosquitto", site_config)
    # an observer outside the generated users, to see topics no site user may read
    b.stop()
    with open(files.acl, "a") as fh:
        fh.write("\nuser acl-observer\ntopic readwrite #\n")
    subprocess.run(["mosquitto_passwd", "-b", str(files.passwd), "acl-observer", "observer-test-only"], check=True)
    b.start()
    yield b, files
    b.stop()


def devices(site):
    return ([("kiosk", k) for k in site.devices.kiosks] + [("counter", c.id) for c in site.counters]
            + [("display", d) for d in site.devices.displays])


def test_strangers_cannot_connect(broker, site_config):
    b, files = broker
    creds = files.creds
    k1 = creds["kiosk"]["k1"]
    tries = [(None, None), (k1["username"], "wrong"), (k1["username"], creds["kiosk"]["k2"]["password"]),
             ("server", k1["password"]), ("admin", "admin"), ("", "")]
    peers = [Peer(b.port, user, password) for user, password in tries]
    try:
        for (user, _), p in zip(tries, peers):
            assert p.answered.is_set(), f"{user!r}: no answer from the broker"
            assert not p.ok, f"{user!r} with a wrong password was let in"
    finally:
        closers = [threading.Thread(target=p.close) for p in peers]     # paho's loop_stop waits out a backoff
        for t in closers:
            t.start()
        for t in closers:
            t.join()


def test_every_device_publishes_only_where_it_may(broker, site_config):
    b, files = broker
    creds = files.creds
    observer = Peer(b.port, "acl-observer", "observer-test-only")
    subscribe(observer, ["#"])
    topics = universe(site_config)
    expected, denied = set(), 0
    peers = []
    try:
        for kind, dev in devices(site_config):
            c = creds[kind][dev]
            assert c["username"] == username(kind, dev)
            p = Peer(b.port, c["username"], c["password"])
            assert p.ok, f"{kind} {dev} could not log in with its own credentials"
            peers.append(p)
            may_publish, _ = allowed(site_config, kind, dev)
            infos = []
            for topic in topics:
                marker = f"{kind}/{dev}>{topic}"
                infos.append(publish(p, topic, marker))
                if topic in may_publish:
                    expected.add(marker)
                else:
                    denied += 1
            for info in infos:
                info.wait_for_publish(5)
        until(lambda: expected <= markers(observer), timeout=5)
        time.sleep(0.3)                     # a negative check: anything that should not arrive has had time to
        got = markers(observer)
        assert expected <= got, f"allowed publishes lost: {sorted(expected - got)[:5]}"
        leaked = got - expected
        assert not leaked, f"publishes the ACL should have dropped: {sorted(leaked)[:10]}"
        print(f"ACL publish: {len(expected)} allowed arrived, {denied} forbidden dropped")
    finally:
        for p in peers + [observer]:
            p.close()


def test_every_device_reads_only_what_it_may(broker, site_config):
    b, files = broker
    creds = files.creds
    t = Topics(site_config.id)
    topics = universe(site_config)
    wildcards = ["#", f"{t.root}/#", f"{t.root}/+/+/cmd", f"{t.root}/kiosk/+/reply", f"{t.root}/device/#",
                 f"{t.root}/events/+", "motcua/v1/+/board", "+/+/+/board"]
    peers: dict[tuple[str, str], Peer] = {}
    publisher = Peer(b.port, "acl-observer", "observer-test-only")
    try:
        for kind, dev in devices(site_config):
            c = creds[kind][dev]
            p = Peer(b.port, c["username"], c["password"])
            assert p.ok
            subscribe(p, topics + wildcards)
            peers[(kind, dev)] = p
        for topic in topics:
            publish(publisher, topic, topic).wait_for_publish(5)
        expected = {key: allowed(site_config, *key)[1] for key in peers}
        until(lambda: all(expected[k] <= markers(p) for k, p in peers.items()), timeout=5)
        time.sleep(0.3)                     # a negative check, as above
        refused = 0
        for key, p in peers.items():
            got = markers(p)
            assert got == expected[key], (f"{key}: read {sorted(got - expected[key])[:6]} it must not, "
                                          f"missed {sorted(expected[key] - got)[:6]} it may")
            refused += sum(1 for code in p.suback.values() if code >= 0x80)
        checks = sum(len(topics) + len(wildcards) for _ in peers)
        print(f"ACL read: {len(peers)} devices x {len(topics) + len(wildcards)} subscriptions = {checks}; "
              f"{refused} refused in SUBACK, the rest filtered at delivery")
    finally:
        for p in list(peers.values()) + [publisher]:
            p.close()
