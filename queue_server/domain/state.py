"""The state of a site: a fold over its events (`SiteState.apply`).

Only today's tickets are kept in memory; earlier days live in the event log.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from queue_server.domain import events as ev
from queue_server.domain.site import SiteConfig

RECENT_CALLS = 10
PRIORITY_RANK = {"normal": 1}  # every priority group ranks 0: served first


@dataclass
class Ticket:
    id: str
    number: str
    sector: str
    procedure: str | None
    priority: str
    lang: str
    day: str
    issued_at: str
    order: float            # epoch seconds of first issue; a transfer keeps it, so the citizen stays ahead
    token: str
    device: str | None = None
    status: str = "waiting"  # waiting | called | served | no_show | cancelled | expired
    counter: str | None = None
    called_at: str | None = None
    called_epoch: float | None = None
    finished_at: str | None = None
    # The wait printed on the ticket (printed_wait_s on the wire). Named est_wait_s here because
    # the ticket.issued events and the snapshots already in the logs carry it under that name.
    est_wait_s: int = 0
    # The stream estimate at issue, which the printed wait (a forecast) corrected; the tracking
    # page goes on correcting the live stream estimate the same way (estimate.live_wait).
    est_stream_s: int | None = None
    position: int = 0
    recalls: int = 0        # since the ticket's latest call
    transferred_from: list[str] = field(default_factory=list)
    outcome: str | None = None
    served_by: str | None = None
    rating: int | None = None

    @property
    def printed_wait_s(self) -> int:
        return self.est_wait_s

    @property
    def is_priority(self) -> bool:
        return self.priority != "normal"

    @property
    def rank(self) -> int:
        return PRIORITY_RANK.get(self.priority, 0)

    @property
    def transferred(self) -> bool:
        return bool(self.transferred_from)


@dataclass
class CounterRuntime:
    id: str
    status: str                       # open | paused | closed
    sectors: list[str]
    serving: str | None = None        # ticket id
    last_served: str | None = None    # ticket id, for the rating pad
    served_today: int = 0
    busy_s_today: float = 0.0
    sectors_override: bool = False


@dataclass
class SectorStats:
    issued_today: int = 0
    served_today: int = 0
    no_show_today: int = 0
    service_s_sum: float = 0.0
    service_n: int = 0
    # Exponentially weighted mean of recent service times: follows the day's pace.
    service_s_ewma: float | None = None
    last_number: int = 0
    # What the forecast of the printed wait learns (forecast.py), folded from the events like
    # everything else. Keys are half hours of the local day, as strings (snapshots are JSON).
    arrivals_today: dict[str, int] = field(default_factory=dict)
    arrival_profile: dict[str, float] = field(default_factory=dict)   # tickets per half hour, over days
    profile_days: int = 0
    priority_today: int = 0
    priority_share_days: float | None = None
    service_s_sq_sum: float = 0.0
    service_cv_days: float | None = None
    service_mean_days: float | None = None   # the daily mean service time, over days
    # procedure -> [services, their total seconds], each earlier day's counting PROCEDURE_DECAY
    # times less: how long each procedure of the sector takes (the kiosk names it on the ticket)
    procedure_service: dict[str, list[float]] = field(default_factory=dict)
    # How today's printed waits (forecasts) compared with the stream estimate at their issue
    # (a running mean of the ratio) and when the newest was printed: what the kiosk buttons and
    # the board show is the stream estimate corrected by it (estimate.shown_waits).
    printed_ratio: float | None = None
    printed_ratio_at: float | None = None

    def service_cv_today(self) -> float | None:
        """Today's spread of service times (standard deviation / mean); None before any service,
        or when every one took 0 s."""
        if self.service_n <= 0:
            return None
        mean = self.service_s_sum / self.service_n
        if mean <= 0:
            return None
        return math.sqrt(max(0.0, self.service_s_sq_sum / self.service_n - mean * mean)) / mean


CV_MIN_SERVICES = 10   # services seen today before today's spread is trusted


SLOT_S = 1800          # the arrival profile's step: half an hour
PROCEDURE_DECAY = 0.9  # what a day's services of a procedure still count the next day
RATIO_MIN_S = 60       # a stream estimate under this is too short to divide a printed wait by
RATIO_ALPHA = 0.3      # weight of the newest ticket in SectorStats.printed_ratio
DAYS_ALPHA = 0.3       # weight of the newest day in what is learned over days


def slot_of(when: datetime) -> str:
    """09:41 local -> "19" (the half hour 09:30-10:00 of the local day)."""
    return str((when.hour * 3600 + when.minute * 60) // SLOT_S)


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

    def ticket_by_number(self, number: str) -> Ticket | None:
        tid = self.by_number.get(number)
        return self.tickets.get(tid) if tid else None

    # the fold ----------------------------------------------------------------

    def apply(self, event: ev.Event) -> None:
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event.data, event)
        self.last_seq = event.seq
        self.last_event_ts = event.ts

    # snapshots ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_seq": self.last_seq, "day": self.day,
            # Not asdict(): it deep-copies every field, and a busy day's tickets made each
            # snapshot stall the command loop for ~0.3 s. Every Ticket field is a scalar
            # except transferred_from, copied here.
            "tickets": {k: {**vars(v), "transferred_from": list(v.transferred_from)} for k, v in self.tickets.items()},
            "waiting": {k: list(v) for k, v in self.waiting.items()},
            "counters": {k: asdict(v) for k, v in self.counters.items()},
            "sectors": {k: asdict(v) for k, v in self.sectors.items()},
            "recent_calls": list(self.recent_calls),
            "guided_online_today": self.guided_online_today, "auto_mode": self.auto_mode,
            "last_event_ts": self.last_event_ts, "last_order": self.last_order,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: SiteConfig) -> "SiteState":
        state = cls.initial(config)
        state.last_seq = data["last_seq"]
        state.day = data["day"]
        state.tickets = {k: Ticket(**v) for k, v in data["tickets"].items()}
        for k, v in data["waiting"].items():
            state.waiting[k] = dict.fromkeys(v)
        for k, v in data["counters"].items():
            state.counters[k] = CounterRuntime(**v)
        for k, v in data["sectors"].items():
            state.sectors[k] = SectorStats(**v)
        state.recent_calls.extend(data["recent_calls"])
        state.guided_online_today = data["guided_online_today"]
        state.auto_mode = data["auto_mode"]
        state.last_event_ts = data.get("last_event_ts")
        state.last_order = data.get("last_order", 0.0)
        state.by_token = {t.token: t.id for t in state.tickets.values()}
        state.by_number = {t.number: t.id for t in state.tickets.values()}
        return state


# event handlers --------------------------------------------------------------

EWMA_ALPHA = 0.2


def _blend(old: float | None, new: float, weight: float) -> float:
    """An exponentially weighted mean: `new` weighs `weight`, what came before the rest."""
    return new if old is None else weight * new + (1 - weight) * old


def _learn_day(s: SiteState) -> None:
    """Fold the day that ends into what is learned over days (a day nobody came is skipped)."""
    if s.day is None or not any(st.issued_today for st in s.sectors.values()):
        return
    for st in s.sectors.values():
        first = st.profile_days == 0
        for k in set(st.arrival_profile) | set(st.arrivals_today):
            today = float(st.arrivals_today.get(k, 0))
            st.arrival_profile[k] = _blend(None if first else st.arrival_profile.get(k, 0.0), today, DAYS_ALPHA)
        st.profile_days += 1
        if st.issued_today:
            share = st.priority_today / st.issued_today
            st.priority_share_days = _blend(st.priority_share_days, share, DAYS_ALPHA)
        if st.service_n >= 5:
            mean = st.service_s_sum / st.service_n
            st.service_mean_days = _blend(st.service_mean_days, mean, DAYS_ALPHA)
        if st.service_n >= CV_MIN_SERVICES:
            cv = st.service_cv_today() or 0.0
            st.service_cv_days = _blend(st.service_cv_days, cv, DAYS_ALPHA)
        for row in st.procedure_service.values():
            row[0] *= PROCEDURE_DECAY
            row[1] *= PROCEDURE_DECAY


def _day_started(s: SiteState, d: dict, e: ev.Event) -> None:
    _learn_day(s)
    s.day = d["day"]
    s.tickets.clear()
    s.by_token.clear()
    s.by_number.clear()
    for q in s.waiting.values():
        q.clear()
    for st in s.sectors.values():
        st.issued_today = st.served_today = st.no_show_today = st.last_number = st.priority_today = 0
        st.service_s_sum, st.service_n, st.service_s_sq_sum = 0.0, 0, 0.0
        st.arrivals_today = {}
        st.printed_ratio = st.printed_ratio_at = None
    for c in s.counters.values():
        c.serving = None
        c.last_served = None
        c.served_today = 0
        c.busy_s_today = 0.0
    s.recent_calls.clear()
    s.guided_online_today = 0


def _issued(s: SiteState, d: dict, e: ev.Event) -> None:
    t = Ticket(**d["ticket"])
    # Never share a mutable with the event: the same event is folded again into the
    # snapshotter's copy of the state (queue_server/snapshotter.py).
    t.transferred_from = list(t.transferred_from)
    s.tickets[t.id] = t
    s.waiting.setdefault(t.sector, {})[t.id] = None
    s.by_token[t.token] = t.id
    s.by_number[t.number] = t.id
    st = s.sectors[t.sector]
    st.issued_today += 1
    st.last_number = max(st.last_number, d["seq_in_sector"])
    when = datetime.fromisoformat(t.issued_at)
    slot = slot_of(when.astimezone(s.tz) if s.tz is not None else when)
    st.arrivals_today[slot] = st.arrivals_today.get(slot, 0) + 1
    if t.priority != "normal":
        st.priority_today += 1
    if t.est_stream_s is not None and t.est_stream_s >= RATIO_MIN_S:
        ratio = t.est_wait_s / t.est_stream_s
        st.printed_ratio = _blend(st.printed_ratio, ratio, RATIO_ALPHA)
        st.printed_ratio_at = when.timestamp()
    s.last_order = max(s.last_order, t.order)


def _called(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets[d["ticket_id"]]
    s.waiting.get(t.sector, {}).pop(t.id, None)
    t.status = "called"
    t.counter = d["counter"]
    t.called_at = e.ts
    t.called_epoch = d["at_epoch"]
    t.recalls = 0       # counts the recalls of this call: the tracking page says "called again" only then
    s.counters[d["counter"]].serving = t.id
    _note_call(s, t, d["counter"], e.ts)


def _recalled(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets[d["ticket_id"]]
    t.recalls += 1
    _note_call(s, t, d["counter"], e.ts)


def _note_call(s: SiteState, t: Ticket, counter: str, ts: str) -> None:
    """The recent calls hold one line per ticket: a recall (or a call at another counter after a
    transfer) moves the ticket's line to the top instead of adding a second one that would push an
    older call off the board. Numbers are unique within the day, and the list is cleared each day."""
    for old in [r for r in s.recent_calls if r["number"] == t.number]:
        s.recent_calls.remove(old)
    s.recent_calls.appendleft({"number": t.number, "counter": counter, "sector": t.sector, "at": ts})


def _finish(s: SiteState, d: dict, e: ev.Event, status: str) -> Ticket:
    t = s.tickets[d["ticket_id"]]
    c = s.counters[d["counter"]]
    if c.serving == t.id:
        c.serving = None
    t.status = status
    t.finished_at = e.ts
    return t


def _served(s: SiteState, d: dict, e: ev.Event) -> None:
    t = _finish(s, d, e, "served")
    t.outcome = d.get("outcome", "completed")
    t.served_by = d["counter"]
    c = s.counters[d["counter"]]
    c.last_served = t.id
    c.served_today += 1
    service_s = float(d.get("service_s", 0.0))
    c.busy_s_today += service_s
    st = s.sectors[t.sector]
    st.served_today += 1
    st.service_s_sum += service_s
    st.service_s_sq_sum += service_s * service_s
    st.service_n += 1
    if t.procedure:
        row = st.procedure_service.setdefault(t.procedure, [0.0, 0.0])
        row[0] += 1.0
        row[1] += service_s
    st.service_s_ewma = _blend(st.service_s_ewma, service_s, EWMA_ALPHA)


def _no_show(s: SiteState, d: dict, e: ev.Event) -> None:
    t = _finish(s, d, e, "no_show")
    s.sectors[t.sector].no_show_today += 1


def _transferred(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets[d["ticket_id"]]
    c = s.counters[d["counter"]]
    if c.serving == t.id:
        c.serving = None
    t.transferred_from.append(t.sector)
    t.sector = d["to_sector"]
    t.est_stream_s = None       # what was learned at issue was about the other sector's queue
    t.status = "waiting"
    t.counter = None
    t.called_at = None
    t.called_epoch = None
    s.waiting.setdefault(t.sector, {})[t.id] = None


def _cancelled(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets[d["ticket_id"]]
    s.waiting.get(t.sector, {}).pop(t.id, None)
    t.status = "cancelled"
    t.finished_at = e.ts


def _counter_status(s: SiteState, d: dict, e: ev.Event) -> None:
    s.counters[d["counter"]].status = d["status"]


def _counter_sectors(s: SiteState, d: dict, e: ev.Event) -> None:
    c = s.counters[d["counter"]]
    c.sectors = list(d["sectors"])
    c.sectors_override = bool(d.get("override"))


def _rating(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets.get(d["ticket_id"])
    if t is not None:
        t.rating = d["score"]


def _guidance(s: SiteState, d: dict, e: ev.Event) -> None:
    s.guided_online_today += 1


def _auto(s: SiteState, d: dict, e: ev.Event) -> None:
    s.auto_mode = bool(d["on"])


_HANDLERS = {
    ev.DAY_STARTED: _day_started, ev.TICKET_ISSUED: _issued, ev.TICKET_CALLED: _called,
    ev.TICKET_RECALLED: _recalled, ev.TICKET_SERVED: _served, ev.TICKET_NO_SHOW: _no_show,
    ev.TICKET_TRANSFERRED: _transferred, ev.TICKET_CANCELLED: _cancelled,
    ev.COUNTER_STATUS: _counter_status, ev.COUNTER_SECTORS: _counter_sectors,
    ev.RATING_SUBMITTED: _rating, ev.GUIDANCE_GIVEN: _guidance, ev.AUTO_MODE: _auto,
}
