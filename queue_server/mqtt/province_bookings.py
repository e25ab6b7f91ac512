"""The site's side of booking at another centre (issue #16; the province's side is
province/booking_relay.py, the wire is docs/protocol.md "Booking at another centre").

- Commands in: `province/booking/{site}/cmd` (bridged in; on the site broker only the bridge
  user may write it) -> the same domain commands the site's own booking page runs
  (`CreateBooking(by="province")`, `CancelBooking`, `MoveBooking`), submitted with the command's
  req_id, so the service stores the reply with the batch and a repeat gets it again, never a
  second booking (queue_server/idempotency.py). The reply goes out on
  `province/booking/{site}/reply` (bridged out) after the batch is durable.
- Offers out: `{site}/bookings/offer`, retained (bridged out on the snapshot connection): per
  bookable procedure its earliest free slots (each with its free count), whether a
  phone's ticket can be taken now, whether the centre takes it from anyone in the province
  (`bookings.any_residence`) and what to bring. Sent again when a booking changes (at most once per
  OFFER_MIN_GAP_S under a burst), when a slot starts, and every OFFER_REFRESH_S; only on a site
  whose broker has a bridge to a province (its retained `bridge/state` notification), so a
  standalone site (`motcua up`) spends nothing on it.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any, Callable

from protocol.errors import ErrorCode
from protocol.messages import (BRIDGE_MAX_PACKET, OFFER_SLOTS, BookingOffer, OfferedProcedure, ProtocolError,
                               ProvinceBookingCancel, ProvinceBookingCreate, dumps, parse_province_booking,
                               reply_error)
from protocol.topics import ProvinceTopics
from queue_server import texts
from queue_server.domain import bookings
from queue_server.domain.commands import CancelBooking, CreateBooking, MoveBooking
from queue_server.outbox import Message

log = logging.getLogger(__name__)

KIND, DEVICE = "citizen", "province"     # the reply cache's key: the province's req_ids apart from the pages'
OFFER_REFRESH_S = 120.0     # an offer is sent again at least this often (a phone's ticket opens and closes)
# A burst of bookings sends one offer per gap, not one per booking: an offer costs the district
# site about a tenth of a second of the loop's time on the loaded test VM (docs/appointments.md), and
# the site decides every booking anyway (a slot taken meanwhile is a clear booking_full).
OFFER_MIN_GAP_S = 5.0
_OFFER_EVENTS = ("booking.", "slot.", "day.")   # events/log events that change what an offer says


def domain_command(cmd: Any) -> Any:
    """The wire's province booking command -> the site's booking page's domain command."""
    if isinstance(cmd, ProvinceBookingCreate):
        return CreateBooking(procedure=cmd.procedure, slot=cmd.slot, id_hash=cmd.id_hash, phone=cmd.phone,
                             lang=cmd.lang, by="province")
    if isinstance(cmd, ProvinceBookingCancel):
        return CancelBooking(code=cmd.code, id_hash=cmd.id_hash)
    return MoveBooking(code=cmd.code, id_hash=cmd.id_hash, slot=cmd.slot)


def expired(expires_at: str | None, now: datetime) -> bool:
    """Past the relay's deadline (it told the citizen "offline" then). An unreadable deadline is
    treated as passed: a command the site cannot date is not applied."""
    if expires_at is None:
        return False
    try:
        deadline = datetime.fromisoformat(expires_at)
    except ValueError:
        return True
    if deadline.tzinfo is None:
        return True
    return now >= deadline


