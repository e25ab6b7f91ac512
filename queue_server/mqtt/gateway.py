"""The server's MQTT side: commands in, replies and state out, server status with a last will.

paho's network thread only parses the topic and hands the bytes to the
service queue; it never waits for the command loop. On every (re)connect the
gateway resubscribes and republishes every retained message whole, so a
broker that restarted without persistence shows the truth again at once.

With `publisher="process"` (the server's default on a multi-core machine) replies and state
go out through a child process with its own connection (`publisher.py`); this connection
then only takes commands in and carries the server's status and last will.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timezone

from protocol.client import BrokerUrl, close_client, set_nodelay
from protocol.messages import STATUS_KINDS, ProtocolError, ServerStatus, dumps, parse_device_status
from queue_server.mqtt.connection import server_client
from queue_server.mqtt.province_bookings import ProvinceBookings
from queue_server.mqtt.publisher import PublisherProcess, publish_batch, to_wire
from queue_server.service import Message, QueueService

log = logging.getLogger(__name__)

LOG_TAIL = 1000     # events re-published on events/log at start (see _log_tail)


def default_publisher() -> str:
    """`process` where a second core can take paho's publishing work, else `thread`."""
    return "process" if (os.cpu_count() or 1) > 1 else "thread"


class MqttGateway:
    def __init__(self, service: QueueService, broker: str, *, username: str | None = None,
                 password: str | None = None, ca_file: str | None = None, client_id: str | None = None,
                 publisher: str = "thread"):
        if publisher not in ("thread", "process"):
            raise ValueError(f"publisher must be 'thread' or 'process', not {publisher!r}")
        self.service = service
        self.topics = service.topics
        self.broker = BrokerUrl.parse(broker)
        self.connected = threading.Event()
        client_id = client_id or f"server-{service.config.id}"
        self.client = server_client(self.broker, client_id, username=username, password=password, ca_file=ca_file)
        self.client.will_set(self.topics.server_status, dumps(self._status(False)), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        # One callback that tells the topics apart itself: paho's per-filter callbacks match
        # every message against each filter with a recursive generator, in the network thread
        # that every command passes through.
        self.client.on_message = self._on_message
        self.publisher: PublisherProcess | None = None
        if publisher == "process":
            self.publisher = PublisherProcess(broker, username=username, password=password,
                                              ca_file=ca_file, client_id=f"{client_id}-pub",
                                              replay=lambda: self.service.retained_snapshot() + self._log_tail())
            self.publish = self.publisher.publish
        service.publish = self.publish
        # booking at another centre (issue #16): the province's commands in, replies and offers out
        self.province = ProvinceBookings(service, self.publish) if service.config.bookings is not None else None
        self._tail_sent = False

    def _status(self, online: bool) -> dict:
        return ServerStatus.build(ts=datetime.now(timezone.utc).isoformat(), online=online,
                                  site=self.service.config.id, seq=self.service.state.last_seq)

    def start(self, wait: float = 10.0) -> bool:
        if self.publisher is not None and not self.publisher.start(wait):
            # Commands taken in now would have their replies queued in the child until it connects.
            log.warning("the publisher process has not reached the broker yet")
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=15)
        self.client.loop_start()
        if self.province is not None:
            self.province.start()
        return self.connected.wait(wait)

    def stop(self) -> None:
        if self.province is not None:
            self.province.stop()
        if self.publisher is not None:
            self.publisher.stop()
        goodbye = None
        if self.connected.is_set():
            goodbye = self.client.publish(self.topics.server_status, dumps(self._status(False)), qos=1, retain=True)
        close_client(self.client, goodbye)

    def publish(self, messages: list[Message]) -> None:
        publish_batch(self.client, to_wire(messages))

    def _log_tail(self) -> list[Message]:
        """`events/log` again for the newest events, once per process start.

        A crash between the commit of a batch and its publication (or with messages still in
        paho's buffer) left those events in the log but never on `events/log`, so an upstream
        consumer had a gap for ever. Consumers are idempotent on (site, seq); repeats are harmless."""
        svc = self.service
        return [svc.log_message(e) for e in svc.store.read(after=max(0, svc.state.last_seq - LOG_TAIL))]

    # paho callbacks -----------------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.error("broker refused the server: %s", reason_code)
            return
        set_nodelay(client)
        client.subscribe([(self.topics.all_kiosk_cmds, 1), (self.topics.all_counter_cmds, 1),
                          (self.topics.all_device_status, 1)]
                         + ([(self.province.cmd_topic, 1), (self.province.bridge_topic, 1)]
                            if self.province is not None else []))
        self.publish(self.service.retained_snapshot())
        if not self._tail_sent:
            self._tail_sent = True
            self.publish(self._log_tail())
        client.publish(self.topics.server_status, dumps(self._status(True)), qos=1, retain=True)
        if self.province is not None:
            self.province.poke()    # the offer again: a broker restarted without persistence lost it
        self.connected.set()
        log.info("connected to %s:%s", self.broker.host, self.broker.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        self.connected.clear()
        log.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg) -> None:
        topic = msg.topic
        if self.province is not None and topic == self.province.cmd_topic:
            self.province.on_cmd(bytes(msg.payload))
        elif self.province is not None and topic == self.province.bridge_topic:
            self.province.on_bridge_state()
        elif topic.endswith("/cmd"):
            self._on_cmd(client, userdata, msg)
        elif topic.endswith("/status"):
            self._on_device_status(client, userdata, msg)

    def _on_cmd(self, client, userdata, msg) -> None:
        parsed = self.topics.parse_cmd(msg.topic)
        if parsed is None:
            return
        kind, device = parsed
        self.service.post(kind, device, bytes(msg.payload))

    def _on_device_status(self, client, userdata, msg) -> None:
        parsed = self.topics.parse_device_status(msg.topic)
        if parsed is None or parsed[0] not in STATUS_KINDS:
            return
        try:
            # parse_device_status also catches RecursionError: `[[[[...` from any device used to
            # escape this callback and end paho's network thread (no command was read again).
            status = parse_device_status(parsed[0], parsed[1], msg.payload)
        except ProtocolError as exc:
            # the field names and the reason only: a status carries no personal data, but keep it so
            log.warning("unreadable status from %s %s: %s", parsed[0], parsed[1], exc.message[:200])
            return
        self.service.device_status(parsed[0], parsed[1], status)
