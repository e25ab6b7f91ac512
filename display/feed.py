"""The display's link to its site broker: subscribes to the retained board, calls and server status.

A display publishes nothing (the ACL forbids it), so it uses DeviceClient with
kind "display", which sends no status and no last will.
"""
from __future__ import annotations

import logging
from typing import Callable

from protocol.client import DeviceClient
from protocol.messages import Call, parse

from display.board_model import BoardView

log = logging.getLogger(__name__)

FIRST_BOARD = "the display has its first board"   # logged once; the UI test waits for it


def make_client(cfg, client_suffix: str = "") -> DeviceClient:
    """A DeviceClient for a DisplayConfig; `client_suffix` keeps a separate announcer's id distinct."""
    return DeviceClient(cfg.mqtt.url, cfg.site, "display", cfg.id, username=cfg.mqtt.username,
                        password=cfg.mqtt.password, ca_file=cfg.mqtt.ca_file,
                        client_id=f"display-{cfg.site}-{cfg.id}{client_suffix}")


def attach_board(client: DeviceClient, view: BoardView, announce: Callable[[dict], bool] | None = None) -> None:
    """Feed the view (and, in the same process, the announcer) from one subscription each."""
    t = client.topics

    def on_call(_topic: str, payload: bytes) -> None:
        view.apply_call(payload)
        if announce is not None:
            _submit(announce, payload, view.sector_name)
    first = [True]

    def on_board(_topic: str, payload: bytes) -> None:
        if view.apply_board(payload) and first[0]:
            first[0] = False
            log.info(FIRST_BOARD)      # the screen can show the site from now on
    client.subscribe(t.board, on_board)
    client.subscribe(t.events_call, on_call)
    client.subscribe(t.server_status, lambda _t, p: view.apply_server_status(p))
    previous = client.on_connection_change

    def changed(up: bool) -> None:
        view.set_broker(up)
        if previous:
            previous(up)
    client.on_connection_change = changed


def attach_announcer(client: DeviceClient, announce: Callable[[dict], bool]) -> None:
    client.subscribe(client.topics.events_call, lambda _t, p: _submit(announce, p))


def _submit(announce: Callable[[dict], bool], payload: bytes,
            sector_name: Callable[[str | None], dict[str, str]] | None = None) -> None:
    call = parse(Call, payload)     # the contract's model; a refused call is logged there and ignored
    if call is None:
        return
    data = call.model_dump(exclude_none=True)
    if sector_name is not None and call.steps and call.sector:
        # a visit's procedure: its sector's name from the board, so the hall hears "thủ tục 2 trên 3, Đất đai"
        names = sector_name(call.sector)
        data.update(sector_name=names["vi"], sector_name_en=names["en"])
    announce(data)
