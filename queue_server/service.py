"""The one command loop of a site: command -> domain -> events -> store -> publish.

Commands from MQTT (bytes) and from the web or CLI (domain command objects)
go through one queue and one worker thread, in order. A batch of commands is
decided one by one against the in-memory state, then its events and replies
are committed in ONE durable transaction, and only then are replies and
state published. A crash before the commit loses only unacknowledged
commands, which clients retry with the same req_id.
"""
from __future__ import annotations

import base64
import gc
import logging
import queue
import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from protocol.errors import ErrorCode
from protocol.messages import ProtocolError, parse_command, reply_error, reply_ok
from protocol.topics import Topics
from queue_server import texts
from queue_server.domain import events as ev
from queue_server.domain import views
from queue_server.domain.core import Context, Outcome, QueueCore, execute, fold_in
from queue_server.domain.errors import DomainError
from queue_server.domain.events import Event
from queue_server.domain.policy import Policy
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState
from queue_server.snapshotter import Snapshotter
from queue_server.store import EventStore, StoredReply

log = logging.getLogger(__name__)

MAX_BATCH = 256
# Recent replies kept in memory for retries with the same req_id (they come within seconds).
# Older ones are still answered, from the store's replies table: this only bounds memory,
# which at 50,000 (about 1.4 KB each) grew by ~70 MiB over a busy centre's first 11 days.
REPLY_CACHE = 2_000
# Periodic work (a new day at midnight, auto mode's look at the queues) runs every TICK_S,
# busy or not: a site whose devices send a command every second must still be balanced.
TICK_S = 2.0
# Counter states whose only change is the waiting count of a sector they serve are published at
# most once per window (the counters an event names go out with their batch, before its replies).
# On a 60-counter site nearly every batch touched every counter's waiting counts, and those ~60
# retained messages per batch cost more than the commands themselves.
STATE_WINDOW_S = 0.02
# A board (every counter and sector, ~15 KiB on a 60-counter site) whose only news is waiting
# counts and estimates (tickets taken, ratings, online guidance) goes out at most once per window
# too; it goes out when the window ends (or with the next batch after it). A batch that changes
# what a counter shows (a call, a recall, a citizen done, a counter opened...) publishes its
# board at once: the wall display must show the call as the announcer speaks it (call -> board
# p50 5 ms, docs/performance.md). Holding every board for the window measured 9.6 ms.
BOARD_WINDOW_S = 0.02
_BOARD_NOW = frozenset({ev.DAY_STARTED, ev.TICKET_CALLED, ev.TICKET_RECALLED, ev.TICKET_SERVED, ev.TICKET_NO_SHOW,
                        ev.TICKET_TRANSFERRED, ev.TICKET_CANCELLED, ev.COUNTER_STATUS, ev.COUNTER_SECTORS,
                        ev.AUTO_MODE})


@dataclass
class Message:
    topic: str
    payload: dict[str, Any]
    qos: int = 1
    retain: bool = False


@dataclass
class _Item:
    kind: str                      # kiosk | counter | manager | citizen | system
    device: str
    payload: Any                   # bytes from MQTT, or a command object
    future: Future | None = None
    received: float = field(default_factory=time.monotonic)
    parsed: Any = None             # the command parsed from `payload`, once (see _prefetch_replies)


_NOTHING = object()                # the loop woke with no command (a tick or a held-back message is due)