def offer(service, holds: list[float] | None = None) -> dict[str, Any]:
    """The site's BookingOffer now. The service's lock is taken once per procedure, not for the
    whole offer: each procedure's slots are consistent, and the command loop runs between them
    (a procedure's slots take some ms: the domain's room() per slot; `holds` gets each hold's
    seconds, for bench/booking_offer.py)."""
    cfg = service.config
    bk = cfg.bookings
    with service.lock:
        now = service.clock()
        remote_now = bool(bk.remote) and service.core.is_open(now)
    today = now.astimezone(cfg.site.tz).date()
    arrive_by = bookings.remote_offer(cfg, now).isoformat() if remote_now else None
    procedures = []
    for sector in cfg.sectors:
        for proc in sector.procedures:
            # Day by day until OFFER_SLOTS are found: mostly today and tomorrow.
            slots: list[dict[str, Any]] = []
            with service.lock:
                started = time.perf_counter()
                for d in range(bk.days_ahead + 1):
                    slots += bookings.free_slots(service.state, cfg, proc.id, today + timedelta(days=d), now)
                    if len(slots) >= OFFER_SLOTS:
                        break
                if holds is not None:
                    holds.append(time.perf_counter() - started)
            procedures.append(OfferedProcedure.build(procedure=proc.id, sector=sector.id, name=proc.name.model_dump(),
                                                     slots=slots[:OFFER_SLOTS], remote=remote_now, arrive_by=arrive_by,
                                                     any_residence=proc.id in cfg.any_residence,
                                                     documents=[d.model_dump() for d in proc.documents]))
    return fit_to_bridge(BookingOffer.build(ts=now.isoformat(), site=cfg.id, name=cfg.site.name.model_dump(),
                                            days_ahead=bk.days_ahead, slot_min=bk.slot_min, procedures=procedures))


# The topic and MQTT's own header are a few hundred bytes of the bridge's packet.
_OFFER_ROOM = BRIDGE_MAX_PACKET - 1024
_told: set[tuple[str, int, int]] = set()     # (site, procedures, slots kept): said once in the log, not per offer


def fit_to_bridge(payload: dict[str, Any]) -> dict[str, Any]:
    """The offer within what the bridge forwards (BRIDGE_MAX_PACKET): about 1.5 KB a procedure,
    so a centre with some 170 bookable procedures or more would otherwise never reach the province.
    Its procedures' documents go first (None: the portal then says to ask the centre), then
    slots, down to one a procedure, then the last procedures; said in the log once per site and
    size, as the portal shows less."""
    if len(dumps(payload)) <= _OFFER_ROOM:
        return payload
    for keep in (OFFER_SLOTS, 3, 1):
        smaller = {**payload, "procedures": [{**p, "documents": None, "slots": p["slots"][:keep]}
                                             for p in payload["procedures"]]}
        size = len(dumps(smaller))
        if size <= _OFFER_ROOM:
            _say_once((payload["site"], len(payload["procedures"]), keep), logging.WARNING,
                      "the booking offer (%d procedures) is sent without documents and with at most %d "
                      "slots each (%d bytes), to pass the bridge's limit of %d", len(payload["procedures"]),
                      keep, size, BRIDGE_MAX_PACKET)
            return smaller
    # Even one slot each is too much: the first procedures that fit, rather than an offer the
    # bridge drops (the province would go on showing the last one it got).
    procs = smaller["procedures"]
    while procs and size > _OFFER_ROOM:
        size -= len(dumps(procs[-1])) + 1
        procs = procs[:-1]
    _say_once((payload["site"], len(payload["procedures"]), 0), logging.ERROR,
              "the booking offer (%d procedures) is over the bridge's limit of %d even with one slot each: "
              "only the first %d are sent; offer fewer procedures for booking",
              len(payload["procedures"]), BRIDGE_MAX_PACKET, len(procs))
    return {**smaller, "procedures": procs}


def _say_once(key: tuple[str, int, int], level: int, msg: str, *args: Any) -> None:
    """Log `msg` the first time for `key` (site, procedures, slots kept), not with every offer."""
    if key not in _told:
        _told.add(key)
        log.log(level, msg, *args)


