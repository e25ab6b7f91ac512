"""Bookings and remote tickets (issue #16, docs/appointments.md): slots, their capacity, the free
slots, and the rules of booking.create/cancel/move, ticket.remote, slot.close and the kiosk's
booking.check_in. Pure like the rest of the domain: the time and the randomness of a new code
come in through `Context`.

A booking is a `Booking` in `SiteState.bookings` (code -> Booking), kept across days (they are
made days ahead) and folded from its events (fold.py). A checked-in booking, and a remote ticket,
is a `Ticket` with `booking`/`booking_kind`: a ticket that is *held* (not in its sector's queue:
an early check-in until its slot starts, a remote ticket until its citizen checks in) is in
`SiteState.held`; `due_events` releases or lapses it when its time comes (core.rollover runs it
before every command and on the service's tick).
"""
from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from protocol import booking_code, booking_texts, ticket_number
from protocol.errors import ErrorCode
from protocol.messages import BookingView, CheckInResult, FreeSlot, ReplyResult, TicketResult
from queue_server.domain import estimate
from queue_server.domain import events as ev
from queue_server.domain.errors import DomainError
from queue_server.domain.learning import slot_of
from queue_server.domain.site import Counter, SiteConfig
from queue_server.domain.tickets import BOOKED_RANK, Ticket

if TYPE_CHECKING:
    from queue_server.domain.core import Context, Decision, QueueCore
    from queue_server.domain.state import SiteState

WEEK_S = 7 * 24 * 3600
ACTIVE = ("booked",)                  # a booking still to come: counts for the per-procedure limit
HOLDS_ROOM = ("booked", "checked_in", "late", "no_show")   # a booking that took its slot's room


@dataclass
class Booking:
    code: str
    kind: str                      # slot | remote
    sector: str
    procedure: str | None
    day: str                       # YYYY-MM-DD, local
    id_hash: str
    created_epoch: float
    slot: str | None = None        # local "YYYY-MM-DDTHH:MM" (kind slot)
    slot_epoch: float | None = None
    slot_s: int | None = None
    service_s: float = 0.0         # the procedure's mean service when booked: what it takes of the slot
    lang: str = "vi"
    by: str = "web"
    phone: str | None = None       # for reminders only (docs/appointments.md, "What is kept")
    status: str = "booked"         # booked | checked_in | late | cancelled | no_show | lapsed
    ticket_id: str | None = None
    arrive_by_epoch: float | None = None   # kind remote
    checked_in_epoch: float | None = None
    outcome: str | None = None     # the check-in's: on_time | early | late | remote
    cancel_reason: str | None = None
    offer: str | None = None


# --- slots -------------------------------------------------------------------------------------

def slot_id(local: datetime) -> str:
    return local.strftime("%Y-%m-%dT%H:%M")


def slots_of_day(config: SiteConfig, day: date) -> list[tuple[str, datetime, datetime]]:
    """The day's slots (id, aware start, aware end): each opening period cut into slot_min pieces
    from its start (a piece shorter than a slot at a period's end is not offered)."""
    cfg = config.bookings
    if cfg is None:
        return []
    step = timedelta(minutes=cfg.slot_min)
    out = []
    for a, b in config.site.periods:
        start = datetime.combine(day, a, tzinfo=config.site.tz)
        end = datetime.combine(day, b, tzinfo=config.site.tz)
        while start + step <= end:
            out.append((slot_id(start), start, start + step))
            start += step
    return out


def parse_slot(config: SiteConfig, slot: str) -> tuple[datetime, datetime]:
    """A slot id -> (aware start, end), or bad_request when it is not one of its day's slots."""
    try:
        local = datetime.strptime(slot, "%Y-%m-%dT%H:%M")
    except (TypeError, ValueError):
        raise DomainError(ErrorCode.BAD_REQUEST, "A slot is written YYYY-MM-DDTHH:MM") from None
    for sid, start, end in slots_of_day(config, local.date()):
        if sid == slot:
            return start, end
    raise DomainError(ErrorCode.BAD_REQUEST, "This is not a slot of the centre's opening hours")


def when_text(config: SiteConfig, epoch: float) -> str:
    """"08:30 03/12/2026": a time as the citizen reads it in the texts (both languages)."""
    return datetime.fromtimestamp(epoch, config.site.tz).strftime("%H:%M %d/%m/%Y")


def day_text(day: str) -> str:
    return date.fromisoformat(day).strftime("%d/%m/%Y")


