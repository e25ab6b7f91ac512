"""The counter terminal's wiring: broker <-> view-model <-> keypad and rating pad.

Clerk commands go out one at a time on one worker thread (a second press while
one is in flight is refused on screen, so a double press never calls two
citizens). Ratings have their own worker, so the citizen's pad never waits
for the clerk. Each command is `DeviceClient.request`, which retries with the
same req_id, so a retry never applies twice. The site's catalogue (each sector's procedures, for
"Add a procedure…") comes from the server's web (`server_url`), fetched on its own thread at
each connection until one is read.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from protocol.catalogue import catalogue_url, fetch_document
from protocol.client import DeviceClient, ReplyTimeout

from counter.model import Action, CounterView

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 6.0
CATALOGUE_TIMEOUT_S = 3.0


def make_client(cfg) -> DeviceClient:
    return DeviceClient(cfg.mqtt.url, cfg.site, "counter", cfg.id, username=cfg.mqtt.username,
                        password=cfg.mqtt.password, ca_file=cfg.mqtt.ca_file)


class CounterTerminal:
    def __init__(self, client: DeviceClient, view: CounterView, *, keypad_pins=None, rating_pins=None,
                 request_timeout: float = REQUEST_TIMEOUT_S, server_url: str | None = None):
        self.client, self.view = client, view
        self.request_timeout = request_timeout
        self.server_url = server_url
        self._clerk = ThreadPoolExecutor(1, thread_name_prefix="counter-cmd")
        self._pad = ThreadPoolExecutor(1, thread_name_prefix="counter-rating")
        self._web = ThreadPoolExecutor(1, thread_name_prefix="counter-catalogue")
        t = client.topics
        client.subscribe(t.counter_state(view.counter_id), lambda _t, p: view.apply_state(p))
        client.subscribe(t.board, lambda _t, p: view.apply_board(p))
        previous = client.on_connection_change

        def changed(up: bool) -> None:
            view.set_connected(up)
            if up and server_url and not view.procedures:
                self._web.submit(self.load_catalogue)
            if previous:
                previous(up)
        client.on_connection_change = changed
        self.keypad = self.rating_pad = None
        if keypad_pins is not None:
            from counter.hardware import Keypad
            self.keypad = Keypad(keypad_pins, self.press)
        if rating_pins is not None:
            from counter.hardware import RatingPad
            self.rating_pad = RatingPad(rating_pins, self.rate)

    # inputs (gpiozero threads, the screen's buttons) -----------------------------

    def press(self, key: str):
        action = self.view.press(key)
        if action is None:
            return None
        self.view.sending(action)
        return self._clerk.submit(self._send, action)

    def rate(self, score: int):
        action = self.view.rate(score)
        if action is None:
            return None
        if self.rating_pad is not None:
            self.rating_pad.thank_you()   # at once: the citizen should see the press was taken
        return self._pad.submit(self._send, action)

    def _send(self, action: Action) -> dict | None:
        try:
            reply = self.client.request(action.type, action.fields, timeout=self.request_timeout)
        except ReplyTimeout:
            reply = None
        except Exception:
            log.exception("sending %s failed", action.type)
            reply = None
        self.view.on_reply(action, reply)
        return reply

    def load_catalogue(self) -> bool:
        """Read the site's catalogue into the view; False (logged) when the web is not reached:
        the keypad then adds a sector as a whole until the next connection tries again."""
        try:
            data = fetch_document(catalogue_url(self.server_url or ""), CATALOGUE_TIMEOUT_S)
        except (OSError, ValueError) as exc:
            log.warning("no catalogue from %s (%s): procedures are added by sector", self.server_url, exc)
            return False
        return self.view.apply_catalogue(data)

    def start(self, wait: float | None = None) -> bool:
        return self.client.start(wait)

    def close(self) -> None:
        self._clerk.shutdown(wait=False, cancel_futures=True)
        self._pad.shutdown(wait=False, cancel_futures=True)
        self._web.shutdown(wait=False, cancel_futures=True)
        for dev in (self.keypad, self.rating_pad):
            if dev is not None:
                dev.close()
        self.client.stop()
