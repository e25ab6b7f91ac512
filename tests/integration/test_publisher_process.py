"""The server publishes from a child process (queue_server/mqtt/publisher.py): replies still
come after the state they change, a dead child is replaced with the retained state sent again,
the child never outlives the server, and the in-thread publisher still works."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from functools import partial

import pytest

from queue_server.mqtt.publisher import PublisherProcess
from queue_server.outbox import Message
from tests.support.mqtt_peer import Peer
from tests.support.site import RunningSite
from tests.support.wait import until

A = "tu-phap-ho-tich"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


_wait = partial(until, timeout=10.0, interval=0.05)


@pytest.mark.parametrize("publisher", ["process", "thread"])
def test_the_reply_comes_after_the_state_it_changes(tmp_path, publisher):
    with RunningSite(tmp_path, publisher=publisher) as site:
        assert (site.server.gateway.publisher is not None) == (publisher == "process")
        t = site.service.topics
        sub = Peer.device(site, "counter", "q1", [t.reply("counter", "q1"), t.counter_state("q1")])
        kiosk, counter = site.device("kiosk", "k1"), site.device("counter", "q1")
        try:
            for _ in range(20):
                kiosk.request("ticket.issue", {"sector": A})
            for i in range(20):
                reply = counter.request("call.next", {})
                number = reply["result"]["ticket"]["number"]
                # the retained counter state showing this call was received before the reply
                got = sub.wait_for(lambda m: m[0] == t.reply("counter", "q1") and m[1].get("req_id") == reply["req_id"])
                before = sub.messages[:sub.messages.index(got)]
                assert any(m[0] == t.counter_state("q1") and (m[1].get("serving") or {}).get("number") == number
                           for m in before), f"call {i}: reply before the state"
        finally:
            sub.close()


def test_a_dead_publisher_is_replaced_and_the_retained_state_sent_again(tmp_path):
    with RunningSite(tmp_path, publisher="process") as site:
        gw = site.server.gateway
        kiosk = site.device("kiosk", "k1")
        first = kiosk.request("ticket.issue", {"sector": A})["result"]["ticket"]
        old = gw.publisher.pid
        os.kill(old, signal.SIGKILL)
        assert _wait(lambda: gw.publisher.pid != old and gw.publisher.connected.is_set()), "no new publisher"
        assert gw.publisher.restarts == 1
        # commands are answered again, and a newcomer sees the whole truth retained
        second = kiosk.request("ticket.issue", {"sector": A}, timeout=10)["result"]["ticket"]
        assert second["number"] != first["number"]
        sub = Peer.device(site, "display", next(iter(site.site.devices.displays)), [site.service.topics.board])
        try:
            board = sub.wait_for(lambda m: m[2])[1]
            waiting = {s["id"]: s["waiting"] for s in board["sectors"]}
            assert waiting[A] == 2
        finally:
            sub.close()


def test_the_publisher_ends_with_the_server_even_when_the_server_is_killed(tmp_path):
    """SIGKILL on the parent: the child sees its stdin close, publishes what it had and exits."""
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(os.getcwd())!r})
        from queue_server.mqtt.publisher import PublisherProcess
        p = PublisherProcess("mqtt://127.0.0.1:9", username=None, password=None, ca_file=None, client_id="t")
        p.start(0.5)
        print(p.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.kill()
        parent.wait(5)
        assert _wait(lambda: not _alive(child)), "the publisher outlived the server"
    finally:
        parent.kill()


def test_messages_go_out_in_order_across_many_batches(tmp_path):
    with RunningSite(tmp_path, publisher="thread") as site:   # only for the broker and its users
        cred = site.creds["server"]
        pub = PublisherProcess(site.broker_url, username=cred["username"], password=cred["password"],
                               ca_file=None, client_id="order-test")
        # the board topic (a display may read it); the server's own boards carry no "n"
        sub = Peer.device(site, "display", next(iter(site.site.devices.displays)), [site.service.topics.board])
        try:
            assert pub.start(10)
            for b in range(100):
                pub.publish([Message(site.service.topics.board, {"v": 1, "n": b * 20 + i}, retain=True)
                             for i in range(20)])
            assert _wait(lambda: any(m[1].get("n") == 1999 for m in sub.messages)), "not all arrived"
            ns = [m[1]["n"] for m in sub.messages if "n" in m[1]]
            assert ns == sorted(ns) and ns[-1] == 1999 and len(set(ns)) == len(ns)
        finally:
            pub.stop()
            sub.close()
