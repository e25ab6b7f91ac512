"""queue_server/notify/webhook.py against a real HTTP receiver on a loopback port (http.server,
tests/support/sms_gateway.py) that checks each request with the module's own verify() and fails
the first attempts; the clock, the waits and the jitter are passed in, so nothing sleeps."""
from __future__ import annotations

import logging
import random
import threading

from queue_server.notify import webhook as wh
from tests.support.sms_gateway import SmsGateway, answers

SECRET = b"s" * 32
PHONE = "+84912345678"


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
        receiver.clock = lambda: self.now      # the gateway's clock agrees with ours

    def clock(self):
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
    with SmsGateway(SECRET, answer=answers(503, 500)) as receiver:
        outbox = MemoryOutbox(notification())
        fake, _ = run_loop(receiver, outbox)
    assert [r.delivery for r in receiver.requests] == ["n1", "n1", "n1"]
    assert [r.verified for r in receiver.requests] == [True, True, True]
    assert receiver.requests[0].body == {"v": 1, "id": "n1", "kind": "turn_near", "phone": PHONE,
                                       "text": {"vi": "Sắp đến lượt bạn: A023", "en": "Your turn is near: A023"},
                                       "data": {"site": "demo-district", "ticket": "A023", "ahead": 3}}
    assert receiver.requests[0].content_type == "application/json; charset=utf-8"
    assert outbox.done["n1"][0] == "delivered" and outbox.done["n1"][2] == 3 and outbox.waiting == []
    # the two waits: 50-100 % of 5 s, then of 10 s; then nothing left
    first, second, last = fake.waits
    assert 2.5 <= first <= 5.0 and 5.0 <= second <= 10.0 and last is None
    assert PHONE not in caplog.text and "912345" not in caplog.text and "+84******678" in caplog.text


def test_a_refusal_is_given_up_at_once_and_others_still_go():
    with SmsGateway(SECRET, answer=answers(400)) as receiver:
        outbox = MemoryOutbox(notification(1), notification(2))
        run_loop(receiver, outbox)
    assert outbox.done["n1"][0] == "given_up" and outbox.done["n1"][2] == "refused 400"
    assert outbox.done["n2"][0] == "delivered"


def test_attempts_run_out_and_retry_after_is_honoured():
    with SmsGateway(SECRET, answer=answers(429, *[503] * 10, headers={"Retry-After": "120"})) as receiver:
        outbox = MemoryOutbox(notification())
        fake, _ = run_loop(receiver, outbox, max_attempts=4)
    assert len(receiver.requests) == 4
    assert outbox.done["n1"][2:] == ("attempts", 4, "503")
    assert all(w >= 120 for w in fake.waits[:3])


def test_an_expired_notification_is_not_sent():
    with SmsGateway(SECRET, answer=answers(503)) as receiver:
        outbox = MemoryOutbox(notification(expires_at=1_764_000_003.0))
        run_loop(receiver, outbox)
    assert len(receiver.requests) == 1          # the retry came after it expired
    assert outbox.done["n1"][2] == "expired"


def test_no_gateway_at_all_is_retried():
    with SmsGateway(SECRET) as receiver:
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
    with SmsGateway(SECRET) as receiver:
        outbox = MemoryOutbox()
        loop = wh.DeliveryLoop(outbox, wh.WebhookSender(receiver.url, SECRET))
        thread = threading.Thread(target=loop.run)
        thread.start()
        delivered = threading.Event()
        outbox.delivered = lambda nid, at, **kw: (MemoryOutbox.delivered(outbox, nid, at, **kw), delivered.set())
        outbox.waiting.append(notification())
        loop.wake()
        assert delivered.wait(10)
        loop.stop()
        thread.join(10)
    assert not thread.is_alive() and [r.verified for r in receiver.requests] == [True]


def test_a_redirect_is_a_refusal_not_a_delivery():
    with SmsGateway(SECRET, answer=answers(302, headers={"Location": "/elsewhere"})) as receiver:
        outbox = MemoryOutbox(notification())
        run_loop(receiver, outbox)
    assert len(receiver.requests) == 1 and outbox.done["n1"][2] == "refused 302"