# --- capacity ------------------------------------------------------------------------------------

def planned_s(config: SiteConfig, counter: Counter, start: datetime, end: datetime) -> float:
    """Seconds of [start, end) in which the roster as planned staffs `counter`: its own `hours`,
    else the site's unless it starts closed (a spare opened only by hand)."""
    if counter.hours:
        periods = counter.periods
    elif counter.initial_status != "closed":
        periods = config.site.periods
    else:
        return 0.0
    day, tz = start.astimezone(config.site.tz).date(), config.site.tz
    total = 0.0
    for a, b in periods:
        lo = max(start, datetime.combine(day, a, tzinfo=tz))
        hi = min(end, datetime.combine(day, b, tzinfo=tz))
        total += max(0.0, (hi - lo).total_seconds())
    return total


def counter_time_s(state: SiteState, config: SiteConfig, sector: str, start: datetime, end: datetime) -> float:
    """The counter time serving `sector` in [start, end), by the roster as planned: each counter
    staffed then whose sectors include it gives it a share of its time there, the shares of a
    counter adding up to one, so the sectors' capacities never add up to more than the counters'
    time. Its sectors are its `sectors`, shared evenly; with auto mode on, its whole `trained`
    list, shared by the work each is expected to bring then (auto mode moves the counter where
    people wait: domain/autobalance.py)."""
    total = 0.0
    loads: dict[str, float] | None = None
    for c in config.counters:
        serves = c.trained if state.auto_mode else c.sectors
        if sector not in serves:
            continue
        if state.auto_mode:
            if loads is None:
                loads = {s.id: expected_load(state, config, s.id, start) for s in config.sectors}
            share = load_shares(serves, loads)[sector]
        else:
            share = 1.0 / len(serves)
        total += planned_s(config, c, start, end) * share
    return total


# The least share of a counter's time a trained sector keeps in auto mode, so that a sector quiet
# at that hour on earlier days can still be booked (the estimate's own floor: estimate._share).
MIN_SHARE = 0.1


def expected_load(state: SiteState, config: SiteConfig, sector: str, at: datetime) -> float:
    """The work a sector is expected to bring in the half hour of `at`: its arrivals then on earlier
    days (the forecast's profile, learning.py) times its learned mean service."""
    arrivals = state.sectors[sector].arrival_profile.get(slot_of(at.astimezone(config.site.tz)), 0.0)
    return arrivals * estimate.mean_service_s(state, config, sector)


def load_shares(sectors: tuple[str, ...], loads: dict[str, float]) -> dict[str, float]:
    """A counter's time over `sectors` by their expected loads, each at least MIN_SHARE before the
    shares are scaled back to one; evenly while nothing has been learned."""
    total = sum(loads[s] for s in sectors)
    if total <= 0:
        return {s: 1.0 / len(sectors) for s in sectors}
    raw = {s: max(loads[s] / total, MIN_SHARE) for s in sectors}
    scale = sum(raw.values())
    return {s: v / scale for s, v in raw.items()}


def service_s(state: SiteState, config: SiteConfig, sector: str, procedure: str | None) -> float:
    """A procedure's mean service as learned (its sector's mean by the procedure's factor)."""
    mean = estimate.mean_service_s(state, config, sector)
    if procedure is None:
        return mean
    return mean * estimate.procedure_factors(state.sectors[sector]).get(procedure, 1.0)


def capacity_s(state: SiteState, config: SiteConfig, sector: str, start: datetime, end: datetime) -> float:
    """The counter time of the slot [start, end) of `sector` bookings may take (seconds)."""
    assert config.bookings is not None
    return counter_time_s(state, config, sector, start, end) * config.bookings.share


def booked_s(state: SiteState, sector: str, slot: str, skip: str | None = None) -> float:
    return sum(state.bookings[c].service_s for c in state.slot_index.get(f"{sector}|{slot}", ())
               if c != skip and state.bookings[c].status in HOLDS_ROOM)


def room(state: SiteState, config: SiteConfig, sector: str, slot: str, slot_s: float, need_s: float,
         skip: str | None = None) -> int:
    """How many more bookings of a procedure needing `need_s` (its learned mean service) the slot takes."""
    start = datetime.strptime(slot, "%Y-%m-%dT%H:%M").replace(tzinfo=config.site.tz)
    left = (capacity_s(state, config, sector, start, start + timedelta(seconds=slot_s))
            - booked_s(state, sector, slot, skip))
    return max(0, math.floor(left / need_s + 1e-9)) if need_s > 0 else 0


