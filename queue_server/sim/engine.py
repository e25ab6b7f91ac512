"""A discrete-event simulation of days at a site, driving the REAL domain.

Citizens arrive (piecewise-constant Poisson per sector), take a ticket at the
kiosk (`TicketIssue` through the domain's pipeline, `core.execute`, as live),
and counters call them (`CallNext`), serve them (`ServeDone`) or give up on
them (`ServeNoShow`), all on a simulated clock passed in through `Context`.
The calling policy is whatever `QueueCore` holds: the same objects as live.

Common random numbers: each citizen (arrival time, procedure, priority,
service time, no-show, whether they would accept online filing) is drawn from
streams keyed by (seed, day, sector) before any policy acts, so every policy
meets exactly the same citizens on the same seed.

Appointments (scenario `appointments`, issue #16, docs/appointments.md "The simulator"): at each
day's midnight, before the centre opens, the citizens whose booking day it is (their visit's day
less their lead time, `lead_days`) do `booking.create` through the domain for the slot of the
time they would have come (full: the next free slot the refusal names, if it is the same day or,
with `later_days`, one of the next few days; else they come as walk-ins on their own day). Those
who come check in at the kiosk (`booking.check_in`) on their booking's day at its slot's start
plus their punctuality; the policy calls them.

Days that carry over (scenario `carry_over: true`, docs/appointments.md "The simulator"): the
counters call nobody after the day's closing (each finishes the citizen in front of them); whoever
still waits goes home and comes back at the next day's opening with a new ticket, as a walk-in.
Province scenarios (two or more centres, bookings confined or going to another centre) are in
`queue_server/sim/province.py`, on this class's day in two halves (`begin_day`, `play_day`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import BookingCheckIn, CallNext, GuidanceOnline, ServeDone, ServeNoShow, TicketIssue, VisitItem
from queue_server.domain import estimate
from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain import bookings
from queue_server.domain.commands import CreateBooking, SetAutoMode, SetCounterSectors, SetCounterStatus
from queue_server.domain.core import Context, Outcome, QueueCore, execute, fold_in
from queue_server.domain.events import Event
from queue_server.domain.policy import make_policy
from queue_server.domain.state import SiteState
from queue_server.sim.scenario import Scenario, ServiceTime, clock_s

SIM_POLICIES = ("static", "dynamic", "auto", "pooled")
# Also simulated, for reference (not in --compare): the textbook rule over the counters' sectors.
EXTRA_POLICIES = ("oldest-first",)
NO_SHOW_GRACE_S = 60.0               # how long a counter waits for a called citizen who left
BALANCE_EVERY_S = 30.0               # how often the auto balancer looks (the live server: every few seconds)
CHART_BIN_S = 1800

# Event kinds on the heap; the number also breaks ties at the same instant
# (a counter finishing before a citizen arriving at the same second).
_CHANGE, _END, _ARRIVAL, _BALANCE, _CHECK_IN, _RELEASE, _CLOSE = 0, 1, 2, 3, 4, 5, 6


@dataclass
class Citizen:
    at: float               # seconds of day
    sector: str
    procedure: str | None
    priority: str
    service_s: float
    no_show: bool
    accept_online: float    # uniform draw, compared to online_diversion.accept
    # A visit's other procedures (scenario `visits`): (sector, procedure, service seconds) each.
    extra: tuple[tuple[str, str | None, float], ...] = ()
    extra_days: int = 0     # days this citizen already came and went home unserved (carry_over)


@dataclass
class VisitRecord:
    """One citizen, for the visit figures (docs/visits.md): when they came, for how many
    procedures, their first wait, when their last service ended (None: they left), and the end
    of the visit printed on their ticket (seconds after arrival; a visit's ticket only)."""
    arrived_s: float
    procedures: int
    first_wait_s: float | None = None
    end_s: float | None = None
    est_end_s: float | None = None


@dataclass
class Record:
    """One called ticket, for the figures."""
    sector: str
    issued_s: float         # seconds of day
    wait_s: float
    est_wait_s: float
    target_s: float
    booked: bool = False    # a booking's ticket (issued at its check-in)
    extra_days: int = 0     # the citizen came this many days before, unserved (carry_over)


@dataclass
class CheckIn:
    """A booked citizen who comes: when they check in, their booking, and their service."""
    at: float               # seconds of day
    code: str
    slot_s: float           # the slot's start, seconds of day
    sector: str
    service_s: float
    procedure: str | None = None
    away: bool = False      # booked here by a citizen of another centre (province scenarios)
    lead_days: int = 0      # days from the booking to the slot (lead_days)
    moved_days: int = 0     # days after the citizen's own day (later_days)


@dataclass
class BookedRecord:
    """A booked citizen who checked in (issue #16): the slot's start, the check-in's time and
    outcome (on_time | early | late), and when they were called (None: never)."""
    slot_s: float
    checked_in_s: float
    outcome: str
    called_s: float | None = None
    away: bool = False      # a citizen of another centre (province scenarios)
    sector: str = ""
    lead_days: int = 0      # days from the booking to the slot
    moved_days: int = 0     # days after the citizen's own day (later_days)


@dataclass
class DayResult:
    records: list[Record] = field(default_factory=list)
    tickets: int = 0
    diverted: int = 0
    never_called: int = 0
    per_sector_tickets: dict[str, int] = field(default_factory=dict)
    busy_s: dict[str, float] = field(default_factory=dict)
    available_s: dict[str, float] = field(default_factory=dict)
    waiting_curve: list[tuple[float, int]] = field(default_factory=list)  # (second of day, tickets waiting)
    moves: int = 0
    visits: list[VisitRecord] = field(default_factory=list)
    booked: list[BookedRecord] = field(default_factory=list)
    bookings: int = 0               # bookings made for the day
    booked_no_show: int = 0         # of them, never used
    booking_refused: int = 0        # citizens who wanted to book and found no slot that day
    carried: int = 0                # sent home unserved at closing, back the next day (carry_over)
    booked_later: int = 0           # of `bookings`, made by citizens of an earlier day (later_days)
    booking_lead_days: int = 0      # the days from booking to slot, summed over `bookings`
    booked_past_end: int = 0        # of the day's citizens, bookings moved past the last simulated day


@dataclass
class _Booker:
    """A citizen who will book: their own day, their place in its draw, their lead in days (within
    the site's days_ahead), whether they will use the booking, and their punctuality."""
    day: int
    k: int
    cit: Citizen
    lead: int
    no_show: bool
    late_min: float


# --- drawing citizens -----------------------------------------------------------

def draw_service_s(rng: random.Random, spec: ServiceTime) -> float:
    mean = spec.mean * 60.0
    if spec.dist == "fixed" or spec.cv == 0:
        return mean
    if spec.dist == "exponential":
        return rng.expovariate(1.0 / mean)
    if spec.dist == "gamma":
        k = 1.0 / (spec.cv ** 2)
        return rng.gammavariate(k, mean / k)
    sigma2 = math.log(1.0 + spec.cv ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2))


