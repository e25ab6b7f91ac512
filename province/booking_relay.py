"""Booking at another centre (issue #16): the province's side of the wire to each site.

The province's booking portal books a slot at a centre through this relay; the centre's queue
server decides, as for its own booking page (docs/protocol.md, "Booking at another centre"):

- each site publishes, retained, its `BookingOffer` (`motcua/v1/{site}/bookings/offer`: per
  bookable procedure its earliest free slots, the free count over the booking window, whether a
  ticket can be taken from a phone now, the site's name), bridged out to the province broker;
- the relay sends `booking.create` / `booking.cancel` / `booking.move` on
  `motcua/v1/province/booking/{site}/cmd` (QoS 1; the site's bridge brings it in) and waits for
  the reply, correlated by `req_id`, on `motcua/v1/province/booking/{site}/reply`;
- a site is online when BOTH its bridge is up (the bridge's own notification, `{site}/bridge/state`
  "1"/"0", which the province broker sets to "0" by the bridge's will when the link drops) AND its
  queue server is up (`{site}/server/status`, retained, with the server's own will, bridged out).

Never double-booked: the site remembers every reply by `req_id` (in its event store, across
restarts), so the same `req_id` sent again gives the first reply, never a second booking. A
command carries `expires_at` (now + timeout): a copy that reaches the site after the relay gave
up (the broker queued it while the bridge was down) is refused there, unapplied and unremembered,
so a citizen told "offline" holds no booking they do not know of; the portal re-sends the SAME
`req_id` (kept in its form) when the citizen tries again, and gets one booking.

Usage (the portal, task B)::

    relay = BookingRelay("mqtt://127.0.0.1:1883", username="province", password=...)
    relay.start()
    for site, so in relay.offers().items():        # {site: SiteOffer}
        so.online, so.name, so.procedures           # offers of an offline site: shown as offline
    try:
        reply = relay.create("site-b", procedure="ly-lich-tu-phap", slot="2026-12-03T08:30",
                             id_hash=h, phone=None, lang="vi", req_id=form_req_id)
    except SiteOffline as exc:                      # exc.site, exc.reason: "offline" | "timeout"
        ...
    reply["ok"]  -> reply["result"]["booking"] (BookingView) or reply["error"] (code, message,
                    message_vi, detail: booking_full -> {"next_free": slot}), as the site's page gets it
    relay.stop()
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from protocol.client import BrokerUrl, close_client
from protocol.messages import BookingOffer, I18nText, OfferedProcedure, ServerStatus, dumps, parse
from protocol.topics import ProvinceTopics, Topics, is_slug, site_of

log = logging.getLogger("motcua.province.booking")
P = ProvinceTopics()


class SiteOffline(Exception):
    """The site cannot take the command now: `reason` "offline" (its bridge or its server is
    down, or the province broker is unreachable: nothing was sent) or "timeout" (sent, but no
    reply within the relay's timeout: the site applies it only if it arrives before
    `expires_at`; re-send with the same req_id to learn the outcome)."""

    def __init__(self, site: str, reason: Literal["offline", "timeout"]):
        super().__init__(f"site {site!r} is {reason}")
        self.site = site
        self.reason = reason


@dataclass(frozen=True)
class SiteOffer:
    """What the portal shows for one site: its last offer (None: none seen yet) and whether it
    takes commands now. An offline site's last offer is kept, to be shown as offline."""
    site: str
    online: bool
    offer: BookingOffer | None = None

    @property
    def name(self) -> I18nText | None:
        return self.offer.name if self.offer else None

    @property
    def procedures(self) -> list[OfferedProcedure]:
        return list(self.offer.procedures) if self.offer else []

    def procedure(self, procedure: str) -> OfferedProcedure | None:
        return next((p for p in self.procedures if p.procedure == procedure), None)


class _Waiter:
    __slots__ = ("done", "reply", "expires_at")

    def __init__(self, expires_at: str) -> None:
        self.done = threading.Event()
        self.reply: dict[str, Any] | None = None
        self.expires_at = expires_at