class ProvinceBookings:
    """Wired by the MQTT gateway of a site that takes bookings: `cmd_topic` to subscribe to,
    `on_cmd(payload)` from paho's thread, `start()`/`stop()` for the offers."""

    def __init__(self, service, publish: Callable[[list[Message]], None]):
        self.service = service
        self.publish = publish
        p = ProvinceTopics()
        self.cmd_topic = p.booking_cmd(service.config.id)
        self.reply_topic = p.booking_reply(service.config.id)
        self.offer_topic = service.topics.booking_offer
        self.bridge_topic = service.topics.bridge_state
        self._bridged = threading.Event()
        self.offers_sent = 0
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- commands in, replies out -------------------------------------------------------------

    def on_cmd(self, payload: bytes) -> None:
        now = self.service.clock()
        try:
            cmd = parse_province_booking(payload)
        except ProtocolError as err:
            msgid = "The request is too large" if err.code == ErrorCode.TOO_LARGE else "The request could not be read"
            if err.req_id is not None:      # a reply no one can match is not sent
                self._reply(reply_error(err.req_id, err.code, err.message, now, texts.error_message(msgid)))
            return
        if expired(cmd.expires_at, now):
            # Not submitted, so not remembered: the same req_id sent again in time is applied once.
            # `detail.expires_at` names the copy: the relay may be waiting for a retry with the same req_id.
            self._reply(reply_error(cmd.req_id, ErrorCode.EXPIRED, "the command came after its deadline; not applied",
                                    now, texts.error_message("The request came after its deadline; it was not applied"),
                                    {"expires_at": cmd.expires_at}))
            return
        fut = self.service.submit(KIND, DEVICE, domain_command(cmd), req_id=cmd.req_id)
        fut.add_done_callback(self._replied)

    def _replied(self, fut: Future) -> None:
        # In the command loop, once the batch is durable and its state published (the reply after).
        try:
            reply = fut.result()
        except Exception:
            log.exception("a province booking command failed")
            return
        if reply is not None:
            self._reply(reply)

    def _reply(self, reply: dict[str, Any]) -> None:
        try:
            self.publish([Message(self.reply_topic, reply)])
        except Exception:
            log.exception("publishing a province booking reply failed")

    # --- offers out ---------------------------------------------------------------------------

    def start(self) -> None:
        self.service.listeners.append(self._on_messages)
        self._thread = threading.Thread(target=self._offers, name="motcua-booking-offers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        try:
            self.service.listeners.remove(self._on_messages)
        except ValueError:
            pass
        if self._thread is not None:
            self._thread.join(5)

    def on_bridge_state(self) -> None:
        """The site broker has a bridge (its notification, "1" or "0": a link down queues the offer)."""
        self._bridged.set()
        self._dirty.set()

    def poke(self) -> None:
        """Send the offer again soon (from any thread)."""
        self._dirty.set()

    def publish_offer(self) -> None:
        payload = offer(self.service)
        self.publish([Message(self.offer_topic, payload, retain=True)])
        self.offers_sent += 1

    def _on_messages(self, messages: list[Message]) -> None:
        # The command loop's listener: only look, the offer thread does the work.
        for m in messages:
            if m.topic == self.service.topics.events_log and str(m.payload.get("event", "")).startswith(_OFFER_EVENTS):
                self._dirty.set()
                return

    def _next_slot_in(self) -> float:
        """Seconds to the next slot start (a slot that starts is no longer offered)."""
        now = self.service.clock()
        step = self.service.config.bookings.slot_min * 60
        local = now.astimezone(self.service.config.site.tz)
        into = (local.minute * 60 + local.second + local.microsecond / 1e6) % step
        return step - into + 0.5

    def _offers(self) -> None:
        while not self._stop.is_set():
            self._dirty.clear()
            if not self._bridged.is_set():
                self._dirty.wait()      # no province to tell yet
                continue
            try:
                self.publish_offer()
            except Exception:
                log.exception("building or publishing the booking offer failed")
            if self._stop.wait(OFFER_MIN_GAP_S):
                return
            self._dirty.wait(min(OFFER_REFRESH_S, self._next_slot_in()))