def is_closed(state: SiteState, sector: str, slot: str, extra: dict | None = None) -> bool:
    day = slot[:10]
    for c in [*state.closures, *([extra] if extra else [])]:
        if c["day"] == day and c.get("sector") in (None, sector) and c.get("slot") in (None, slot):
            return True
    return False


def free_slots(state: SiteState, config: SiteConfig, procedure: str, day: date, now: datetime,
               skip: str | None = None, extra_closure: dict | None = None) -> list[dict[str, Any]]:
    """The slots of `day` still bookable for `procedure` now ([FreeSlot]): open, not started,
    within days_ahead, with room."""
    cfg = config.bookings
    found = config.procedure_by_id.get(procedure)
    if cfg is None or found is None:
        return []
    today = now.astimezone(config.site.tz).date()
    if not today <= day <= today + timedelta(days=cfg.days_ahead):
        return []
    sector = found[0].id
    need = service_s(state, config, sector, procedure)
    out = []
    for sid, start, end in slots_of_day(config, day):
        if start <= now or is_closed(state, sector, sid, extra_closure):
            continue
        n = room(state, config, sector, sid, (end - start).total_seconds(), need, skip)
        if n > 0:
            out.append(FreeSlot.build(slot=sid, slot_start=start.isoformat(), slot_end=end.isoformat(), free=n))
    return out


def next_free(state: SiteState, config: SiteConfig, procedure: str, after: datetime, now: datetime,
              skip: str | None = None, extra_closure: dict | None = None) -> str | None:
    """The first bookable slot of `procedure` starting at or after `after`, or None."""
    assert config.bookings is not None
    today = now.astimezone(config.site.tz).date()
    day = max(after.astimezone(config.site.tz).date(), today)
    last = today + timedelta(days=config.bookings.days_ahead)
    while day <= last:
        for s in free_slots(state, config, procedure, day, now, skip, extra_closure):
            if datetime.fromisoformat(s["slot_start"]) >= after:
                return s["slot"]
        day += timedelta(days=1)
    return None


def remote_offer(config: SiteConfig, now: datetime) -> datetime:
    """By when a remote ticket taken now must be checked in (said before it is taken)."""
    assert config.bookings is not None
    return now + timedelta(minutes=config.bookings.remote_grace_min)


# --- views ---------------------------------------------------------------------------------------

def view(config: SiteConfig, b: Booking) -> dict[str, Any]:
    tz = config.site.tz
    extra: dict[str, Any] = {}
    if b.slot_epoch is not None and b.slot_s is not None:
        extra.update(slot=b.slot, slot_start=datetime.fromtimestamp(b.slot_epoch, tz).isoformat(),
                     slot_end=datetime.fromtimestamp(b.slot_epoch + b.slot_s, tz).isoformat())
    if b.arrive_by_epoch is not None:
        extra["arrive_by"] = datetime.fromtimestamp(b.arrive_by_epoch, tz).isoformat()
    if b.cancel_reason:
        extra["cancel_reason"] = b.cancel_reason
    if b.offer:
        extra["offer"] = b.offer
    return BookingView.build(code=b.code, kind=b.kind, site=config.id, sector=b.sector, procedure=b.procedure,
                             day=b.day, status=b.status, ticket_id=b.ticket_id, reminders=b.phone is not None,
                             **extra)


# --- the rules -----------------------------------------------------------------------------------

def _enabled(config: SiteConfig):
    if config.bookings is None:
        raise _refuse(ErrorCode.NOT_ALLOWED, "bookings_off")
    return config.bookings


def _refuse(code: ErrorCode, key: str | None = None, detail: dict | None = None, **params: object) -> DomainError:
    """A refusal with its words: the English from booking_texts' table (pure), the Vietnamese
    rendered by the service from `words` (the domain reads no catalogue file)."""
    key = key or code.value
    err = DomainError(code, booking_texts.ERRORS[key].format(**params), detail=detail)
    err.words = (key, params)
    return err


def _procedure(config: SiteConfig, procedure: str) -> str:
    found = config.procedure_by_id.get(procedure)
    if found is None:
        raise DomainError(ErrorCode.UNKNOWN_PROCEDURE, "Unknown procedure")
    return found[0].id


