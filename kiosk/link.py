"""The kiosk's side of the contract (docs/protocol.md): commands with replies, live sector waits, server status.

A thin layer over protocol.client.DeviceClient; it decides nothing and hands
every message to callbacks (the app moves them onto the UI thread).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

from protocol.client import DeviceClient, ReplyTimeout, new_req_id  # noqa: F401  (re-exported)
from protocol.topics import ProvinceTopics

log = logging.getLogger(__name__)


class KioskLink:
    def __init__(self, config, client: DeviceClient | None = None):
        m = config.mqtt
        self.client = client or DeviceClient(m.url, config.site, "kiosk", config.id, username=m.username,
                                             password=m.password, ca_file=m.ca_file,
                                             status_extra={"printer": "ok", "help_requested": False})
        self.topics = self.client.topics
        self.on_stats: Callable[[str, dict[str, Any]], None] = lambda sector, stats: None
        self.on_server_status: Callable[[dict[str, Any]], None] = lambda payload: None
        self.on_connection: Callable[[bool], None] = lambda up: None
        self.on_nearby: Callable[[str, dict[str, Any]], None] = lambda sector, advice: None
        self.province = ProvinceTopics()
        self.client.subscribe(self.topics.all_sector_stats, self._stats)
        # the province's advice, brought to this site's broker by its bridge (firmware_config/bridge.py);
        # a site without a province simply never gets any
        self.client.subscribe(self.province.nearby_site(config.site), self._nearby)
        self.client.subscribe(self.topics.server_status, self._server)
        self.client.on_connection_change = lambda up: self.on_connection(up)

    def start(self, wait: float | None = 5.0) -> bool:
        return self.client.start(wait)

    def stop(self) -> None:
        self.client.stop()

    @property
    def connected(self) -> bool:
        return self.client.connected.is_set()

    def request(self, type_: str, fields: dict[str, Any], req_id: str, timeout: float) -> dict[str, Any]:
        """The reply as received (the view model reads it through protocol.messages.Reply); raises
        ReplyTimeout. The same req_id on every retry (idempotent)."""
        return self.client.request(type_, fields, req_id=req_id, timeout=timeout)

    def set_status(self, **fields: Any) -> None:
        self.client.set_status(**fields)

    @staticmethod
    def _json(payload: bytes) -> dict[str, Any] | None:
        try:
            data = json.loads(payload)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _stats(self, topic: str, payload: bytes) -> None:
        sector = self.topics.parse_sector_stats(topic)
        data = self._json(payload)
        if sector and data is not None:
            self.on_stats(sector, data)

    def _nearby(self, topic: str, payload: bytes) -> None:
        where = self.province.parse_nearby(topic)
        if where is None or where[0] != self.topics.site:
            return
        data = self._json(payload) if payload else {"nearby": []}   # an emptied retained message clears it
        self.on_nearby(where[1], data if data is not None else {})

    def _server(self, topic: str, payload: bytes) -> None:
        data = self._json(payload)
        if data is not None:
            self.on_server_status(data)
