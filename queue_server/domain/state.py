"""The state of a site: a fold over its events (`SiteState.apply`; the fold is fold.py).

Only today's tickets are kept in memory; earlier days live in the event log. What it is made of
is tickets.py, what it learns over days learning.py, its snapshot codec snapshot.py.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from queue_server.domain import events as ev
from queue_server.domain import fold
from queue_server.domain.site import SiteConfig
from queue_server.domain.tickets import RECENT_CALLS, CounterRuntime, SectorStats, Ticket


@dataclass
class SiteState:
    last_seq: int = 0
    day: str | None = None
    tickets: dict[str, Ticket] = field(default_factory=dict)
    waiting: dict[str, dict[str, None]] = field(default_factory=dict)  # sector -> ordered set of ticket ids
    counters: dict[str, CounterRuntime] = field(default_factory=dict)
    sectors: dict[str, SectorStats] = field(default_factory=dict)
    recent_calls: deque = field(default_factory=lambda: deque(maxlen=RECENT_CALLS))
    by_token: dict[str, str] = field(default_factory=dict)
    by_number: dict[str, str] = field(default_factory=dict)
    guided_online_today: int = 0
    auto_mode: bool = False
    last_event_ts: str | None = None
    last_order: float = 0.0   # the newest ticket's order key: keeps keys strictly increasing
    tz: tzinfo | None = None   # the site's zone (from its config, not in snapshots): the local half hour of events
    # Bookings and remote tickets (issue #16, bookings.py), kept across days: code -> Booking;
    # the managers' closures ({day, sector, slot}); today's held tickets (not in a queue yet).
    # by_id_hash and slot_index are indexes of `bookings` (rebuilt from it, not in snapshots).
    bookings: dict[str, Any] = field(default_factory=dict)
    closures: list[dict[str, Any]] = field(default_factory=list)
    held: dict[str, None] = field(default_factory=dict)
    by_id_hash: dict[str, dict[str, None]] = field(default_factory=dict)
    slot_index: dict[str, dict[str, None]] = field(default_factory=dict)
    # Messages to citizens' phones (notices.py): the open ones (id -> notify.queued's data, with
    # the phone: the notifier's outbox) and the ids queued lately (id -> expires_epoch: never twice).
    notify_pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    notified: dict[str, float] = field(default_factory=dict)

    @classmethod
    def initial(cls, config: SiteConfig) -> "SiteState":
        state = cls()
        state.tz = config.site.tz
        for s in config.sectors:
            state.waiting[s.id] = {}
            state.sectors[s.id] = SectorStats()
        for c in config.counters:
            state.counters[c.id] = CounterRuntime(id=c.id, status=c.initial_status, sectors=list(c.sectors))
        return state

    # queries ---------------------------------------------------------------

    def waiting_in(self, sector: str) -> list[Ticket]:
        return [self.tickets[t] for t in self.waiting.get(sector, ())]

    def waiting_count(self, sector: str) -> int:
        return len(self.waiting.get(sector, ()))

    def counter_serving(self, counter: str) -> Ticket | None:
        c = self.counters.get(counter)
        return self.tickets.get(c.serving) if c and c.serving else None

    def bookings_of(self, id_hash: str) -> list[Any]:
        """The bookings (and remote tickets) made with this ID card hash, oldest first."""
        return [self.bookings[c] for c in self.by_id_hash.get(id_hash, ())]

    def index_booking(self, b: Any) -> None:
        self.by_id_hash.setdefault(b.id_hash, {})[b.code] = None
        if b.slot is not None:
            self.slot_index.setdefault(f"{b.sector}|{b.slot}", {})[b.code] = None

    def unindex_booking(self, b: Any) -> None:
        self.by_id_hash.get(b.id_hash, {}).pop(b.code, None)
        if b.slot is not None:
            self.slot_index.get(f"{b.sector}|{b.slot}", {}).pop(b.code, None)

    def ticket_by_number(self, number: str) -> Ticket | None:
        tid = self.by_number.get(number)
        return self.tickets.get(tid) if tid else None

    # the fold ----------------------------------------------------------------

    def apply(self, event: ev.Event) -> None:
        fold.apply(self, event)

    # snapshots (snapshot.py: imported here, as it needs this class) ---------------

    def to_dict(self) -> dict[str, Any]:
        from queue_server.domain import snapshot
        return snapshot.to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: SiteConfig) -> "SiteState":
        from queue_server.domain import snapshot
        return snapshot.from_dict(data, config)