def _new_code(state: SiteState, ctx: Context) -> str:
    """An unused code from the command's randomness (the service's token: a code cannot be guessed)."""
    i = 0
    while True:
        digest = hashlib.sha256(f"{ctx.token}|{state.last_seq}|{i}".encode()).digest()
        code = booking_code.make_code(int.from_bytes(digest[:8], "big") % booking_code.CODES)
        if code not in state.bookings:
            return code
        i += 1


def _find(state: SiteState, code: str, id_hash: str) -> Booking:
    """The booking with this code, when the card's hash matches; else not_found (a wrong code and
    another citizen's code are not told apart)."""
    try:
        b = state.bookings.get(booking_code.normalise(code))
    except booking_code.BookingCodeError:
        b = None
    if b is None or not hmac.compare_digest(b.id_hash, id_hash):
        raise _refuse(ErrorCode.NOT_FOUND, "booking_not_found")
    return b


def _check_open_to_change(b: Booking) -> None:
    if b.status == "cancelled":
        raise _refuse(ErrorCode.BOOKING_CANCELLED)
    if b.status != "booked":
        raise _refuse(ErrorCode.BOOKING_USED)


def _check_slot(core: QueueCore, sector: str, procedure: str, slot: str, ctx: Context,
                skip: str | None = None) -> tuple[datetime, datetime, float]:
    """A slot a booking of `procedure` may take now: (start, end, its service), or the refusal."""
    cfg, st = core.config, core.state
    start, end = parse_slot(core.config, slot)
    today = ctx.now.astimezone(cfg.site.tz).date()
    if start <= ctx.now or start.date() > today + timedelta(days=cfg.bookings.days_ahead):
        raise DomainError(ErrorCode.BAD_REQUEST, "This slot cannot be booked now (past, or too far ahead)")
    if is_closed(st, sector, slot):
        raise _refuse(ErrorCode.SLOT_CLOSED)
    need = service_s(st, cfg, sector, procedure)
    if room(st, cfg, sector, slot, (end - start).total_seconds(), need, skip) < 1:
        nxt = next_free(st, cfg, procedure, start, ctx.now, skip)
        if nxt is None:
            raise _refuse(ErrorCode.BOOKING_FULL, "booking_full_none", {"next_free": None})
        nxt_start, _ = parse_slot(cfg, nxt)
        raise _refuse(ErrorCode.BOOKING_FULL, detail={"next_free": nxt},
                      slot=when_text(cfg, nxt_start.timestamp()))
    return start, end, need


def _check_limits(core: QueueCore, procedure: str, id_hash: str, ctx: Context, skip: str | None = None) -> None:
    now = ctx.now.timestamp()
    recent = 0
    for b in core.state.bookings_of(id_hash):
        if b.code == skip or b.kind != "slot":
            continue
        if b.procedure == procedure and b.status in ACTIVE:
            raise _refuse(ErrorCode.BOOKING_LIMIT)
        if b.created_epoch > now - WEEK_S:
            recent += 1
    if skip is None and recent >= core.config.bookings.per_week:
        raise _refuse(ErrorCode.BOOKING_LIMIT)


def _result(config: SiteConfig, code: str):
    return lambda s: ReplyResult.build(booking=view(config, s.bookings[code]))


def create(core: QueueCore, cmd: Any, ctx: Context) -> Decision:
    from queue_server.domain.core import Decision
    _enabled(core.config)
    sector = _procedure(core.config, cmd.procedure)
    _check_limits(core, cmd.procedure, cmd.id_hash, ctx)
    start, end, need = _check_slot(core, sector, cmd.procedure, cmd.slot, ctx)
    code = _new_code(core.state, ctx)
    data = {"code": code, "kind": "slot", "sector": sector, "procedure": cmd.procedure,
            "day": start.date().isoformat(), "slot": cmd.slot, "slot_epoch": start.timestamp(),
            "slot_s": int((end - start).total_seconds()), "service_s": round(need, 3), "id_hash": cmd.id_hash,
            "lang": cmd.lang, "by": cmd.by, "created_epoch": ctx.now.timestamp()}
    if cmd.phone:
        data["phone"] = cmd.phone
    return Decision([ev.NewEvent(ev.BOOKING_CREATED, ctx.now.isoformat(), data)], _result(core.config, code))