class _TokenPool:
    """`secrets.token_urlsafe(16)`, drawing the random bytes 64 tokens at a time. os.urandom lets
    go of the interpreter lock, and under load paho's network thread then holds the command loop
    up for the rest of its turn: one release per ticket showed as 6 % of the loop's time (py-spy)."""

    _N = 64

    def __init__(self) -> None:
        self._bytes = b""
        self._at = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._at >= len(self._bytes):
                self._bytes, self._at = secrets.token_bytes(16 * self._N), 0
            raw = self._bytes[self._at:self._at + 16]
            self._at += 16
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class RateLimiter:
    """A token bucket per device: a stuck button or a broken client cannot flood the site."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float) -> bool:
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True


FREEZE_EVERY = 10_000   # events between two freezes of the cyclic collector's survivors (_freeze_gc)


class CpuBudget:
    """A share of the command loop's time for one optional piece of work (the forecast of the
    printed wait: about 1 ms a ticket, up to ~15 ms on a busy 60-counter site). A site issuing a
    ticket every few seconds always has it; a loop flooded with tickets spends at most `share`
    of its time on it and prints the cheaper stream estimate for the rest. (The loop also skips
    the forecast whenever another command is waiting: see QueueService.process.)"""

    def __init__(self, share: float = 0.02, burst_s: float = 0.05):
        self.share, self.burst_s = share, burst_s
        self._left, self._at = burst_s, time.monotonic()

    def left(self) -> float:
        """Seconds of work the budget allows now."""
        now = time.monotonic()
        self._left = min(self.burst_s, self._left + (now - self._at) * self.share)
        self._at = now
        return max(self._left, 0.0)

    def spend(self, seconds: float) -> None:
        self._left -= seconds


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
        self.token_factory = token_factory or _TokenPool()
        limits = config.site.limits
        self.limiter = RateLimiter(rate_per_s or limits.device_cmds_per_s, burst or limits.device_burst)
        # A separate, slower bucket for tickets: a stuck kiosk button must not use up a sector's numbers.
        self.ticket_limiter = RateLimiter(limits.kiosk_tickets_per_s, limits.kiosk_ticket_burst)
        self.forecast_budget = CpuBudget()
        self.balancer = balancer
        self.core = QueueCore(config, policy)
        self.lock = threading.RLock()          # readers (web) take it to see a consistent state
        self.publish: Callable[[list[Message]], None] = lambda msgs: None
        self.listeners: list[Callable[[list[Message]], None]] = []
        self.devices: dict[tuple[str, str], dict[str, Any]] = {}
        self._replies: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._stored_replies: dict[tuple[str, str], dict[str, Any]] | None = None   # this batch's, from the store
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._last_snapshot_seq = 0
        self.snapshots = Snapshotter(store, config, snapshot_every)
        self._freezes_gc = False
        self._frozen_at = 0
        self._owed_counters: set[str] = set()   # counter states not yet published for a waiting count
        self._owed_sent = 0.0                   # monotonic time they were last published
        self._board_owed = False                # a board held back by BOARD_WINDOW_S
        self._board_sent = 0.0                  # monotonic time of the last board
        self.recover()

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
        self._thread = threading.Thread(target=self._run, name="motcua-service", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        self.snapshots.stop()

    # --- input ------------------------------------------------------------------------

    def submit(self, kind: str, device: str, payload: Any) -> Future:
        fut: Future = Future()
        self._queue.put(_Item(kind, device, payload, fut))
        return fut

    def post(self, kind: str, device: str, payload: Any) -> None:
        """Submit without waiting for the reply: MQTT commands, whose reply the loop publishes
        (no Future, and so no lock, made per command in paho's network thread)."""
        self._queue.put(_Item(kind, device, payload))

    def execute(self, kind: str, device: str, payload: Any, timeout: float = 10.0) -> dict[str, Any]:
        """Submit and wait for the reply (web, CLI, tests)."""
        return self.submit(kind, device, payload).result(timeout)

    # --- the loop -----------------------------------------------------------------------

    def _run(self) -> None:
        ticked = time.monotonic()
        while True:
            due = self._owed_due_at()
            wake = ticked + TICK_S if due is None else min(ticked + TICK_S, due)
            try:
                first = self._queue.get(timeout=max(0.0, wake - time.monotonic()))
            except queue.Empty:
                first = _NOTHING
            if first is None:
                return
            if first is not _NOTHING:
                self._run_batch(first)
            due = self._owed_due_at()
            if due is not None and time.monotonic() >= due:
                self._publish_owed()
            if time.monotonic() >= ticked + TICK_S:
                ticked = time.monotonic()
                try:
                    self._tick()
                except Exception:
                    log.exception("periodic tick failed")

    def _run_batch(self, first: _Item) -> None:
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                self._queue.put(None)
                break
            batch.append(nxt)
        try:
            self.process(batch)
        except Exception:  # the loop must outlive any bug; process() already answered what it could
            log.exception("a batch failed")
            for item in batch:
                if item.future and not item.future.done():
                    item.future.set_exception(RuntimeError("internal error"))

    def _owed_due_at(self) -> float | None:
        """When the first held-back message (counter states, board) is due, or None."""
        due = []
        if self._owed_counters:
            due.append(self._owed_sent + STATE_WINDOW_S)
        if self._board_owed:
            due.append(self._board_sent + BOARD_WINDOW_S)
        return min(due) if due else None

    def _freeze_gc(self) -> None:
        # The day's tickets pile up in the oldest generation, and every full pass of the cyclic
        # collector walks them all: 10-46 ms stops of every thread at 2,000 commands/s. Collect
        # the young generations (cycles made since) and freeze what survives, so full passes
        # see only what was made since the last freeze. Frozen objects are still freed by
        # reference counting when dropped; the state holds no cycles (bench/memory.py: flat).
        self._frozen_at = self.state.last_seq
        gc.collect(1)
        gc.freeze()

    def process(self, batch: list[_Item]) -> None:
        with self.lock:
            now = self.clock()
            new_events: list[Event] = []
            new_replies: list[StoredReply] = []
            results: list[tuple[_Item, dict[str, Any] | None]] = []
            self._prefetch_replies(batch)
            # The forecast of a printed wait is worth its milliseconds only when no other command
            # waits behind it (the replies of a batch go out together, after it is durable).
            alone = len(batch) == 1 and self._queue.empty()
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
                outputs = self._outputs(results, new_events, now)
            except Exception:
                # The batch is durable; a bug in a view must not stop the loop. Devices still get
                # their replies, and the next batch republishes the state.
                log.exception("building the messages of a batch failed")
                outputs = [m for m in self._replies_of(results)]
        self._emit(outputs)
        for item, reply in results:
            if item.future and not item.future.done():
                item.future.set_result(reply)
        if self._freezes_gc and self.state.last_seq - self._frozen_at >= FREEZE_EVERY:
            self._freeze_gc()

    def _tick(self) -> None:
        """Periodic work (every TICK_S): start a new day at midnight, let auto mode move counters."""
        items: list[_Item] = []
        with self.lock:
            now = self.clock()
            if self.core.rollover(now):
                items.append(_Item("system", "clock", ("rollover",)))
            if self.balancer is not None and self.state.auto_mode:
                for cmd in self.balancer.propose(self.state, self.config, now.timestamp()):
                    items.append(_Item("manager", "auto", cmd))
        if items:
            self.process(items)

    # --- one command --------------------------------------------------------------------

    def _handle(self, item: _Item, now: datetime, out: list[Event], replies: list[StoredReply],
                alone: bool) -> dict | None:
        """One command. `alone`: no other command waits behind it (it may have the forecast)."""
        if item.kind == "system":
            fold_in(self.state, self.core.rollover(now), f"{item.kind}/{item.device}", None, out)
            return None
        key_device = f"{item.kind}/{item.device}"
        req_id: str | None = None
        if isinstance(item.payload, (bytes, bytearray, str)):
            try:
                cmd = item.parsed if item.parsed is not None else parse_command(item.kind, item.payload)
            except ProtocolError as err:
                msgid = "The request is too large" if err.code == ErrorCode.TOO_LARGE else "The request could not be read"
                return reply_error(err.req_id, err.code, err.message, now, texts.error_message(msgid))
            req_id = cmd.req_id
            cached = self._cached_reply(key_device, req_id)
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
            req_id = getattr(cmd, "req_id", None)
        fold_in(self.state, self.core.rollover(now), "system/clock", None, out)
        issue = getattr(cmd, "type", "") == "ticket.issue"
        token = self.token_factory() if issue else ""
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
        if req_id is not None and isinstance(item.payload, (bytes, bytearray, str)):
            self._remember(key_device, req_id, reply)
            replies.append(StoredReply(key_device, req_id, self.state.last_seq, reply))
        return reply

    def _reply(self, cmd: Any, outcome: Outcome, req_id: str | None, now: datetime) -> dict[str, Any]:
        if outcome.error is not None:
            err: DomainError = outcome.error
            return reply_error(req_id, err.code, err.en, now, texts.error_message(err.en))
        result = outcome.result if outcome.result is not None else {}
        if "ticket" in result and getattr(cmd, "type", "") == "ticket.issue":
            result["ticket"]["track_url"] = f"{self.public_url}/t/{result['ticket']['token']}"
        if "guidance" in result:
            g = result["guidance"]
            _, proc = self.config.procedure_by_id[g["procedure"]]
            lang = getattr(cmd, "lang", "vi")
            g["steps"] = texts.guidance_steps(g["portal_url"], proc.name.get(lang), g["online"], lang)
            g["procedure_name"] = proc.name.model_dump()
        return reply_ok(req_id, result, now)

    def _cached_reply(self, key_device: str, req_id: str) -> dict[str, Any] | None:
        key = (key_device, req_id)
        if key in self._replies:
            return self._replies[key]
        if self._stored_replies is not None:
            stored = self._stored_replies.get(key)
        else:
            stored = self.store.reply_for(key_device, req_id)
        if stored is not None:
            self._remember(key_device, req_id, stored)
        return stored

    def _prefetch_replies(self, batch: list[_Item]) -> None:
        """Parse the batch's MQTT commands once and look up, in ONE query, the stored replies of
        the req_ids not in memory. A query per command took a quarter of the loop's time at
        1,000 cmd/s (py-spy): each one hands the GIL to paho's network thread and waits for it."""
        self._stored_replies = None
        keys: list[tuple[str, str]] = []
        in_memory: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            for item in batch:
                if isinstance(item.payload, (bytes, bytearray, str)):
                    try:
                        item.parsed = parse_command(item.kind, item.payload)
                    except ProtocolError:
                        continue          # _handle parses it again and replies with the error
                    key = (f"{item.kind}/{item.device}", item.parsed.req_id)
                    if key in self._replies:
                        # Kept here too: this batch's own replies may push it out of the cache.
                        in_memory[key] = self._replies[key]
                    else:
                        keys.append(key)
            stored = self.store.replies_for(keys) if keys else {}
            stored.update(in_memory)
            self._stored_replies = stored
        except Exception:   # fall back to one lookup per command
            log.exception("looking up the batch's stored replies failed")
            self._stored_replies = None

    def _remember(self, key_device: str, req_id: str, reply: dict[str, Any]) -> None:
        self._replies[(key_device, req_id)] = reply
        if len(self._replies) > REPLY_CACHE:
            self._replies.popitem(last=False)

    # --- outputs ------------------------------------------------------------------------

    def _outputs(self, results: list[tuple[_Item, dict | None]], new_events: list[Event], now: datetime) -> list[Message]:
        t = self.topics
        # Replies go out last: a device that has its reply finds the retained state already current.
        replies = self._replies_of(results)
        if not new_events:
            return replies
        out: list[Message] = []
        counters: set[str] = set()
        sectors: set[str] = set()
        for e in new_events:
            out.append(self.log_message(e))
            d = e.data
            if e.type in (ev.TICKET_CALLED, ev.TICKET_RECALLED):
                counter = self.config.counter_by_id[d["counter"]]
                out.append(Message(t.events_call, {
                    "v": 1, "type": "call", "ts": e.ts, "seq": e.seq, "number": d["number"], "counter": counter.id,
                    "counter_label": counter.label.vi, "counter_label_en": counter.label.en,
                    "counter_number": counter.number, "sector": d["sector"], "recall": e.type == ev.TICKET_RECALLED,
                    "announce": texts.announce(d["number"], counter.spoken_number, counter.label.model_dump())}))
            if "counter" in d and d["counter"] in self.state.counters:
                counters.add(d["counter"])
            for key in ("sector", "to_sector", "from_sector"):
                if isinstance(d.get(key), str) and d[key] in self.state.sectors:
                    sectors.add(d[key])
            if e.type == ev.TICKET_ISSUED:
                sectors.add(d["ticket"]["sector"])
            if e.type in (ev.TICKET_CALLED, ev.TICKET_CANCELLED, ev.TICKET_SERVED, ev.TICKET_NO_SHOW):
                tk = self.state.tickets.get(d["ticket_id"])
                if tk:
                    sectors.add(tk.sector)
            if e.type in (ev.DAY_STARTED, ev.COUNTER_SECTORS, ev.COUNTER_STATUS, ev.AUTO_MODE):
                counters.update(self.state.counters)
                sectors.update(self.state.sectors)
        # A counter's state shows the waiting count of its sectors, so those counters change too:
        # now if none went out within the window, else within it (STATE_WINDOW_S, _publish_owed).
        owed = self._owed_counters
        for c in self.state.counters.values():
            if c.id not in counters and sectors.intersection(c.sectors):
                owed.add(c.id)
        owed.difference_update(counters)
        if owed and time.monotonic() >= self._owed_sent + STATE_WINDOW_S:
            counters.update(owed)
            owed.clear()
            self._owed_sent = time.monotonic()
        for cid in sorted(counters):
            out.append(Message(t.counter_state(cid), views.counter_state(self.state, self.config, cid, now), retain=True))
        waits = views.sector_waits(self.state, self.config)   # once per batch, not once per message
        for sid in sorted(sectors):
            out.append(Message(t.sector_stats(sid), views.sector_stats(self.state, self.config, sid, now, waits),
                               retain=True))
        # At most one board per batch (and per BOARD_WINDOW_S for waiting counts alone): under
        # load, displays get the newest state, not a backlog.
        mono = time.monotonic()
        if mono >= self._board_sent + BOARD_WINDOW_S or any(e.type in _BOARD_NOW for e in new_events):
            out.append(Message(t.board, views.board(self.state, self.config, now, waits), retain=True))
            self._board_sent, self._board_owed = mono, False
        else:
            self._board_owed = True
        return out + replies

    def _publish_owed(self) -> None:
        """The counter states owed for a waiting count and the board held back, whose window
        has ended, as they are now (every batch before this one is durable: the loop calls this
        only between batches)."""
        try:
            with self.lock:
                now = self.clock()
                mono = time.monotonic()
                msgs = []
                if self._owed_counters and mono >= self._owed_sent + STATE_WINDOW_S:
                    msgs = [Message(self.topics.counter_state(cid),
                                    views.counter_state(self.state, self.config, cid, now), retain=True)
                            for cid in sorted(self._owed_counters) if cid in self.state.counters]
                    self._owed_counters.clear()
                    self._owed_sent = mono
                if self._board_owed and mono >= self._board_sent + BOARD_WINDOW_S:
                    msgs.append(Message(self.topics.board, views.board(self.state, self.config, now), retain=True))
                    self._board_owed, self._board_sent = False, mono
        except Exception:
            log.exception("building the owed counter states and board failed")
            self._owed_counters.clear()
            self._board_owed = False
            return
        self._emit(msgs)

    def log_message(self, e: Event) -> Message:
        """One domain event on `events/log` (live, and again at start for the upstream tail)."""
        return Message(self.topics.events_log, {"v": 1, "type": "event", "ts": e.ts, "seq": e.seq, "event": e.type,
                                                "data": e.data, "site": self.config.id, "device": e.device})

    def _replies_of(self, results: list[tuple[_Item, dict | None]]) -> list[Message]:
        return [Message(self.topics.reply(item.kind, item.device), reply) for item, reply in results
                if reply is not None and item.kind in ("kiosk", "counter")
                and isinstance(item.payload, (bytes, bytearray, str))]

    def retained_snapshot(self) -> list[Message]:
        """Every retained message, whole: sent on (re)connect so a fresh broker knows the truth."""
        with self.lock:
            now = self.clock()
            t = self.topics
            out = [Message(t.board, views.board(self.state, self.config, now), retain=True)]
            out += [Message(t.counter_state(c), views.counter_state(self.state, self.config, c, now), retain=True)
                    for c in self.state.counters]
            out += [Message(t.sector_stats(s), views.sector_stats(self.state, self.config, s, now), retain=True)
                    for s in self.state.sectors]
        return out

    def _emit(self, messages: list[Message]) -> None:
        if not messages:
            return
        try:
            self.publish(messages)
        except Exception:
            log.exception("publishing failed")
        self._notify(messages)

    def _notify(self, messages: list[Message]) -> None:
        for listener in list(self.listeners):
            try:
                listener(messages)
            except Exception:
                log.exception("listener failed")

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
            self._notify([Message(self.topics.device_status(kind, device), {"kind": kind, "id": device})])
