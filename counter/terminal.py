"""The counter terminal's wiring: broker <-> view-model <-> keypad and rating pad.

Clerk commands go out one at a time on one worker thread (a second press while
one is in flight is refused on screen, so a double press never calls two
citizens). Ratings have their own worker, so the citizen's pad never waits
for the clerk. Each command is `DeviceClient.request`, which retries with the
same req_id, so a retry never applies twice.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from protocol.client import DeviceClient, ReplyTimeout

from counter.model import Action, CounterView

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 6.0


def make_client(cfg) -> DeviceClient:
    return DeviceClient(cfg.mqtt.url, cfg.site, "counter", cfg.id, username=cfg.mqtt.username,
                        password=cfg.mqtt.password, ca_file=cfg.mqtt.ca_file)


class CounterTerminal:
    def __init__(self, client: DeviceClient, view: CounterView, *, keypad_pins=None, rating_pins=None,
                 request_timeout: float = REQUEST_TIMEOUT_S):
        self.client, self.view = client, view
        self.request_timeout = request_timeout
        self._clerk = ThreadPoolExecutor(1, thread_name_prefix="counter-cmd")
        self._pad = ThreadPoolExecutor(1, thread_name_prefix="counter-rating")
        t = client.topics
        client.subscribe(t.counter_state(view.counter_id), lambda _t, p: view.apply_state(p))
        client.subscribe(t.board, lambda _t, p: view.apply_board(p))
        previous = client.on_connection_change

        def changed(up: bool) -> None:
            view.set_connected(up)
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

    def start(self, wait: float | None = None) -> bool:
        return self.client.start(wait)

    def close(self) -> None:
        self._clerk.shutdown(wait=False, cancel_futures=True)
        self._pad.shutdown(wait=False, cancel_futures=True)
        for dev in (self.keypad, self.rating_pad):
            if dev is not None:
                dev.close()
        self.client.stop()