def cancel(core: QueueCore, cmd: Any, ctx: Context) -> Decision:
    from queue_server.domain.core import Decision
    _enabled(core.config)
    b = _find(core.state, cmd.code, cmd.id_hash)
    _check_open_to_change(b)
    events = [ev.NewEvent(ev.BOOKING_CANCELLED, ctx.now.isoformat(), {"code": b.code, "by": "citizen"})]
    if b.ticket_id is not None:     # a remote ticket: its place goes too
        events.append(ev.NewEvent(ev.TICKET_CANCELLED, ctx.now.isoformat(), {"ticket_id": b.ticket_id, "by": "citizen"}))
    return Decision(events, _result(core.config, b.code))


def move(core: QueueCore, cmd: Any, ctx: Context) -> Decision:
    from queue_server.domain.core import Decision
    _enabled(core.config)
    b = _find(core.state, cmd.code, cmd.id_hash)
    _check_open_to_change(b)
    if b.kind != "slot":
        raise DomainError(ErrorCode.BAD_REQUEST, "A ticket taken from a phone has no slot to move")
    start, end, need = _check_slot(core, b.sector, b.procedure, cmd.slot, ctx, skip=b.code)
    e = ev.NewEvent(ev.BOOKING_MOVED, ctx.now.isoformat(),
                    {"code": b.code, "slot": cmd.slot, "day": start.date().isoformat(), "slot_epoch": start.timestamp(),
                     "slot_s": int((end - start).total_seconds()), "service_s": round(need, 3), "from_slot": b.slot})
    return Decision([e], _result(core.config, b.code))


def _ticket_event(core: QueueCore, sector_id: str, procedure: str | None, lang: str, ctx: Context,
                  booking: str, kind: str, held: bool, due_epoch: float | None = None,
                  arrive_by_epoch: float | None = None) -> tuple[Ticket, ev.NewEvent]:
    """A ticket for a booking (its printed wait is the stream estimate: a booking waits from its slot)."""
    cfg, st = core.config, core.state
    sector = cfg.sector_by_id[sector_id]
    seq_in_sector = st.sectors[sector.id].last_number + 1
    if seq_in_sector > ticket_number.MAX_PER_DAY:
        raise DomainError(ErrorCode.SECTOR_CLOSED, "No more tickets for this sector today")
    number = ticket_number.format_number(sector.prefix, seq_in_sector)
    day = core.local_day(ctx.now)
    order = max(ctx.now.timestamp(), st.last_order + 0.001)
    rank = BOOKED_RANK if kind == "slot" else 1
    ahead = estimate.ahead_of(st, sector.id, rank, order)
    est = estimate.wait_for_position(st, cfg, sector.id, ahead)
    if due_epoch is not None:
        est = max(est, int(round(due_epoch - ctx.now.timestamp())))
    t = Ticket(id=f"{day.replace('-', '')}-{number}", number=number, sector=sector.id, procedure=procedure,
               priority="normal", lang=lang, day=day, issued_at=ctx.now.isoformat(), order=order,
               token=ctx.token, device=ctx.device, est_wait_s=est, est_stream_s=None, position=ahead + 1,
               booking=booking, booking_kind=kind, held=held, due_epoch=due_epoch, arrive_by_epoch=arrive_by_epoch)
    data = t.__dict__.copy()
    for key in ("visit", "step", "queued_epoch", "visit_end_s"):
        del data[key]
    return t, ev.NewEvent(ev.TICKET_ISSUED, ctx.now.isoformat(), {"ticket": data, "seq_in_sector": seq_in_sector})


def ticket_result(config: SiteConfig, t: Ticket) -> dict[str, Any]:
    from queue_server.domain.core import ticket_public
    from protocol.messages import PRINTED_WAIT, wait_fields
    extra: dict[str, Any] = {}
    if t.due_epoch is not None:
        extra["due_at"] = datetime.fromtimestamp(t.due_epoch, config.site.tz).isoformat()
    return TicketResult.build(**ticket_public(t), position=t.position, ahead=t.position - 1,
                              **wait_fields(PRINTED_WAIT, t.printed_wait_s), token=t.token, **extra)