def draw_citizens(sc: Scenario, seed: int, day: int) -> list[Citizen]:
    """Everyone who comes on `day`, in arrival order; independent of any policy."""
    periods = [(p[0].hour * 3600 + p[0].minute * 60, p[1].hour * 3600 + p[1].minute * 60)
               for p in sc.site.site.periods]
    groups = list(sc.site.priority_groups)
    out: list[Citizen] = []
    for sector, steps in sc.arrivals_on(sc.date_of(day)).items():
        rng = random.Random(f"{seed}:{day}:{sector}")
        procs = sc.site.sector_by_id[sector].procedures
        for i, (start, rate) in enumerate(steps):
            end = steps[i + 1][0] if i + 1 < len(steps) else 24 * 3600
            if rate <= 0:
                continue
            t = float(start)
            while True:
                t += rng.expovariate(rate / 3600.0)
                if t >= end:
                    break
                if not any(a <= t < b for a, b in periods):
                    continue  # outside opening hours: nobody gets a ticket
                proc = rng.choice(procs).id if procs else None
                prio = rng.choice(groups) if groups and rng.random() < sc.priority_share else "normal"
                out.append(Citizen(at=t, sector=sector, procedure=proc, priority=prio,
                                   service_s=draw_service_s(rng, sc.procedure_service.get(proc) or sc.service[sector]),
                                   no_show=rng.random() < sc.no_show, accept_online=rng.random()))
    if sc.visits.two > 0 or sc.visits.three > 0:
        _draw_visits(sc, seed, day, out)
    out.sort(key=lambda c: (c.at, c.sector))
    return out


