"""A paho-mqtt client set up the way every motcua device needs it.

- retained `device/{kind}/{id}/status` with a last will saying offline (docs/architecture.md rule 9)
- reconnects by itself (backoff capped at 2 s) and resubscribes on every connect
- TCP_NODELAY on the socket: without it Nagle adds ~40 ms to QoS 1 exchanges
- `subscribe(..., wait=s)` / `wait_subscribed()` wait for the broker's SUBACK, so a caller knows
  the broker will pass on what is published after it
- `request()` sends a command and waits for the reply with the same `req_id`,
  retrying with the *same* req_id so a retry never applies a command twice
"""
from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from protocol.messages import STATUS_KINDS, DeviceStatus, dumps
from protocol.topics import Topics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> "BrokerUrl":
        """`mqtt://user:pass@host:1883` or `mqtts://host:8883` (TLS)."""
        u = urlparse(url if "://" in url else f"mqtt://{url}")
        if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"broker URL {url!r}: scheme must be mqtt:// or mqtts://")
        tls = u.scheme in ("mqtts", "ssl")
        return cls(host=u.hostname or "localhost", port=u.port or (8883 if tls else 1883),
                   username=unquote(u.username) if u.username else None,
                   password=unquote(u.password) if u.password else None, tls=tls)


class ReplyTimeout(Exception):
    """No reply came within the deadline (server or broker down)."""


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat()


def new_req_id() -> str:
    return uuid.uuid4().hex


def set_nodelay(client: mqtt.Client) -> None:
    sock = client.socket()
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass


def close_client(client: mqtt.Client, last: mqtt.MQTTMessageInfo | None = None, timeout: float = 2.0) -> None:
    """Let `last` (the final message published, if any) reach the broker, then disconnect and stop
    the network thread: a goodbye status or a last reply is not dropped on the way out."""
    if last is not None:
        try:
            last.wait_for_publish(timeout)
        except (RuntimeError, ValueError):   # not connected, or the queue was cleared: nothing to wait for
            pass
    client.disconnect()
    client.loop_stop()


