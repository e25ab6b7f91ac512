"""What a committed batch publishes: domain events on `events/log`, calls on `events/call`, the
retained counter states, sector stats and board it changed, then the replies; and the messages
held back for a short window (waiting counts alone), sent when it ends. Everything goes to
`publish` (the MQTT gateway) and to the `listeners` (the web's live stream)."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from protocol.messages import Call, LogEvent
from protocol.topics import Topics
from queue_server import texts
from queue_server.domain import events as ev
from queue_server.domain import views
from queue_server.domain.core import QueueCore
from queue_server.domain.events import Event
from queue_server.domain.site import SiteConfig

log = logging.getLogger(__name__)

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


class Outbox:
    def __init__(self, core: QueueCore, config: SiteConfig, topics: Topics, clock: Callable[[], datetime],
                 lock: threading.RLock):
        self.core, self.config, self.topics, self.clock, self.lock = core, config, topics, clock, lock
        self.publish: Callable[[list[Message]], None] = lambda msgs: None
        self.listeners: list[Callable[[list[Message]], None]] = []
        self._owed_counters: set[str] = set()   # counter states not yet published for a waiting count
        self._owed_sent = 0.0                   # monotonic time they were last published
        self._board_owed = False                # a board held back by BOARD_WINDOW_S
        self._board_sent = 0.0                  # monotonic time of the last board

    def batch_messages(self, results: list[tuple[Any, dict | None]], new_events: list[Event],
                       now: datetime) -> list[Message]:
        """The messages of a committed batch (`results`: each command's loop.Item and reply)."""
        state = self.core.state
        t = self.topics
        # Replies go out last: a device that has its reply finds the retained state already current.
        replies = self.replies_of(results)
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
                out.append(Message(t.events_call, Call.build(
                    ts=e.ts, seq=e.seq, number=d["number"], counter=counter.id,
                    counter_label=counter.label.vi, counter_label_en=counter.label.en,
                    counter_number=counter.number, sector=d["sector"], recall=e.type == ev.TICKET_RECALLED,
                    announce=texts.announce(d["number"], counter.spoken_number, counter.label.model_dump(),
                                            step=d.get("step"), steps=d.get("steps"),
                                            sector_name=_sector_name(self.config, d["sector"])),
                    **{k: d[k] for k in ("step", "steps") if k in d})))
            if "counter" in d and d["counter"] in state.counters:
                counters.add(d["counter"])
            sectors |= views.sectors_changed(state, e)    # the domain says which (caps, bookings too)
            if e.type in (ev.DAY_STARTED, ev.COUNTER_SECTORS, ev.COUNTER_STATUS, ev.AUTO_MODE):
                counters.update(state.counters)
        # A counter's state shows the waiting count of its sectors, so those counters change too:
        # now if none went out within the window, else within it (STATE_WINDOW_S, publish_due).
        owed = self._owed_counters
        for c in state.counters.values():
            if c.id not in counters and sectors.intersection(c.sectors):
                owed.add(c.id)
        owed.difference_update(counters)
        if owed and time.monotonic() >= self._owed_sent + STATE_WINDOW_S:
            counters.update(owed)
            owed.clear()
            self._owed_sent = time.monotonic()
        for cid in sorted(counters):
            out.append(Message(t.counter_state(cid), views.counter_state(state, self.config, cid, now), retain=True))
        waits = views.sector_waits(state, self.config)   # once per batch, not once per message
        for sid in sorted(sectors):
            out.append(Message(t.sector_stats(sid), views.sector_stats(state, self.config, sid, now, waits),
                               retain=True))
        # At most one board per batch (and per BOARD_WINDOW_S for waiting counts alone): under
        # load, displays get the newest state, not a backlog.
        mono = time.monotonic()
        if mono >= self._board_sent + BOARD_WINDOW_S or any(e.type in _BOARD_NOW for e in new_events):
            out.append(Message(t.board, views.board(state, self.config, now, waits), retain=True))
            self._board_sent, self._board_owed = mono, False
        else:
            self._board_owed = True
        return out + replies

    def due_at(self) -> float | None:
        """When the first held-back message (counter states, board) is due, or None."""
        due = []
        if self._owed_counters:
            due.append(self._owed_sent + STATE_WINDOW_S)
        if self._board_owed:
            due.append(self._board_sent + BOARD_WINDOW_S)
        return min(due) if due else None

    def publish_due(self) -> None:
        """The counter states owed for a waiting count and the board held back, whose window
        has ended, as they are now (every batch before this one is durable: the loop calls this
        only between batches)."""
        try:
            with self.lock:
                state = self.core.state
                now = self.clock()
                mono = time.monotonic()
                msgs = []
                if self._owed_counters and mono >= self._owed_sent + STATE_WINDOW_S:
                    msgs = [Message(self.topics.counter_state(cid),
                                    views.counter_state(state, self.config, cid, now), retain=True)
                            for cid in sorted(self._owed_counters) if cid in state.counters]
                    self._owed_counters.clear()
                    self._owed_sent = mono
                if self._board_owed and mono >= self._board_sent + BOARD_WINDOW_S:
                    msgs.append(Message(self.topics.board, views.board(state, self.config, now), retain=True))
                    self._board_owed, self._board_sent = False, mono
        except Exception:
            log.exception("building the owed counter states and board failed")
            self._owed_counters.clear()
            self._board_owed = False
            return
        self.emit(msgs)

    def log_message(self, e: Event) -> Message:
        """One domain event on `events/log` (live, and again at start for the upstream tail)."""
        data = e.data
        if "phone" in data:     # a booking's phone number stays in the site's log (docs/appointments.md)
            data = {k: v for k, v in data.items() if k != "phone"}
        return Message(self.topics.events_log, LogEvent.build(ts=e.ts, seq=e.seq, event=e.type, data=data,
                                                              site=self.config.id, device=e.device))

    def replies_of(self, results: Iterable[tuple[Any, dict | None]]) -> list[Message]:
        return [Message(self.topics.reply(item.kind, item.device), reply) for item, reply in results
                if reply is not None and item.kind in ("kiosk", "counter") and item.from_wire]

    def retained_snapshot(self) -> list[Message]:
        """Every retained message, whole: sent on (re)connect so a fresh broker knows the truth."""
        with self.lock:
            state = self.core.state
            now = self.clock()
            t = self.topics
            out = [Message(t.board, views.board(state, self.config, now), retain=True)]
            out += [Message(t.counter_state(c), views.counter_state(state, self.config, c, now), retain=True)
                    for c in state.counters]
            out += [Message(t.sector_stats(s), views.sector_stats(state, self.config, s, now), retain=True)
                    for s in state.sectors]
        return out

    def emit(self, messages: list[Message]) -> None:
        if not messages:
            return
        try:
            self.publish(messages)
        except Exception:
            log.exception("publishing failed")
        self.notify(messages)

    def notify(self, messages: list[Message]) -> None:
        for listener in list(self.listeners):
            try:
                listener(messages)
            except Exception:
                log.exception("listener failed")


def _sector_name(config: SiteConfig, sector_id: str) -> dict[str, str] | None:
    sector = config.sector_by_id.get(sector_id)
    return sector.name.model_dump() if sector is not None else None