def remote(core: QueueCore, cmd: Any, ctx: Context) -> Decision:
    from queue_server.domain.core import Decision
    cfg = _enabled(core.config)
    if not cfg.remote:
        raise DomainError(ErrorCode.NOT_ALLOWED, "This centre does not take tickets from phones")
    sector = _procedure(core.config, cmd.procedure)
    if not core.is_open(ctx.now):
        raise _refuse(ErrorCode.SECTOR_CLOSED, "centre_closed")
    today = core.local_day(ctx.now)
    for b in core.state.bookings_of(cmd.id_hash):
        if b.kind == "remote" and b.day == today and b.status in ("booked", "checked_in"):
            raise _refuse(ErrorCode.BOOKING_LIMIT)
    core._check_caps([(sector, cmd.procedure)])     # a phone's ticket is a walk-in's: capped like one
    code = _new_code(core.state, ctx)
    arrive_by = remote_offer(core.config, ctx.now).timestamp()
    t, issued = _ticket_event(core, sector, cmd.procedure, cmd.lang, ctx, code, "remote", True,
                              arrive_by_epoch=arrive_by)
    data = {"code": code, "kind": "remote", "sector": sector, "procedure": cmd.procedure, "day": today,
            "id_hash": cmd.id_hash, "lang": cmd.lang, "by": "web", "created_epoch": ctx.now.timestamp(),
            "ticket_id": t.id, "arrive_by_epoch": arrive_by}
    if cmd.phone:
        data["phone"] = cmd.phone
    created = ev.NewEvent(ev.BOOKING_CREATED, ctx.now.isoformat(), data)

    def result(s: SiteState) -> dict[str, Any]:
        return ReplyResult.build(ticket=ticket_result(core.config, s.tickets[t.id]),
                                 booking=view(core.config, s.bookings[code]))
    return Decision([issued, created], result)


def check_in(core: QueueCore, cmd: Any, ctx: Context) -> Decision:
    from queue_server.domain.core import Decision
    cfg = _enabled(core.config)
    st = core.state
    today = core.local_day(ctx.now)
    now = ctx.now.timestamp()
    if cmd.code is not None:
        code_text, site = cmd.code, cmd.site
        try:
            site, code_text = booking_code.parse_qr(cmd.code)
        except (booking_code.BookingCodeError, ValueError):
            pass
        if site is not None and site != core.config.id:
            raise _refuse(ErrorCode.BOOKING_WRONG_SITE, detail={"site": site})
        try:
            b = st.bookings.get(booking_code.normalise(code_text))
        except booking_code.BookingCodeError:
            b = None
        if b is None:
            raise _refuse(ErrorCode.NOT_FOUND, "booking_not_found")
    else:
        mine = [b for b in st.bookings_of(cmd.id_hash) if b.status == "booked"]
        todays = sorted((b for b in mine if b.day == today), key=lambda b: (b.slot_epoch or b.created_epoch))
        if not todays:
            later = sorted((b for b in mine if b.day > today), key=lambda b: b.day)
            if later:
                raise _refuse(ErrorCode.BOOKING_WRONG_DAY, detail={"day": later[0].day}, day=day_text(later[0].day))
            raise _refuse(ErrorCode.NOT_FOUND, "booking_not_found")
        b = todays[0]
    _check_open_to_change(b)
    if b.day != today:
        raise _refuse(ErrorCode.BOOKING_WRONG_DAY, detail={"day": b.day}, day=day_text(b.day))
    if b.kind == "remote":
        t = st.tickets.get(b.ticket_id or "")
        if t is None or t.status != "waiting" or (b.arrive_by_epoch is not None and now > b.arrive_by_epoch):
            raise _refuse(ErrorCode.BOOKING_USED)
        events = [ev.NewEvent(ev.BOOKING_CHECKED_IN, ctx.now.isoformat(),
                              {"code": b.code, "ticket_id": t.id, "outcome": "remote", "at_epoch": now}),
                  ev.NewEvent(ev.TICKET_RELEASED, ctx.now.isoformat(), {"ticket_id": t.id, "order": t.order})]
        tid, outcome = t.id, "remote"
    else:
        start = b.slot_epoch
        opens = start - cfg.early_min * 60
        if now < opens:
            raise _refuse(ErrorCode.BOOKING_TOO_EARLY,
                          detail={"check_in_from": datetime.fromtimestamp(opens, cfg_tz(core)).isoformat()},
                          time=datetime.fromtimestamp(opens, cfg_tz(core)).strftime("%H:%M"))
        if now > start + cfg.late_min * 60:
            outcome, kind, held, due = "late", "late", False, None
        elif now < start:
            outcome, kind, held, due = "early", "slot", True, start
        else:
            outcome, kind, held, due = "on_time", "slot", False, start
        t, issued = _ticket_event(core, b.sector, b.procedure, cmd.lang, ctx, b.code, kind, held, due_epoch=due)
        events = [issued, ev.NewEvent(ev.BOOKING_CHECKED_IN, ctx.now.isoformat(),
                                      {"code": b.code, "ticket_id": t.id, "outcome": outcome, "at_epoch": now})]
        tid = t.id
    code = b.code

    def result(s: SiteState) -> dict[str, Any]:
        tk = s.tickets[tid]
        extra = {"due_at": datetime.fromtimestamp(tk.due_epoch, cfg_tz(core)).isoformat()} if tk.due_epoch else {}
        return ReplyResult.build(ticket=ticket_result(core.config, tk), booking=view(core.config, s.bookings[code]),
                                 check_in=CheckInResult.build(outcome=outcome, **extra))
    return Decision(events, result)