def _draw_visits(sc: Scenario, seed: int, day: int, citizens: list[Citizen]) -> None:
    """Give the scenario's share of citizens one or two more procedures, in other sectors drawn by
    the day's arrival volumes, from their own streams: the citizens and first procedures drawn
    above are the same with or without visits."""
    steps_by_sector = sc.arrivals_on(sc.date_of(day))
    volume = {}
    for sector, steps in steps_by_sector.items():
        ends = [a for a, _ in steps[1:]] + [24 * 3600]
        volume[sector] = sum(rate * (end - a) for (a, rate), end in zip(steps, ends))
    by_sector: dict[str, list[Citizen]] = {}
    for cit in citizens:
        by_sector.setdefault(cit.sector, []).append(cit)
    for sector, group in by_sector.items():
        rng = random.Random(f"{seed}:{day}:{sector}:visit")
        for k, cit in enumerate(group):
            u = rng.random()
            more = 1 if u < sc.visits.two else 2 if u < sc.visits.two + sc.visits.three else 0
            others = [s for s in volume if s != sector and volume[s] > 0]
            extra = []
            for _ in range(min(more, len(others))):
                pick = rng.choices(others, weights=[volume[s] for s in others])[0]
                others.remove(pick)
                procs = sc.site.sector_by_id[pick].procedures
                proc = rng.choice(procs).id if procs else None
                extra.append((pick, proc, draw_service_s(rng, sc.procedure_service.get(proc) or sc.service[pick])))
            if extra:
                group[k] = Citizen(**{**cit.__dict__, "extra": tuple(extra)})
    citizens[:] = [c for g in by_sector.values() for c in g]


# --- the simulation -------------------------------------------------------------

