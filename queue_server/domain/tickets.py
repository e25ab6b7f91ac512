"""What the state of a site is made of: today's tickets, each counter's runtime, and each
sector's figures (today's and those learned over days)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

RECENT_CALLS = 10
PRIORITY_RANK = {"normal": 1}  # every priority group ranks 0: served first
# A checked-in booking whose slot has come (it is in its sector's queue only from then): after
# priority citizens, before walk-ins (docs/appointments.md, "Calling").
BOOKED_RANK = 0.5


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
    # A visit (more than one procedure, docs/visits.md): every procedure in the order served, each
    # {"sector", "procedure", "status": waiting|current|done|no_show|dropped}, and the index of
    # the current one (`sector`/`procedure` above are its). Empty for a single-procedure ticket.
    visit: list[dict] = field(default_factory=list)
    step: int = 0
    # When the ticket joined its current queue (epoch s): its wait for a later procedure of a
    # visit counts from there (None: from `order`, as every single-procedure ticket).
    queued_epoch: float | None = None
    visit_end_s: int | None = None  # the printed estimate of the end of the visit, seconds after issue
    # Issue #16 (queue_server/domain/bookings.py): the booking code of a booking's or a remote
    # ticket's ticket, and which: "slot" (called before walk-ins once due), "remote" (a phone's:
    # keeps its place) or "late" (a booking later than the grace: a walk-in's ticket). `held`: not
    # in its sector's queue yet (an early check-in until `due_epoch`, a remote ticket until its
    # check-in, by `arrive_by_epoch`). A walk-in's ticket has none of these.
    booking: str | None = None
    booking_kind: str | None = None
    held: bool = False
    due_epoch: float | None = None
    arrive_by_epoch: float | None = None

    @property
    def printed_wait_s(self) -> int:
        return self.est_wait_s

    @property
    def is_priority(self) -> bool:
        return self.priority != "normal"

    @property
    def rank(self) -> float:
        rank = PRIORITY_RANK.get(self.priority, 0)
        if rank and self.booking_kind == "slot":
            return BOOKED_RANK
        return rank

    @property
    def transferred(self) -> bool:
        return bool(self.transferred_from)

    @property
    def steps(self) -> int:
        """How many procedures the visit has (dropped ones not counted); 1 for a single ticket."""
        return sum(1 for p in self.visit if p["status"] != "dropped") or 1

    @property
    def step_number(self) -> int:
        """The current procedure's place among the visit's (1-based, dropped ones not counted)."""
        return sum(1 for p in self.visit[:self.step] if p["status"] != "dropped") + 1

    def next_step(self) -> int | None:
        """Index of the visit's next procedure still to serve, or None."""
        for i in range(self.step + 1, len(self.visit)):
            if self.visit[i]["status"] == "waiting":
                return i
        return None


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
    break_reason: str | None = None   # while paused: one of protocol.messages.BREAK_REASONS

    @property
    def on_duty(self) -> bool:
        """Whether the counter calls citizens: a counter on a break (paused) counts as closed in
        the estimates, the forecast and auto mode until it opens again (docs/visits.md)."""
        return self.status == "open"


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
    # What the forecast of the printed wait learns (forecast/), folded from the events like
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
    # Procedures of this sector taken today (a ticket or a visit's procedure; a dropped one given
    # back), and per procedure: what the daily caps (site config daily_cap) count.
    taken_today: int = 0
    procedures_taken_today: dict[str, int] = field(default_factory=dict)

    def service_cv_today(self) -> float | None:
        """Today's spread of service times (standard deviation / mean); None before any service,
        or when every one took 0 s."""
        if self.service_n <= 0:
            return None
        mean = self.service_s_sum / self.service_n
        if mean <= 0:
            return None
        return math.sqrt(max(0.0, self.service_s_sq_sum / self.service_n - mean * mean)) / mean