class BookingRelay:
    """The province's booking commands to the sites, over the province broker (see the module)."""

    def __init__(self, broker: str, *, username: str | None = None, password: str | None = None,
                 ca_file: str | None = None, timeout_s: float = 10.0, client_id: str | None = None):
        url = BrokerUrl.parse(broker)
        self.timeout_s = timeout_s
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self._offers: dict[str, BookingOffer] = {}
        self._server: dict[str, bool] = {}
        self._bridge: dict[str, bool] = {}
        self._waiting: dict[tuple[str, str], _Waiter] = {}
        # Several portal workers may each run a relay: a client id of its own each.
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"motcua-booking-relay-{uuid.uuid4().hex[:12]}")
        if url.tls:
            self.client.tls_set(ca_certs=ca_file)
        user = username or url.username
        if user:
            self.client.username_pw_set(user, password or url.password)
        self.client.reconnect_delay_set(1, 5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message
        self._host, self._port = url.host, url.port

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, wait: float = 10.0) -> bool:
        """Connect (and keep reconnecting); True once connected and subscribed within `wait`."""
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()
        return self.connected.wait(wait)

    def stop(self) -> None:
        close_client(self.client)

    def __enter__(self) -> "BookingRelay":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the portal reads ------------------------------------------------------------------

    def online(self, site: str) -> bool:
        with self._lock:
            return self._bridge.get(site) is True and self._server.get(site) is True

    def offers(self) -> dict[str, SiteOffer]:
        """Every site that has sent an offer: {site: SiteOffer}, online or not."""
        with self._lock:
            return {site: SiteOffer(site, self._bridge.get(site) is True and self._server.get(site) is True, offer)
                    for site, offer in sorted(self._offers.items())}

    # --- commands -------------------------------------------------------------------------------

    def create(self, site: str, *, procedure: str, slot: str, id_hash: str, phone: str | None = None,
               lang: str = "vi", req_id: str) -> dict[str, Any]:
        """Book `procedure` in `slot` ("YYYY-MM-DDTHH:MM", the site's local time) at `site`.
        `id_hash`: protocol/cccd.id_hash of the card with the province's key; `phone`: E.164 or
        None. Returns the site's Reply; raises SiteOffline (see the class)."""
        fields: dict[str, Any] = {"procedure": procedure, "slot": slot, "id_hash": id_hash, "lang": lang}
        if phone:
            fields["phone"] = phone
        return self._send(site, "booking.create", fields, req_id)

    def cancel(self, site: str, *, code: str, id_hash: str, req_id: str) -> dict[str, Any]:
        """Cancel the booking `code` (the same card's hash as it was booked with)."""
        return self._send(site, "booking.cancel", {"code": code, "id_hash": id_hash}, req_id)

    def move(self, site: str, *, code: str, id_hash: str, slot: str, req_id: str) -> dict[str, Any]:
        """Move the booking `code` to `slot` (same procedure), keeping its code."""
        return self._send(site, "booking.move", {"code": code, "id_hash": id_hash, "slot": slot}, req_id)

    def _send(self, site: str, type_: str, fields: dict[str, Any], req_id: str) -> dict[str, Any]:
        if not is_slug(site):
            raise ValueError(f"site {site!r} is not a site id")
        if not isinstance(req_id, str) or not 1 <= len(req_id) <= 128:
            raise ValueError("req_id must be a string of 1 to 128 characters")
        if not self.connected.is_set() or not self.online(site):
            raise SiteOffline(site, "offline")
        now = datetime.now(timezone.utc)
        expires_at = (now + timedelta(seconds=self.timeout_s)).isoformat()
        payload = {"v": 1, "type": type_, "req_id": req_id, "ts": now.isoformat(), "expires_at": expires_at, **fields}
        key = (site, req_id)
        waiter = _Waiter(expires_at)
        with self._lock:
            self._waiting[key] = waiter
        try:
            info = self.client.publish(P.booking_cmd(site), dumps(payload), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise SiteOffline(site, "offline")
            if not waiter.done.wait(self.timeout_s):
                raise SiteOffline(site, "timeout")
            assert waiter.reply is not None
            return waiter.reply
        finally:
            with self._lock:
                if self._waiting.get(key) is waiter:
                    del self._waiting[key]

    # --- paho callbacks -------------------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.error("the province broker refused the booking relay: %s", reason_code)
            return
        client.subscribe([(P.all_booking_offers, 1), (P.all_server_status, 1), (P.all_bridge_states, 1),
                          (P.all_booking_replies, 1)])
        self.connected.set()

    def _on_message(self, client, userdata, msg) -> None:
        try:
            self._take(msg.topic, bytes(msg.payload))
        except Exception:   # one bad message must not end paho's network thread
            log.exception("booking relay: a message on %s could not be read", msg.topic)

    def _take(self, topic: str, payload: bytes) -> None:
        replied = P.parse_booking_reply(topic)
        if replied is not None:
            reply = orjson.loads(payload)
            if not isinstance(reply, dict) or not isinstance(reply.get("req_id"), str):
                return
            with self._lock:
                waiter = self._waiting.get((replied, reply["req_id"]))
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            if error.get("code") == "expired" and (error.get("detail") or {}).get("expires_at") != \
                    getattr(waiter, "expires_at", None):
                return      # an earlier copy of this req_id, sent before a retry, came late
            if waiter is not None:
                waiter.reply = reply
                waiter.done.set()
            return
        site = site_of(topic)
        if site is None:
            return
        t = Topics(site)
        if topic == t.bridge_state:
            with self._lock:
                self._bridge[site] = payload.strip() == b"1"
        elif topic == t.server_status:
            status = parse(ServerStatus, payload) if payload else None
            with self._lock:
                self._server[site] = bool(status and status.online)
        elif topic == t.booking_offer:
            offer = parse(BookingOffer, payload) if payload else None
            with self._lock:
                if offer is None:
                    self._offers.pop(site, None)
                elif offer.site == site:
                    self._offers[site] = offer
