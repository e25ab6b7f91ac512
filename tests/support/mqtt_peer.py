"""The one fake MQTT peer of the tests: a raw paho client written from docs/protocol.md only (not
protocol.client), so a test sees the wire as any device would.

    peer = Peer(port, user, password, topics=[board])     # waits for the CONNACK and the SUBACK
    peer.pub(topic, payload)                              # QoS 1, waits for the PUBACK
    peer.wait_for(lambda m: m.data.get("number") == "A001")
    Peer.device(site, "display", "d1", [board])           # a RunningSite's device user

Every wait is on the broker's answer (CONNACK, SUBACK, PUBACK) or on a message, never a sleep.
"""
from __future__ import annotations

import json
import threading
import uuid
from typing import Any, Callable, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class Message(NamedTuple):
    topic: str
    data: Any          # the payload as JSON, None when it is not JSON
    retain: bool


class Peer:
    def __init__(self, port: int, user: str | None = None, password: str | None = None, *,
                 topics: list[str] | tuple[str, ...] = (), client_id: str | None = None, timeout: float = 5.0):
        self.got: list[tuple[str, bytes]] = []       # (topic, raw payload), in arrival order
        self.messages: list[Message] = []            # the same, parsed
        self.suback: dict[str, int] = {}             # topic -> granted QoS or failure reason code
        self.rc = None
        self.cond = threading.Condition()
        self._topics = list(topics)
        self._pending: dict[int, list[str]] = {}
        self.answered = threading.Event()            # a CONNACK, or a refusal without one
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"t-{uuid.uuid4().hex[:10]}")
        if user:
            self.c.username_pw_set(user, password)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda *a: self.answered.set()
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.answered.wait(timeout)
        if self._topics and self.ok:
            self._wait_subacks(self._topics, timeout)

    @classmethod
    def device(cls, site, kind: str, device: str, topics: list[str], **kwargs) -> "Peer":
        """A peer logged in as one device of a tests.support.site.RunningSite."""
        user, password = site.credentials(kind, device)
        return cls(site.mqtt_port, user, password, topics=topics,
                   client_id=f"test-{kind}-{device}-{uuid.uuid4().hex[:6]}", **kwargs)

    @property
    def ok(self) -> bool:
        return self.rc is not None and not self.rc.is_failure

    def _on_connect(self, c, u, flags, rc, props):
        self.rc = rc
        if self._topics and not rc.is_failure:       # again on every reconnect, like a device
            self._send_subscribe(self._topics)
        self.answered.set()

    def _on_message(self, c, u, msg):
        try:
            data = json.loads(msg.payload)
        except ValueError:
            data = None
        with self.cond:
            self.got.append((msg.topic, msg.payload))
            self.messages.append(Message(msg.topic, data, bool(msg.retain)))
            self.cond.notify_all()

    def _on_subscribe(self, c, u, mid, reason_codes, props):
        with self.cond:
            for topic, code in zip(self._pending.pop(mid, []), reason_codes):
                self.suback[topic] = code.value
            self.cond.notify_all()

    def _send_subscribe(self, topics: list[str]) -> None:
        with self.cond:
            for t in topics:
                self.suback.pop(t, None)
            _, mid = self.c.subscribe([(t, 1) for t in topics])
            self._pending[mid] = list(topics)

    def _wait_subacks(self, topics: list[str], timeout: float) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: all(t in self.suback for t in topics), timeout):
                raise AssertionError(f"no SUBACK for {topics}")

    def sub(self, *topics: str, timeout: float = 5.0) -> None:
        """Subscribe (QoS 1) and return once the broker has answered, granted or not."""
        self._send_subscribe(list(topics))
        self._wait_subacks(list(topics), timeout)

    def pub(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(3)

    def topics(self) -> list[str]:
        return [t for t, _ in self.got]

    def wait_count(self, n: int, timeout: float = 3.0) -> bool:
        """True once `n` messages have arrived."""
        with self.cond:
            return self.cond.wait_for(lambda: len(self.got) >= n, timeout)

    def wait_for(self, pred: Callable[[Message], object], timeout: float = 5.0) -> Message:
        """The first message `pred` accepts; fails the test if none comes in time."""
        def first():
            return next((m for m in self.messages if pred(m)), None)
        with self.cond:
            found = self.cond.wait_for(first, timeout)
        if found is None:
            raise AssertionError(f"no matching message; got {[m.topic for m in self.messages][-10:]}")
        return found

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()
