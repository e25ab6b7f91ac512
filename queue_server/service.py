"""A site's queue service: command -> domain -> events -> store -> publish.

QueueService wires the parts together and handles each command: the loop (`loop.py`, one queue
and one worker thread) hands it batches; it decides them one by one against the in-memory
state, answers retries from the reply cache (`idempotency.py`), commits the batch's events and
replies in ONE durable transaction, and only then has the outbox (`outbox.py`) publish replies
and state. A crash before the commit loses only unacknowledged commands, which clients retry
with the same req_id.
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import Any, Callable

from protocol import booking_texts, guidance
from protocol.errors import ErrorCode
from protocol.messages import ProtocolError, parse_command, reply_error, reply_ok
from protocol.topics import Topics
from queue_server import texts
from queue_server.domain import notices
from queue_server.domain.commands import QueueNotices
from queue_server.domain.core import NEEDS_TOKEN, Context, Outcome, QueueCore, execute, fold_in
from queue_server.domain.errors import DomainError
from queue_server.domain.events import Event
from queue_server.domain.policy import Policy
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState
from queue_server.idempotency import ReplyCache
from queue_server.limits import CpuBudget, RateLimiter, TokenPool
from queue_server.loop import CommandLoop, Item
from queue_server.outbox import Message, Outbox
from queue_server.snapshotter import Snapshotter
from queue_server.store import EventStore, StoredReply

log = logging.getLogger(__name__)

FREEZE_EVERY = 10_000   # events between two freezes of the cyclic collector's survivors (_freeze_gc)


class QueueService:
    def __init__(self, config: SiteConfig, store: EventStore, *, policy: Policy | None = None,
                 clock: Callable[[], datetime] | None = None, public_url: str = "http://127.0.0.1:8080",
                 token_factory: Callable[[], str] | None = None, snapshot_every: int = 10_000,
                 rate_per_s: float | None = None, burst: float | None = None, balancer: Any = None):
        self.config = config
        self.store = store
        self.topics = Topics(config.id)
        self.clock = clock or (lambda: datetime.now(timezone.utc).astimezone(config.site.tz))
        self.public_url = (config.site.public_url or public_url).rstrip("/")
        self.token_factory = token_factory or TokenPool()
        # The key of the ID card hash (bookings; SiteServer loads it from the data directory):
        # for the pages that hash a typed number. None: no bookings here.
        self.id_hash_key: bytes | None = None
        limits = config.site.limits
        self.limiter = RateLimiter(rate_per_s or limits.device_cmds_per_s, burst or limits.device_burst)
        # A separate, slower bucket for tickets: a stuck kiosk button must not use up a sector's numbers.
        self.ticket_limiter = RateLimiter(limits.kiosk_tickets_per_s, limits.kiosk_ticket_burst)
        self.forecast_budget = CpuBudget()
        self.balancer = balancer
        self.core = QueueCore(config, policy)
        self.lock = threading.RLock()          # readers (web) take it to see a consistent state
        self.devices: dict[tuple[str, str], dict[str, Any]] = {}
        self.replies = ReplyCache(store)
        # `lambda`: the clock is read through the service, where a caller may replace it.
        self.outbox = Outbox(self.core, config, self.topics, lambda: self.clock(), self.lock)
        self.loop = CommandLoop(self.process, self._tick, self.outbox.due_at, self.outbox.publish_due)
        self._last_snapshot_seq = 0
        self.snapshots = Snapshotter(store, config, snapshot_every)
        self._freezes_gc = False
        self._frozen_at = 0
        self.recover()

    # The MQTT gateway sets `publish`; the web's live stream adds itself to `listeners`.
    @property
    def publish(self) -> Callable[[list[Message]], None]:
        return self.outbox.publish

    @publish.setter
    def publish(self, fn: Callable[[list[Message]], None]) -> None:
        self.outbox.publish = fn

    @property
    def listeners(self) -> list[Callable[[list[Message]], None]]:
        return self.outbox.listeners

    def log_message(self, e: Event) -> Message:
        return self.outbox.log_message(e)

    def retained_snapshot(self) -> list[Message]:
        return self.outbox.retained_snapshot()

    # --- start-up -------------------------------------------------------------------

    @property
    def state(self) -> SiteState:
        return self.core.state

    def recover(self) -> int:
        """Load the latest snapshot and replay the log after it; returns events replayed."""
        snap = self.store.latest_snapshot()
        state = SiteState.initial(self.config)
        after = 0
        if snap is not None:
            after, data = snap
            state = SiteState.from_dict(data, self.config)
        n = 0
        for e in self.store.read(after=after):
            state.apply(e)
            n += 1
        self.core.state = state
        self._last_snapshot_seq = after
        log.info("recovered state at seq %d (snapshot %d + %d events)", state.last_seq, after, n)
        return n

    _gc_frozen = False

    def start(self) -> None:
        if not QueueService._gc_frozen:
            # The cyclic collector's full passes stop the loop every few seconds under load,
            # and they walk every live object. What is alive now (modules, the web app, the
            # recovered state) lives as long as the process: freeze it out of those passes
            # (at 1,000 cmd/s a full pass took 73-92 ms before, 30-57 ms after). Once per
            # process: a later service in the same process (tests) must not freeze an earlier
            # one's garbage-to-be.
            QueueService._gc_frozen = True
            self._freezes_gc = True
            gc.collect()
            gc.freeze()
        self._frozen_at = self.state.last_seq
        self.snapshots.start(self.state, self._last_snapshot_seq)
        self.loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.loop.stop(timeout)
        self.snapshots.stop()

    # --- input ------------------------------------------------------------------------

    def submit(self, kind: str, device: str, payload: Any, req_id: str | None = None) -> Future:
        """`req_id`: the idempotency key of a command object (a booking page's form): sent again with
        the same key, the command is not applied twice and the first reply is given, across restarts."""
        fut: Future = Future()
        self.loop.put(Item(kind, device, payload, fut, req_id=req_id))
        return fut

    def post(self, kind: str, device: str, payload: Any) -> None:
        """Submit without waiting for the reply: MQTT commands, whose reply the loop publishes
        (no Future, and so no lock, made per command in paho's network thread)."""
        self.loop.put(Item(kind, device, payload))

    def execute(self, kind: str, device: str, payload: Any, timeout: float = 10.0,
                req_id: str | None = None) -> dict[str, Any]:
        """Submit and wait for the reply (web, CLI, tests)."""
        return self.submit(kind, device, payload, req_id).result(timeout)

    # --- a batch ----------------------------------------------------------------------------

    def _freeze_gc(self) -> None:
        # The day's tickets pile up in the oldest generation, and every full pass of the cyclic
        # collector walks them all: 10-46 ms stops of every thread at 2,000 commands/s. Collect
        # the young generations (cycles made since) and freeze what survives, so full passes
        # see only what was made since the last freeze. Frozen objects are still freed by
        # reference counting when dropped; the state holds no cycles (bench/memory.py: flat).
        self._frozen_at = self.state.last_seq
        gc.collect(1)
        gc.freeze()

    def process(self, batch: list[Item]) -> None:
        with self.lock:
            now = self.clock()
            new_events: list[Event] = []
            new_replies: list[StoredReply] = []
            results: list[tuple[Item, dict[str, Any] | None]] = []
            self.replies.prefetch(batch)
            # The forecast of a printed wait is worth its milliseconds only when no other command
            # waits behind it (the replies of a batch go out together, after it is durable).
            alone = len(batch) == 1 and self.loop.idle()
            for item in batch:
                try:
                    reply = self._handle(item, now, new_events, new_replies, alone)
                except Exception:  # never let one command take the site down
                    log.exception("command from %s/%s failed", item.kind, item.device)
                    reply = reply_error(None, ErrorCode.INTERNAL, "internal error; the request was not applied",
                                        now, texts.error_message("Internal error; the request was not applied"))
                results.append((item, reply))
            try:
                self.store.append(new_events, new_replies)
            except Exception:
                # The in-memory state is now ahead of the log: the only safe move is to stop, so a
                # restart rebuilds from what is durable and clients retry what was never answered.
                log.critical("event store write failed; stopping the server", exc_info=True)
                for item, _ in results:
                    if item.future:
                        item.future.set_exception(RuntimeError("event store unavailable"))
                import os
                os._exit(70)
            self.snapshots.feed(new_events)
            try:
                outputs = self.outbox.batch_messages(results, new_events, now)
            except Exception:
                # The batch is durable; a bug in a view must not stop the loop. Devices still get
                # their replies, and the next batch republishes the state.
                log.exception("building the messages of a batch failed")
                outputs = self.outbox.replies_of(results)
        self.outbox.emit(outputs)
        for item, reply in results:
            if item.future and not item.future.done():
                item.future.set_result(reply)
        if self._freezes_gc and self.state.last_seq - self._frozen_at >= FREEZE_EVERY:
            self._freeze_gc()

    def _tick(self) -> None:
        """Periodic work (every TICK_S): start a new day at midnight, let auto mode move counters,
        queue the messages to citizens' phones that are due."""
        items: list[Item] = []
        with self.lock:
            now = self.clock()
            if self.core.rollover(now):
                items.append(Item("system", "clock", ("rollover",)))
            if self.balancer is not None and self.state.auto_mode:
                for cmd in self.balancer.propose(self.state, self.config, now.timestamp()):
                    items.append(Item("manager", "auto", cmd))
            # messages to citizens' phones now due (domain/notices.py; sent by notify/notifier.py)
            if self.config.notify is not None and notices.due(self.state, self.config, now):
                items.append(Item("notifier", "tick", QueueNotices()))
        if items:
            self.process(items)

    # --- one command --------------------------------------------------------------------

    def _handle(self, item: Item, now: datetime, out: list[Event], replies: list[StoredReply],
                alone: bool) -> dict | None:
        """One command. `alone`: no other command waits behind it (it may have the forecast)."""
        if item.kind == "system":
            fold_in(self.state, self.core.rollover(now), f"{item.kind}/{item.device}", None, out)
            return None
        key_device = f"{item.kind}/{item.device}"
        req_id: str | None = None
        if item.from_wire:
            try:
                cmd = item.parsed if item.parsed is not None else parse_command(item.kind, item.payload)
            except ProtocolError as err:
                msgid = "The request is too large" if err.code == ErrorCode.TOO_LARGE else "The request could not be read"
                return reply_error(err.req_id, err.code, err.message, now, texts.error_message(msgid))
            req_id = cmd.req_id
            cached = self.replies.get(key_device, req_id)
            if cached is not None:
                return cached
            if not self.config.is_device(item.kind, item.device):
                return reply_error(req_id, ErrorCode.NOT_ALLOWED, "this device is not registered at this site", now,
                                   texts.error_message("This device is not registered at this site"))
            mono = time.monotonic()
            if not self.limiter.allow(key_device, mono) or (
                    cmd.type == "ticket.issue" and not self.ticket_limiter.allow(key_device, mono)):
                return reply_error(req_id, ErrorCode.RATE_LIMITED, "too many requests; slow down", now,
                                   texts.error_message("Too many requests; please wait a moment"))
        else:
            cmd = item.payload
            req_id = item.req_id or getattr(cmd, "req_id", None)
            if item.req_id is not None:
                cached = self.replies.get(key_device, item.req_id)
                if cached is not None:
                    return cached
        fold_in(self.state, self.core.rollover(now), "system/clock", None, out)
        issue = getattr(cmd, "type", "") == "ticket.issue"
        token = self.token_factory() if getattr(cmd, "type", "") in NEEDS_TOKEN else ""
        # The forecast of a printed wait may take what the budget has left: all of it on a calm
        # site, a sliver under a flood (where one play on a large site already shows it is too dear).
        forecast_s = self.forecast_budget.left() if issue and alone else 0.0
        started = time.perf_counter()
        outcome = execute(self.core, item.kind, cmd,
                          Context(now=now, device=item.device, token=token, forecast_s=forecast_s,
                                  forecast_clock=time.perf_counter),
                          key_device, req_id, out)
        if forecast_s > 0.0:
            self.forecast_budget.spend(time.perf_counter() - started)
        reply = self._reply(cmd, outcome, req_id, now)
        if req_id is not None and (item.from_wire or item.req_id is not None):
            self.replies.remember(key_device, req_id, reply)
            replies.append(StoredReply(key_device, req_id, self.state.last_seq, reply))
        return reply

    def _reply(self, cmd: Any, outcome: Outcome, req_id: str | None, now: datetime) -> dict[str, Any]:
        if outcome.error is not None:
            err: DomainError = outcome.error
            # a booking's refusal has its words in protocol/booking_texts.py
            vi = booking_texts.refusal(*err.words)["vi"] if err.words else texts.error_message(err.en)
            return reply_error(req_id, err.code, err.en, now, vi, err.detail)
        result = outcome.result if outcome.result is not None else {}
        if "ticket" in result and getattr(cmd, "type", "") in ("ticket.issue", "booking.check_in", "ticket.remote"):
            result["ticket"]["track_url"] = f"{self.public_url}/t/{result['ticket']['token']}"
        if "check_in" in result:
            ci = result["check_in"]
            late_min = self.config.bookings.late_min if self.config.bookings else 0
            ci["notice"] = booking_texts.check_in_notice(ci["outcome"], ci.get("due_at"), late_min)
        if "guidance" in result:
            g = result["guidance"]
            _, proc = self.config.procedure_by_id[g["procedure"]]
            lang = getattr(cmd, "lang", "vi")
            g["steps"] = guidance.steps(g["portal_url"], proc.name.get(lang), g["online"], lang)
            g["procedure_name"] = proc.name.model_dump()
        return reply_ok(req_id, result, now)

    # --- devices --------------------------------------------------------------------------

    def device_status(self, kind: str, device: str, payload: dict[str, Any] | None) -> None:
        with self.lock:
            before = self.devices.get((kind, device))
            if payload is None:
                self.devices.pop((kind, device), None)
            else:
                self.devices[(kind, device)] = payload
        if payload != before:
            # Listeners only (the web's live stream): the device published this itself, retained.
            # A paper-out printer or a kiosk gone offline reaches the dashboard at once, not at its next poll.
            self.outbox.notify([Message(self.topics.device_status(kind, device), {"kind": kind, "id": device})])