def cfg_tz(core: QueueCore):
    return core.config.site.tz


def close(core: QueueCore, cmd: Any, ctx: Context) -> Decision:
    from queue_server.domain.core import Decision
    cfg = core.config
    try:
        day = date.fromisoformat(cmd.day)
    except (TypeError, ValueError):
        raise DomainError(ErrorCode.BAD_REQUEST, "A day is written YYYY-MM-DD") from None
    if cmd.sector is not None and cmd.sector not in cfg.sector_by_id:
        raise DomainError(ErrorCode.UNKNOWN_SECTOR, "Unknown sector")
    if cmd.slot is not None:
        start, _ = parse_slot(cfg, cmd.slot)
        if start.date() != day:
            raise DomainError(ErrorCode.BAD_REQUEST, "The slot is not on that day")
    closure = {"day": day.isoformat(), "sector": cmd.sector, "slot": cmd.slot}
    events = [ev.NewEvent(ev.SLOTS_CLOSED, ctx.now.isoformat(), {**closure, "reason": cmd.reason, "by": cmd.by})]
    hit = sorted((b for b in core.state.bookings.values()
                  if b.kind == "slot" and b.status == "booked" and b.day == closure["day"]
                  and closure["sector"] in (None, b.sector) and closure["slot"] in (None, b.slot)),
                 key=lambda b: (b.slot_epoch, b.code))
    codes = []
    for b in hit:
        offer = None
        if cfg.bookings is not None:
            offer = next_free(core.state, cfg, b.procedure, datetime.fromtimestamp(b.slot_epoch, cfg.site.tz),
                              ctx.now, skip=b.code, extra_closure=closure)
        # what the citizen is told is booking_texts.closure_message(slot, offer), said by the notifier
        events.append(ev.NewEvent(ev.BOOKING_CANCELLED, ctx.now.isoformat(),
                                  {"code": b.code, "by": "closed", "offer": offer, "slot": b.slot}))
        codes.append(b.code)
    return Decision(events, lambda s: ReplyResult.build(cancelled=[view(cfg, s.bookings[c]) for c in codes]))


def due_events(state: SiteState, now: datetime) -> list[ev.NewEvent]:
    """Held tickets whose time has come: an early check-in's slot has started (it joins the queue,
    ahead of walk-ins from then), a remote ticket not checked in by its time (it lapses)."""
    out: list[ev.NewEvent] = []
    t_now = now.timestamp()
    last = state.last_order
    for tid in state.held:
        t = state.tickets[tid]
        if t.booking_kind == "slot" and t.due_epoch is not None and t.due_epoch <= t_now:
            # Its place counts from the slot's start: never before a ticket already queued
            # (orders stay strictly increasing), so it never overtakes an overdue walk-in.
            last = max(t.due_epoch, last + 0.001)
            out.append(ev.NewEvent(ev.TICKET_RELEASED, now.isoformat(), {"ticket_id": t.id, "order": last}))
        elif t.booking_kind == "remote" and t.arrive_by_epoch is not None and t.arrive_by_epoch <= t_now:
            out.append(ev.NewEvent(ev.TICKET_LAPSED, now.isoformat(), {"ticket_id": t.id, "code": t.booking}))
    return out


def no_shows(state: SiteState, new_day: str, now: datetime) -> list[ev.NewEvent]:
    """At a new day's start: bookings of earlier days never checked in."""
    return [ev.NewEvent(ev.BOOKING_NO_SHOW, now.isoformat(), {"code": b.code})
            for b in sorted(state.bookings.values(), key=lambda b: b.code)
            if b.status == "booked" and b.day < new_day]