class Simulation:
    """Simulate `days` days of a scenario under one policy; `run()` -> list of DayResult."""

    def __init__(self, scenario: Scenario, policy: str, seed: int | None = None, days: int | None = None,
                 balancer: AutoBalancer | None = None, sectors: str = "sectors", policy_obj: Any = None,
                 forecast: bool = True, record: list[Event] | None = None, visits: str = "visit"):
        """`sectors="trained"` starts each counter on its whole trained list (a what-if for managers);
        a dict {counter: [sectors]} starts the counters it names on those sectors (a standing layout).
        `forecast=False` prints the stream estimate instead of the forecast (domain/forecast/), as a
        flooded live server does: 5-8 times faster, for runs that look only at the waits.
        `record`: every event of the run is appended to it, numbered as the live server's log
        (a log of known parameters to learn from, queue_server/planning/history.py).
        `visits`: a citizen with several procedures (scenario `visits`) takes one ticket for the
        visit ("visit"), or a new ticket after each service ("per-procedure": how it was before
        visits, the comparison of docs/visits.md)."""
        if visits not in ("visit", "per-procedure"):
            raise ValueError("visits must be 'visit' or 'per-procedure'")
        self.visit_mode = visits
        if policy not in SIM_POLICIES + EXTRA_POLICIES:
            raise ValueError(f"unknown policy {policy!r}; known: {', '.join(SIM_POLICIES + EXTRA_POLICIES)}")
        if not isinstance(sectors, dict) and sectors not in ("sectors", "trained"):
            raise ValueError("sectors must be 'sectors', 'trained' or a {counter: [sectors]} layout")
        self.layout = sectors
        self.sc = scenario
        self.policy_name = policy
        self.seed = scenario.seed if seed is None else seed
        self.days = scenario.days if days is None else days
        self.config = scenario.site
        self.tz = self.config.site.tz
        self.core = QueueCore(self.config, policy=policy_obj or make_policy("dynamic" if policy == "auto" else policy),
                              forecast=forecast)
        self.state: SiteState = self.core.state
        self.balancer = (balancer or AutoBalancer()) if policy == "auto" else None
        self.req = 0
        self.record = record
        self.periods = [(p[0].hour * 3600 + p[0].minute * 60, p[1].hour * 3600 + p[1].minute * 60)
                        for p in self.config.site.periods]
        self.carried: list[Citizen] = []   # sent home at the last closing, back at the next opening
        # Appointments booked days ahead: the citizens drawn for days not yet played, the bookers
        # per booking day, the results and check-ins of days already booked into, and which of a
        # day's citizens hold a booking (they do not come as walk-ins).
        self._drawn: dict[int, list[Citizen]] = {}
        self._to_book: dict[int, list[_Booker]] = {}
        self._next_plan = 0
        self._pending: dict[int, DayResult] = {}
        self._check_ins: dict[int, list[CheckIn]] = {}
        self._holding: dict[int, set[int]] = {}
        self._day_of: dict[date, int] = {}   # date -> simulated day, filled as needed
        self._dates: dict[int, date] = {}    # simulated day -> date, filled as needed

    # plumbing: one command through the real domain -----------------------------

    def _now(self, t: float) -> datetime:
        return self._midnight + timedelta(seconds=t)

    def _do(self, kind: str, cmd: Any, t: float, device: str | None = None) -> Outcome:
        # Events are folded in even with a refusal (a call.next that finds the queue empty
        # still finishes the current ticket), as the service persists and applies them all.
        return execute(self.core, kind, cmd, Context(now=self._now(t), device=device, token=f"sim{self.req}"),
                       device, out=self.record)

    def _req_id(self) -> str:
        self.req += 1
        return f"sim-{self.req}"

    # appointments ----------------------------------------------------------

    def _citizens(self, day: int) -> list[Citizen]:
        """The citizens drawn for `day` (kept until it is played: a booker of a later day books earlier)."""
        if day not in self._drawn:
            self._drawn[day] = draw_citizens(self.sc, self.seed, day)
        return self._drawn[day]

    def _plan(self, day: int, citizens: list[Citizen]) -> None:
        """Who of `day`'s citizens will book, and on which day. Every citizen takes the same three
        draws from the day's own stream, and their lead time one from another, so the same
        citizens book whatever the outcome of another's booking (and the default lead, all on the
        day itself, leaves every figure as it was before lead times)."""
        ap = self.sc.appointments
        assert ap is not None
        rng = random.Random(f"{self.seed}:{day}:appointments")
        lead_rng = random.Random(f"{self.seed}:{day}:lead")
        leads = [(d, share) for d, share in ap.lead_days.items() if share > 0]   # the last one takes the rounding
        ahead = self.config.bookings.days_ahead if self.config.bookings else 0
        for k, cit in enumerate(citizens):
            u, gone, late_min = rng.random(), rng.random(), rng.gauss(ap.punctuality_min.mean, ap.punctuality_min.sd)
            x, lead = lead_rng.random(), leads[-1][0]
            for days, share in leads:
                x -= share
                if x < 0:
                    lead = days
                    break
            # A visit of several procedures, or a citizen without one, comes as a walk-in.
            if u >= ap.share or cit.procedure is None or cit.extra:
                continue
            # Further ahead than the site takes bookings (calendar days; a lead counts simulated
            # days, which skip closed weekdays): they book when their day opens.
            visit = self._date(day)
            while lead and (visit - self._date(max(day - lead, 0))).days > ahead:
                lead -= 1
            self._to_book.setdefault(max(day - lead, 0), []).append(
                _Booker(day=day, k=k, cit=cit, lead=lead, no_show=gone < ap.no_show, late_min=late_min))

    def _date(self, day: int) -> date:
        """`Scenario.date_of`, kept (each booker asks for a few dates)."""
        if day not in self._dates:
            self._dates[day] = self.sc.date_of(day)
        return self._dates[day]

    def _sim_day(self, d: date) -> int | None:
        """The simulated day of date `d` (None: a date the scenario does not play)."""
        i = len(self._day_of)
        while d not in self._day_of and i <= self.days:
            self._day_of[self._date(i)] = i
            i += 1
        return self._day_of.get(d)

    def _book(self, day: int, res: DayResult, citizens: list[Citizen]) -> None:
        """The bookings made at `day`'s midnight: longest lead first, then in the order of the
        times their citizens would have come (on day 0, those whose booking day falls before the
        run first), each through `booking.create`. A booking for a later day waits for that day's
        play as one of its check-ins; a result's booking figures count on the booked day."""
        ap = self.sc.appointments
        assert ap is not None
        last = max(d for d, share in ap.lead_days.items() if share > 0)
        while self._next_plan <= max(day, min(day + last, self.days - 1)):
            v = self._next_plan
            self._plan(v, citizens if v == day else self._citizens(v))
            self._next_plan += 1

        def result(d: int) -> DayResult:
            return res if d == day else self._pending.setdefault(d, DayResult())

        booked_on = self._date(day)
        for b in sorted(self._to_book.pop(day, []), key=lambda b: (b.day - b.lead, -b.lead, b.k)):
            own = self._date(b.day)
            slots = bookings.slots_of_day(self.config, own)
            own_midnight = datetime(own.year, own.month, own.day, tzinfo=self.tz)
            slot = next((sid for sid, _, end in slots if (end - own_midnight).total_seconds() > b.cit.at), None)
            if slot is None:    # their time is past the day's last slot: a later day's first one
                slot = next((ss[0][0] for i in range(1, ap.later_days + 1)
                             if (ss := bookings.slots_of_day(self.config, self._date(b.day + i)))), None)
            last_date = self._date(b.day + ap.later_days).isoformat()
            booking = self._create(b.cit.procedure, slot, f"{self.seed}:{b.day}:{b.k}", last_date) if slot else None
            if booking is None:
                result(b.day).booking_refused += 1
                continue
            self._holding.setdefault(b.day, set()).add(b.k)
            slot_date = datetime.fromisoformat(booking["slot_start"]).date()
            on = self._sim_day(slot_date)
            if on is None or on >= self.days:
                result(b.day).booked_past_end += 1
                continue
            r = result(on)
            r.bookings += 1
            lead = (slot_date - booked_on).days
            r.booking_lead_days += lead
            if on != b.day:
                r.booked_later += 1
            if b.no_show:
                r.booked_no_show += 1
                continue
            ci = self.check_in_of(booking, b.cit, b.late_min)
            ci.lead_days, ci.moved_days = lead, on - b.day
            self._check_ins.setdefault(on, []).append(ci)

    def check_in_of(self, booking: dict, cit: Citizen, late_min: float, away: bool = False) -> CheckIn:
        """The check-in of `cit` who booked `booking` here: at the slot's start plus their
        punctuality, not before the kiosk lets them (early_min before the slot); seconds of the
        slot's own day."""
        slot_start = datetime.fromisoformat(booking["slot_start"])
        d = slot_start.date()
        start = (slot_start - datetime(d.year, d.month, d.day, tzinfo=self.tz)).total_seconds()
        at = max(start + late_min * 60.0, start - self.config.bookings.early_min * 60.0)
        return CheckIn(at=at, code=booking["code"], slot_s=start, sector=booking["sector"], service_s=cit.service_s,
                       procedure=cit.procedure, away=away)

    def _create(self, procedure: str, slot: str, who: str, last_date: str | None = None) -> dict | None:
        """booking.create for `slot`, or the next free slot the refusal names if it is on the same
        day (or on or before `last_date`, YYYY-MM-DD); the booking, or None."""
        id_hash = hashlib.sha256(who.encode()).hexdigest()   # one card per simulated citizen
        last_date = last_date or slot[:10]
        for _ in range(2 + len(self.sc.closed_weekdays)):
            d = self._do("web", CreateBooking(procedure=procedure, slot=slot, id_hash=id_hash, by="web"), 0.0)
            if d.error is None:
                return d.result["booking"]
            nxt = (d.error.detail or {}).get("next_free")
            if d.error.code != ErrorCode.BOOKING_FULL or not nxt or nxt[:10] > last_date:
                return None
            slot = self._open_slot(nxt, last_date)
            if slot is None:
                return None
        return None

    def _open_slot(self, slot: str, last_date: str) -> str | None:
        """`slot`, or where it falls on a weekday the scenario closes (`closed_weekdays`: the site
        config knows nothing of them, so the domain offers it) the first slot of the next open
        day up to `last_date`; None when there is none."""
        day = date.fromisoformat(slot[:10])
        if day.weekday() not in self.sc.closed_weekdays:
            return slot
        while day.isoformat() < last_date:
            day += timedelta(days=1)
            if day.weekday() not in self.sc.closed_weekdays:
                first = bookings.slots_of_day(self.config, day)
                return first[0][0] if first else None
        return None

    # one day ---------------------------------------------------------------

    def run(self) -> list[DayResult]:
        return [self.run_day(d) for d in range(self.days)]

    def begin_day(self, day: int) -> tuple[DayResult, list[Citizen]]:
        """The first half of a day: its date, an empty result and the citizens drawn for it."""
        the_day = self.sc.date_of(day)
        self._midnight = datetime(the_day.year, the_day.month, the_day.day, tzinfo=self.tz)
        citizens = self._drawn.pop(day, None)
        return self._pending.pop(day, None) or DayResult(), (
            draw_citizens(self.sc, self.seed, day) if citizens is None else citizens)

    def run_day(self, day: int) -> DayResult:
        res, citizens = self.begin_day(day)
        if self.sc.appointments is None:
            return self.play_day(res, citizens, None)
        self._book(day, res, citizens)
        holding = self._holding.pop(day, set())
        walk_ins = [c for k, c in enumerate(citizens) if k not in holding]
        return self.play_day(res, walk_ins, self._check_ins.pop(day, []))

    def play_day(self, res: DayResult, citizens: list[Citizen], check_ins: list[CheckIn] | None) -> DayResult:
        """The second half of a day (after `begin_day`): the walk-ins `citizens` come, the booked
        `check_ins` check in (None: the scenario has no appointments), counters call and serve."""
        cfg, st = self.config, self.state
        opening = self.periods[0][0]
        closing = self.periods[-1][1]
        day_start = float(opening)
        if check_ins is not None:
            # Booked at midnight; the day then starts at midnight too, so that its events stay
            # in time order with check-ins before the opening (early_min before the first slot).
            day_start = 0.0
        else:
            check_ins = []
        # Those sent home yesterday come back at the opening (they queue before the doors open),
        # in the order they first came; drawn anew by nothing, so today's citizens are unchanged.
        back, self.carried = self.carried, []
        citizens = [dataclasses.replace(c, at=float(opening)) for c in back] + citizens
        fold_in(st, self.core.rollover(self._now(day_start)), out=self.record)
        # Every day starts from the site's own layout; yesterday's moves are undone.
        for c in cfg.counters:
            if isinstance(self.layout, dict):
                layout = list(self.layout.get(c.id, c.sectors))
            else:
                layout = list(c.trained if self.layout == "trained" else c.sectors)
            if list(st.counters[c.id].sectors) != layout:
                self._do("manager", SetCounterSectors(c.id, tuple(layout), by="sim", reason="start of day"), opening)
            if st.counters[c.id].status != c.initial_status:
                self._do("manager", SetCounterStatus(c.id, c.initial_status, by="sim"), opening)
        if self.balancer is not None:
            self._do("manager", SetAutoMode(True, by="sim"), opening)
            self.balancer.reset()

        heap: list[tuple[float, int, int, Any]] = []
        n = 0
        for cit in citizens:
            heap.append((cit.at, _ARRIVAL, n, cit))
            n += 1
        for ci in check_ins:
            heap.append((ci.at, _CHECK_IN, n, ci))
            n += 1
        for ch in self.sc.counter_changes:
            heap.append((float(clock_s(ch.at)), _CHANGE, n, ch))
            n += 1
        if self.balancer is not None:
            heap.append((float(opening), _BALANCE, n, None))
            n += 1
        if self.sc.carry_over:
            heap.append((float(closing), _CLOSE, n, None))
            n += 1
        heapq.heapify(heap)
        closed = False      # carry_over: past the closing, nobody more is called

        busy: dict[str, tuple[float, float, bool]] = {}   # counter -> (started at, ends at, no-show)
        idle_since = {c.id: float(opening) for c in cfg.counters}
        pending_status: dict[str, str] = {}
        issued: dict[str, tuple[float, int, str]] = {}  # ticket id -> (issued at, est wait, sector)
        busy_s = {c.id: 0.0 for c in cfg.counters}
        last_finish = {c.id: [0.0] * len(self.periods) for c in cfg.counters}
        closed_since: dict[str, float] = {}
        closed_s = {c.id: 0.0 for c in cfg.counters}
        last_arrival = max((c.at for _, k, _, c in heap if k in (_ARRIVAL, _CHECK_IN)), default=float(opening))
        waiting_total = 0
        curve = res.waiting_curve

        def period_of(t: float) -> int:
            idx = 0
            for i, (a, _) in enumerate(self.periods):
                if t >= a:
                    idx = i
            return idx

        def start(counter: str, t: float) -> bool:
            nonlocal waiting_total
            if closed:
                return False
            d = self._do("counter", CallNext(v=1, req_id=self._req_id(), type="call.next"), t, counter)
            if d.error is not None:
                if d.error.code != ErrorCode.QUEUE_EMPTY:
                    raise RuntimeError(f"call.next refused at {counter}: {d.error.en}")
                return False
            waiting_total -= 1
            curve.append((t, waiting_total))
            begin(counter, d.result["ticket"], t)
            return True

        def begin(counter: str, tk: dict, t: float) -> None:
            """The citizen of ticket `tk` (a reply's) is at `counter` from `t`."""
            nonlocal n
            tid = tk["id"]
            t_issued, est, sector = issued[tid]
            cit_service, cit_noshow = self._service[tid]
            if tid in pending:      # a visit: this procedure's own service time
                items = pending[tid]
                i = next((k for k, it in enumerate(items) if it[:2] == (tk["sector"], tk["procedure"])), 0)
                cit_service = items.pop(i)[2]
                self._service[tid] = (cit_service, False)   # a citizen who stayed for one stays
            vr = visit_of.get(tid)
            if vr is not None and vr.first_wait_s is None:
                vr.first_wait_s = t - vr.arrived_s
            if tid not in called:   # a visit's later procedures are not new tickets
                called.add(tid)
                br = booked_of.get(tid)
                if br is not None:
                    br.called_s = t
                res.records.append(Record(sector=sector, issued_s=t_issued, wait_s=t - t_issued, est_wait_s=est,
                                          target_s=cfg.sector_by_id[sector].target_wait_min * 60.0,
                                          booked=br is not None,
                                          extra_days=citizen_of[tid].extra_days if tid in citizen_of else 0))
            dur = NO_SHOW_GRACE_S if cit_noshow else cit_service
            busy[counter] = (t, t + dur, cit_noshow)
            busy_s[counter] += dur
            heapq.heappush(heap, (t + dur, _END, n, counter))
            n += 1
            serving[counter] = tid

        def take_ticket(cit_at: float, items: list, priority: str, t: float, no_show: bool) -> dict:
            """ticket.issue for `items` ((sector, procedure, service s) each) at `t`; the ticket."""
            nonlocal waiting_total
            if len(items) > 1:
                cmd = TicketIssue(v=1, req_id=self._req_id(), type="ticket.issue", priority=priority,
                                  procedures=[VisitItem(sector=s_, procedure=p_) for s_, p_, _ in items])
            else:
                cmd = TicketIssue(v=1, req_id=self._req_id(), type="ticket.issue", sector=items[0][0],
                                  procedure=items[0][1], priority=priority)
            d = self._do("kiosk", cmd, t, "sim-kiosk")
            if d.error is not None:
                raise RuntimeError(f"ticket.issue refused: {d.error.en}")
            tk = d.result["ticket"]
            issued[tk["id"]] = (t, tk["printed_wait_s"], tk["sector"])
            self._service[tk["id"]] = (items[0][2], no_show)
            if len(items) > 1:
                pending[tk["id"]] = list(items)
            res.tickets += 1
            res.per_sector_tickets[tk["sector"]] = res.per_sector_tickets.get(tk["sector"], 0) + 1
            waiting_total += 1
            curve.append((t, waiting_total))
            return tk

        def dispatch(t: float) -> None:
            free = [c for c, rt in st.counters.items() if rt.status == "open" and c not in busy]
            free.sort(key=lambda c: idle_since[c])
            for c in free:
                if waiting_total <= 0:
                    break
                start(c, t)

        def set_status(counter: str, status: str, t: float) -> None:
            self._do("manager", SetCounterStatus(counter, status, by="sim"), t)
            if status == "open":
                if counter in closed_since:
                    closed_s[counter] += t - closed_since.pop(counter)
                idle_since[counter] = t
            else:
                closed_since.setdefault(counter, t)

        self._service: dict[str, tuple[float, bool]] = {}
        pending: dict[str, list] = {}            # a visit's ticket -> its procedures not yet served
        later: dict[str, list] = {}              # per-procedure: a ticket -> the citizen's next procedures
        visit_of: dict[str, VisitRecord] = {}    # ticket -> its citizen's record
        called: set[str] = set()
        serving: dict[str, str] = {}             # counter -> ticket id
        booked_of: dict[str, BookedRecord] = {}  # a booking's ticket -> its record
        citizen_of: dict[str, Citizen] = {}      # ticket -> its citizen (to come back with carry_over)
        diversion = self.sc.online_diversion
        while heap:
            t, kind, _, item = heapq.heappop(heap)
            if kind == _ARRIVAL:
                cit: Citizen = item
                proc = cfg.sector_by_id[cit.sector].procedures_by_id.get(cit.procedure) if cit.procedure else None
                if diversion is not None and proc is not None and proc.online == "full":
                    shown = estimate.shown_wait(st, cfg, cit.sector)
                    if shown > diversion.when_wait_over_min * 60.0 and cit.accept_online < diversion.accept:
                        self._do("kiosk", GuidanceOnline(v=1, req_id=self._req_id(), type="guidance.online",
                                                         procedure=proc.id), t, "sim-kiosk")
                        res.diverted += 1
                        continue
                items = [(cit.sector, cit.procedure, cit.service_s), *cit.extra]
                vr = VisitRecord(arrived_s=t, procedures=len(items))
                res.visits.append(vr)
                if self.visit_mode == "per-procedure" and len(items) > 1:
                    tk = take_ticket(t, items[:1], cit.priority, t, cit.no_show)
                    later[tk["id"]] = items[1:]
                else:
                    tk = take_ticket(t, items, cit.priority, t, cit.no_show)
                    if "visit" in tk:
                        vr.est_end_s = tk["visit"]["end_s"]
                visit_of[tk["id"]] = vr
                citizen_of[tk["id"]] = cit
                dispatch(t)
            elif kind == _END:
                counter = item
                started, _ends, noshow = busy.pop(counter)
                tid = serving.pop(counter)
                if noshow:
                    self._do("counter", ServeNoShow(v=1, req_id=self._req_id(), type="serve.no_show"), t, counter)
                else:
                    # A clerk keeps a visit's citizen when the counter serves their next sector
                    # (unless the counter is about to close or pause).
                    d = self._do("counter", ServeDone(v=1, req_id=self._req_id(), type="serve.done",
                                                      continue_here=counter not in pending_status), t, counter)
                    tk = d.result["ticket"]
                    if tk["status"] == "called":        # continue here
                        begin(counter, tk, t)
                    elif tk["status"] == "waiting":     # into the next procedure's queue
                        waiting_total += 1
                        curve.append((t, waiting_total))
                    elif later.get(tid):                # per-procedure: the citizen takes a new ticket
                        rest = later.pop(tid)
                        new = take_ticket(t, rest[:1], tk["priority"], t, False)
                        later[new["id"]] = rest[1:]
                        visit_of[new["id"]] = visit_of[tid]
                    elif tid in visit_of:
                        visit_of[tid].end_s = t
                p = period_of(started)  # overtime belongs to the period the service began in
                last_finish[counter][p] = max(last_finish[counter][p], t)
                idle_since[counter] = t
                if counter in pending_status:
                    set_status(counter, pending_status.pop(counter), t)
                if st.counters[counter].status == "open" and waiting_total > 0 and counter not in busy:
                    start(counter, t)
                if waiting_total > 0:
                    dispatch(t)   # a waiting ticket another free counter may take (e.g. after a move)
            elif kind == _CHANGE:
                ch = item
                if ch.counter in busy and ch.status != "open":
                    pending_status[ch.counter] = ch.status
                else:
                    pending_status.pop(ch.counter, None)
                    set_status(ch.counter, ch.status, t)
                    if ch.status == "open":
                        dispatch(t)
            elif kind == _CHECK_IN:
                ci: CheckIn = item
                d = self._do("kiosk", BookingCheckIn(v=1, req_id=self._req_id(), type="booking.check_in",
                                                     code=ci.code), t, "sim-kiosk")
                if d.error is not None:
                    raise RuntimeError(f"booking.check_in refused: {d.error.en}")
                tk, outcome = d.result["ticket"], d.result["check_in"]["outcome"]
                issued[tk["id"]] = (t, tk["printed_wait_s"], tk["sector"])
                # A booked citizen's no-show is the appointments' own rate (they never come).
                self._service[tk["id"]] = (ci.service_s, False)
                booked_of[tk["id"]] = BookedRecord(slot_s=ci.slot_s, checked_in_s=t, outcome=outcome, away=ci.away,
                                               sector=ci.sector, lead_days=ci.lead_days, moved_days=ci.moved_days)
                # Sent home unserved, a booked citizen comes back as a walk-in (priority: none).
                citizen_of[tk["id"]] = Citizen(at=t, sector=ci.sector, procedure=ci.procedure, priority="normal",
                                               service_s=ci.service_s, no_show=False, accept_online=1.0)
                res.booked.append(booked_of[tk["id"]])
                res.tickets += 1
                res.per_sector_tickets[tk["sector"]] = res.per_sector_tickets.get(tk["sector"], 0) + 1
                waiting_total += 1      # in the hall, held until the slot or in the queue
                curve.append((t, waiting_total))
                if outcome == "early":  # held: joins the queue at the slot's start
                    heapq.heappush(heap, (ci.slot_s, _RELEASE, n, None))
                    n += 1
                dispatch(t)
            elif kind == _RELEASE:
                fold_in(st, self.core.rollover(self._now(t)), out=self.record)
                dispatch(t)
            elif kind == _BALANCE:
                moves = self.balancer.propose(st, cfg, self._midnight.timestamp() + t)
                for mv in moves:
                    d = self._do("manager", mv, t)
                    if d.error is None:
                        res.moves += 1
                if moves and waiting_total > 0:
                    dispatch(t)
                if t < last_arrival or (waiting_total > 0 and not closed) or busy:
                    heapq.heappush(heap, (t + BALANCE_EVERY_S, _BALANCE, n, None))
                    n += 1
            elif kind == _CLOSE:
                closed = True
                # Whoever still waits for a first call goes home and comes back tomorrow (a visit
                # part served, or a booked citizen still held, stays counted as never called).
                gone = [tid for tid in issued if tid not in called and tid in citizen_of
                        and st.tickets[tid].status == "waiting" and not st.tickets[tid].held]
                for tid in gone:
                    cit = citizen_of[tid]
                    self.carried.append(dataclasses.replace(cit, extra_days=cit.extra_days + 1))
                res.carried = len(gone)
                waiting_total -= len(gone)
                curve.append((t, waiting_total))

        res.never_called = waiting_total
        res.busy_s = busy_s
        for c in cfg.counters:
            avail = 0.0
            for i, (a, b) in enumerate(self.periods):
                avail += max(b, last_finish[c.id][i]) - a
            if c.id in closed_since:
                # Closed until the end of the day: count from then to the last closing time.
                closed_s[c.id] += max(0.0, self.periods[-1][1] - closed_since[c.id])
            res.available_s[c.id] = max(avail - closed_s[c.id], 0.0)
        return res
