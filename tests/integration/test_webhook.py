"""queue_server/notify/webhook.py against a real HTTP receiver on a loopback port (http.server)
that checks each request with the module's own verify() and fails the first attempts; the clock,
the waits and the jitter are passed in, so nothing sleeps."""
from __future__ import annotations

import http.server
import json
import logging
import random
import threading

import pytest

from queue_server.notify import webhook as wh

SECRET = b"s" * 32
PHONE = "+84912345678"


class Receiver:
    """A gateway: answers the queued statuses in turn (then 200), records what it got."""

    def __init__(self, statuses=(), headers=None):
        self.statuses = list(statuses)
        self.extra_headers = headers or {}
        self.got: list[dict] = []
        self.verified: list[bool] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    wh.verify(SECRET, dict(self.headers), body, now=receiver.now)
                    receiver.verified.append(True)
                except wh.SignatureError:
                    receiver.verified.append(False)
                receiver.got.append({"body": json.loads(body), "delivery": self.headers[wh.DELIVERY_HEADER],
                                     "type": self.headers["Content-Type"]})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                for k, v in receiver.extra_headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.now = 0.0
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class MemoryOutbox:
    """The Outbox protocol in memory (the next step backs it with the event log)."""

    def __init__(self, *notifications):
        self.waiting = list(notifications)
        self.done: dict[str, tuple] = {}

    def pending(self):
        return list(self.waiting)

    def delivered(self, notification_id, at, *, attempts):
        self._close(notification_id, ("delivered", at, attempts))

    def given_up(self, notification_id, at, reason, *, attempts, last_error):
        self._close(notification_id, ("given_up", at, reason, attempts, last_error))

    def _close(self, notification_id, outcome):
        self.waiting = [n for n in self.waiting if n.id != notification_id]
        self.done[notification_id] = outcome


class FakeTime:
    """The clock and the waits: a wait moves the clock on; nothing pending stops the loop."""

    def __init__(self, loop_holder, receiver):
        self.now = 1_764_000_000.0
        self.waits: list[float | None] = []
        self.holder = loop_holder
        self.receiver = receiver

    def clock(self):
        self.receiver.now = self.now      # the gateway's clock agrees with ours
        return self.now

    def wait(self, timeout):
        self.waits.append(timeout)
        if timeout is None:
            self.holder[0].stop()
        else:
            self.now += timeout


def notification(i=1, **kw):
    return wh.Notification(f"n{i}", "turn_near", PHONE, {"vi": "Sắp đến lượt bạn: A023", "en": "Your turn is near: A023"},
                           {"site": "demo-district", "ticket": "A023", "ahead": 3}, **kw)


def run_loop(receiver, outbox, **kw):
    holder = []
    fake = FakeTime(holder, receiver)
    sender = wh.WebhookSender(receiver.url, SECRET, clock=fake.clock)
    loop = wh.DeliveryLoop(outbox, sender, clock=fake.clock, wait=fake.wait, rng=random.Random(7).random, **kw)
    holder.append(loop)
    loop.run()
    return fake, loop


def test_a_gateway_that_fails_twice_gets_it_on_the_third_attempt_signed(caplog):
    caplog.set_level(logging.DEBUG)
    with Receiver([503, 500]) as receiver:
        outbox = MemoryOutbox(notification())
        fake, _ = run_loop(receiver, outbox)
    assert [g["delivery"] for g in receiver.got] == ["n1", "n1", "n1"]
    assert receiver.verified == [True, True, True]
    assert receiver.got[0]["body"] == {"v": 1, "id": "n1", "kind": "turn_near", "phone": PHONE,
                                       "text": {"vi": "Sắp đến lượt bạn: A023", "en": "Your turn is near: A023"},
                                       "data": {"site": "demo-district", "ticket": "A023", "ahead": 3}}
    assert receiver.got[0]["type"] == "application/json; charset=utf-8"
    assert outbox.done["n1"][0] == "delivered" and outbox.done["n1"][2] == 3 and outbox.waiting == []
    # the two waits: 50-100 % of 5 s, then of 10 s; then nothing left
    first, second, last = fake.waits
    assert 2.5 <= first <= 5.0 and 5.0 <= second <= 10.0 and last is None
    assert PHONE not in caplog.text and "912345" not in caplog.text and "+84******678" in caplog.text


def test_a_refusal_is_given_up_at_once_and_others_still_go():
    with Receiver([400]) as receiver:
        outbox = MemoryOutbox(notification(1), notification(2))
        run_loop(receiver, outbox)
    assert outbox.done["n1"][0] == "given_up" and outbox.done["n1"][2] == "refused 400"
    assert outbox.done["n2"][0] == "delivered"


def test_attempts_run_out_and_retry_after_is_honoured():
    with Receiver([429] + [503] * 10, headers={"Retry-After": "120"}) as receiver:
        outbox = MemoryOutbox(notification())
        fake, _ = run_loop(receiver, outbox, max_attempts=4)
    assert len(receiver.got) == 4
    assert outbox.done["n1"][2:] == ("attempts", 4, "503")
    assert all(w >= 120 for w in fake.waits[:3])


def test_an_expired_notification_is_not_sent():
    with Receiver([503]) as receiver:
        outbox = MemoryOutbox(notification(expires_at=1_764_000_003.0))
        run_loop(receiver, outbox)
    assert len(receiver.got) == 1          # the retry came after it expired
    assert outbox.done["n1"][2] == "expired"


def test_no_gateway_at_all_is_retried():
    with Receiver() as receiver:
        url = receiver.url
    # the port is closed now: connection refused, each attempt
    outbox = MemoryOutbox(notification())
    holder = []

    class Dummy:
        now = 0.0

    fake = FakeTime(holder, Dummy())
    loop = wh.DeliveryLoop(outbox, wh.WebhookSender(url, SECRET, clock=fake.clock), clock=fake.clock,
                           wait=fake.wait, rng=lambda: 0.0, max_attempts=3)
    holder.append(loop)
    loop.run()
    assert fake.waits == [5.0, 10.0, None] and outbox.done["n1"][2:] == ("attempts", 3, "no answer")


def test_the_default_wait_wakes_for_a_new_notification():
    """The real wait blocks until woken (no sleep): a notification added later is sent."""
    with Receiver() as receiver:
        outbox = MemoryOutbox()
        loop = wh.DeliveryLoop(outbox, wh.WebhookSender(receiver.url, SECRET))
        receiver.now = __import__("time").time()
        thread = threading.Thread(target=loop.run)
        thread.start()
        delivered = threading.Event()
        outbox.delivered = lambda nid, at, **kw: (MemoryOutbox.delivered(outbox, nid, at, **kw), delivered.set())
        outbox.waiting.append(notification())
        loop.wake()
        assert delivered.wait(10)
        loop.stop()
        thread.join(10)
    assert not thread.is_alive() and receiver.verified == [True]


def test_a_redirect_is_a_refusal_not_a_delivery():
    with Receiver([302], headers={"Location": "/elsewhere"}) as receiver:
        outbox = MemoryOutbox(notification())
        run_loop(receiver, outbox)
    assert len(receiver.got) == 1 and outbox.done["n1"][2] == "refused 302"
