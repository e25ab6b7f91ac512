"""The snapshot codec: a SiteState to and from plain data (JSON in the store's snapshots)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from queue_server.domain import fold
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState
from queue_server.domain.tickets import CounterRuntime, SectorStats, Ticket


# A walk-in's ticket is written without the booking fields (issue #16): as it always was.
_BOOKING_KEYS = ("booking", "booking_kind", "held", "due_epoch", "arrive_by_epoch")


def _ticket(t: Ticket) -> dict[str, Any]:
    d = {**vars(t), "transferred_from": list(t.transferred_from), "visit": [dict(p) for p in t.visit]}
    if t.booking is None:
        for key in _BOOKING_KEYS:
            del d[key]
    return d


def to_dict(state: SiteState) -> dict[str, Any]:
    return {
        "last_seq": state.last_seq, "day": state.day,
        # Not asdict(): it deep-copies every field, and a busy day's tickets made each
        # snapshot stall the command loop for ~0.3 s. Every Ticket field is a scalar
        # except transferred_from and visit, copied here.
        "tickets": {k: _ticket(v) for k, v in state.tickets.items()},
        "waiting": {k: list(v) for k, v in state.waiting.items()},
        "counters": {k: asdict(v) for k, v in state.counters.items()},
        "sectors": {k: asdict(v) for k, v in state.sectors.items()},
        "recent_calls": list(state.recent_calls),
        "guided_online_today": state.guided_online_today, "auto_mode": state.auto_mode,
        "last_event_ts": state.last_event_ts, "last_order": state.last_order,
        # issue #16, only when there are some: a site without bookings writes the snapshot it
        # always did, and a snapshot from before loads (from_dict reads none)
        **({"bookings": {k: vars(v).copy() for k, v in state.bookings.items()}} if state.bookings else {}),
        **({"closures": [dict(c) for c in state.closures]} if state.closures else {}),
        **({"notify_pending": {k: dict(v) for k, v in state.notify_pending.items()}} if state.notify_pending else {}),
        **({"notified": dict(state.notified)} if state.notified else {}),
    }


def from_dict(data: dict[str, Any], config: SiteConfig) -> SiteState:
    state = SiteState.initial(config)
    state.last_seq = data["last_seq"]
    state.day = data["day"]
    state.tickets = {k: Ticket(**v) for k, v in data["tickets"].items()}
    for k, v in data["waiting"].items():
        state.waiting[k] = dict.fromkeys(v)
    for k, v in data["counters"].items():
        state.counters[k] = CounterRuntime(**v)
    for k, v in data["sectors"].items():
        state.sectors[k] = SectorStats(**v)
    if any("taken_today" not in v for v in data["sectors"].values()):
        # A snapshot from before daily caps: today's tickets say what was taken.
        for t in state.tickets.values():
            if t.day == state.day:
                fold.count_taken(state, t)
    state.recent_calls.extend(data["recent_calls"])
    state.guided_online_today = data["guided_online_today"]
    state.auto_mode = data["auto_mode"]
    state.last_event_ts = data.get("last_event_ts")
    state.last_order = data.get("last_order", 0.0)
    from queue_server.domain.bookings import Booking
    for k, v in data.get("bookings", {}).items():
        b = state.bookings[k] = Booking(**v)
        state.index_booking(b)
    state.closures = [dict(c) for c in data.get("closures", [])]
    state.notify_pending = {k: dict(v) for k, v in data.get("notify_pending", {}).items()}
    state.notified = dict(data.get("notified", {}))
    state.held = {t.id: None for t in state.tickets.values() if t.held and t.status == "waiting"}
    state.by_token = {t.token: t.id for t in state.tickets.values()}
    state.by_number = {t.number: t.id for t in state.tickets.values()}
    return state

