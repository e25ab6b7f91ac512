"""The kiosk's side of the contract (docs/protocol.md): commands with replies, live sector waits, server status.

A thin layer over protocol.client.DeviceClient; it decides nothing. Each message is read through
its model in protocol/messages.py (`parse`: a payload the contract refuses is logged and dropped)
and handed to a callback as that model (the app moves them onto the UI thread).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from protocol.client import DeviceClient, ReplyTimeout, new_req_id  # noqa: F401  (re-exported)
from protocol.messages import ProvinceNearby, SectorStats, ServerStatus, parse
from protocol.topics import ProvinceTopics

log = logging.getLogger(__name__)


class KioskLink:
    def __init__(self, config, client: DeviceClient | None = None):
        m = config.mqtt
        self.client = client or DeviceClient(m.url, config.site, "kiosk", config.id, username=m.username,
                                             password=m.password, ca_file=m.ca_file,
                                             status_extra={"printer": "ok", "help_requested": False})
        self.topics = self.client.topics
        self.on_stats: Callable[[str, SectorStats], None] = lambda sector, stats: None
        self.on_server_status: Callable[[ServerStatus], None] = lambda status: None
        self.on_connection: Callable[[bool], None] = lambda up: None
        # None: advice that cannot be read, which the kiosk drops (better no advice than stale)
        self.on_nearby: Callable[[str, ProvinceNearby | None], None] = lambda sector, advice: None
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

    def _stats(self, topic: str, payload: bytes) -> None:
        sector = self.topics.parse_sector_stats(topic)
        stats = parse(SectorStats, payload) if sector and payload else None
        if stats is not None:
            self.on_stats(sector, stats)

    def _nearby(self, topic: str, payload: bytes) -> None:
        where = self.province.parse_nearby(topic)
        if where is None or where[0] != self.topics.site:
            return
        # an emptied retained message clears the advice, as an empty list does
        advice = parse(ProvinceNearby, payload) if payload else ProvinceNearby(nearby=[])
        self.on_nearby(where[1], advice)

    def _server(self, topic: str, payload: bytes) -> None:
        status = parse(ServerStatus, payload) if payload else None
        if status is not None:
            self.on_server_status(status)