class DeviceClient:
    """One device's connection to its site broker."""

    def __init__(self, broker: str | BrokerUrl, site: str, kind: str, device_id: str, *,
                 username: str | None = None, password: str | None = None, ca_file: str | None = None,
                 client_id: str | None = None, status_extra: dict[str, Any] | None = None):
        self.broker = broker if isinstance(broker, BrokerUrl) else BrokerUrl.parse(broker)
        self.topics = Topics(site)
        self.kind, self.device_id = kind, device_id
        # topic -> (qos, callbacks): several parts of a device may listen to one topic (its own
        # reply topic carries request() replies and whatever else a caller subscribes there)
        self._subs: dict[str, tuple[int, list[Callable[[str, bytes], None]]]] = {}
        self._pending: dict[str, tuple[threading.Event, list]] = {}
        self._lock = threading.Lock()
        # SUBACKs of this connection: topic -> mid of its latest SUBSCRIBE, mid -> granted or not.
        # Keyed by mid, so an ack that comes back before subscribe() has noted its mid still counts.
        self._sub_cond = threading.Condition()
        self._sub_mid: dict[str, int] = {}
        self._sub_acked: dict[int, bool] = {}
        self.connected = threading.Event()
        # kept as the contract's model: a field a device cannot report is refused here, on the device
        self.status: DeviceStatus | None = (DeviceStatus(kind=kind, id=device_id, online=True, **(status_extra or {}))
                                            if kind in STATUS_KINDS else None)
        self.on_connection_change: Callable[[bool], None] | None = None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"{kind}-{site}-{device_id}",
                                  clean_session=False)
        user = username or self.broker.username
        if user:
            self.client.username_pw_set(user, password or self.broker.password)
        if self.broker.tls or ca_file:
            self.client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
        # The contract's ACL (docs/protocol.md) lets a display publish nothing at all, so it has no status topic.
        self.publishes_status = self.status is not None
        if self.publishes_status:
            self.client.will_set(self.status_topic, dumps(self._status_payload(online=False)), qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        if kind in ("kiosk", "counter"):
            self.subscribe(self.topics.reply(kind, device_id), self._on_reply)

    @property
    def status_topic(self) -> str:
        return self.topics.device_status(self.kind, self.device_id)

    def _status_payload(self, online: bool) -> dict[str, Any]:
        assert self.status is not None
        return self.status.model_copy(update={"online": online, "ts": now_iso()}).payload()

    # lifecycle -----------------------------------------------------------------

    def start(self, wait: float | None = 5.0) -> bool:
        """Connect in the background; keeps trying until `stop()`. True if connected within `wait`."""
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=15)
        self.client.loop_start()
        return self.connected.wait(wait) if wait else False

    def stop(self) -> None:
        goodbye = None
        if self.connected.is_set() and self.publishes_status:
            goodbye = self.client.publish(self.status_topic, dumps(self._status_payload(online=False)), qos=1, retain=True)
        close_client(self.client, goodbye)

    def set_status(self, **fields: Any) -> None:
        """Update the retained health status (e.g. printer="paper_out"); a field or value the
        DeviceStatus model does not know raises pydantic's ValidationError."""
        if self.status is None:
            raise ValueError(f"a {self.kind} has no status topic")
        unknown = set(fields) - set(DeviceStatus.model_fields)
        if unknown:
            raise ValueError(f"not a device status field: {', '.join(sorted(unknown))}")
        self.status = DeviceStatus.model_validate({**self.status.model_dump(), **fields})
        if self.publishes_status:
            self.client.publish(self.status_topic, dumps(self._status_payload(online=True)), qos=1, retain=True)

    # pub/sub -------------------------------------------------------------------

    def subscribe(self, topic: str, callback: Callable[[str, bytes], None], qos: int = 1,
                  wait: float | None = None) -> bool:
        """Listen to `topic` (now if connected, else from the next connect on). With `wait`,
        wait up to that many seconds for the broker's SUBACK; True once the broker granted it
        (always True without `wait`)."""
        qos_before, callbacks = self._subs.get(topic, (qos, []))
        if callback not in callbacks:
            callbacks = [*callbacks, callback]   # a new list: _on_message may be iterating the old one
        self._subs[topic] = (max(qos, qos_before), callbacks)
        if self.connected.is_set():
            self._send_subscribe(self.client, topic, self._subs[topic][0])
        return self.wait_subscribed(topic, timeout=wait) if wait is not None else True

    def wait_subscribed(self, *topics: str, timeout: float = 5.0) -> bool:
        """Wait until the broker has granted the subscription to each of `topics` (default: every
        topic subscribed) on the current connection. False on a timeout or a refusal."""
        names = topics or tuple(self._subs)

        def state() -> bool | None:    # True: all granted; False: one refused; None: still waiting
            acks = [self._sub_acked.get(self._sub_mid.get(t, -1)) for t in names]
            return False if False in acks else (True if all(acks) else None)

        with self._sub_cond:
            self._sub_cond.wait_for(lambda: state() is not None, timeout)
            return state() is True

    def _send_subscribe(self, client: mqtt.Client, topic: str, qos: int) -> None:
        result, mid = client.subscribe(topic, qos)
        if result == mqtt.MQTT_ERR_SUCCESS:
            with self._sub_cond:
                self._sub_mid[topic] = mid

    def publish(self, topic: str, payload: dict[str, Any] | bytes, qos: int = 1, retain: bool = False):
        data = payload if isinstance(payload, (bytes, bytearray)) else dumps(payload)
        return self.client.publish(topic, data, qos=qos, retain=retain)

    def request(self, type_: str, fields: dict[str, Any] | None = None, *, req_id: str | None = None,
                timeout: float = 5.0, retry_every: float = 1.5) -> dict[str, Any]:
        """Send a command and wait for its reply; retries with the same req_id until `timeout`."""
        req_id = req_id or new_req_id()
        payload = {"v": 1, "type": type_, "ts": now_iso(), "req_id": req_id, **(fields or {})}
        done = threading.Event()
        box: list = []
        with self._lock:
            self._pending[req_id] = (done, box)
        topic = self.topics.cmd(self.kind, self.device_id)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.connected.is_set():
                    self.publish(topic, payload)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if done.wait(min(retry_every, remaining)):
                    return box[0]
            raise ReplyTimeout(f"no reply to {type_} ({req_id}) within {timeout:.1f} s")
        finally:
            with self._lock:
                self._pending.pop(req_id, None)

    # paho callbacks --------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.warning("broker refused %s/%s: %s", self.kind, self.device_id, reason_code)
            return
        set_nodelay(client)
        with self._sub_cond:     # a new connection: the old one's SUBACKs no longer count
            self._sub_mid.clear()
            self._sub_acked.clear()
        for topic, (qos, _) in list(self._subs.items()):
            self._send_subscribe(client, topic, qos)
        if self.publishes_status:
            client.publish(self.status_topic, dumps(self._status_payload(online=True)), qos=1, retain=True)
        self.connected.set()
        if self.on_connection_change:
            self.on_connection_change(True)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        self.connected.clear()
        if self.on_connection_change:
            self.on_connection_change(False)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None) -> None:
        granted = not any(rc.is_failure for rc in reason_codes)
        if not granted:
            log.warning("broker refused a subscription of %s/%s: %s", self.kind, self.device_id,
                        [str(rc) for rc in reason_codes])
        with self._sub_cond:
            self._sub_acked[mid] = granted
            self._sub_cond.notify_all()

    def _on_message(self, client, userdata, msg) -> None:
        for topic, (_, callbacks) in list(self._subs.items()):
            if mqtt.topic_matches_sub(topic, msg.topic):
                for callback in callbacks:
                    try:
                        callback(msg.topic, msg.payload)
                    except Exception:  # a bad message must never kill the network thread
                        log.exception("handler for %s failed", msg.topic)

    def _on_reply(self, topic: str, payload: bytes) -> None:
        try:
            reply = json.loads(payload)
        except ValueError:
            return
        with self._lock:
            waiter = self._pending.get(reply.get("req_id")) if isinstance(reply, dict) else None
        if waiter is not None:
            waiter[1].append(reply)
            waiter[0].set()
