"""The rules of a one-stop centre: a command and the current state -> events and a result.

`QueueCore.decide` never changes the state. `execute` is the one pipeline every
caller runs a command through (the service, the simulator, the benchmarks, the
tests): decide, number the events after the state's last seq, fold them in with
`SiteState.apply`, read the reply. The service persists the numbered events
around it. The clock, the random tracking token and the clock the forecast may
time itself with come in through `Context`, so the same input always decides
the same way (the simulator and replay rely on it).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from protocol import ticket_number
from protocol.errors import ErrorCode
from protocol.messages import (BREAK_REASONS, MAX_VISIT_PROCEDURES, PRINTED_WAIT, Guidance, ReplyResult, TicketResult,
                               wait_fields)
from queue_server.domain import bookings, closing, estimate, forecast, notices, visits
from queue_server.domain import events as ev
from queue_server.domain.commands import (CancelTicket, HelpRequest, NotifyFailed, NotifySent, QueueNotices, SetAutoMode,
                                          SetCounterSectors, SetCounterStatus)
from queue_server.domain.errors import DomainError
from queue_server.domain.policy import DEFAULT_POLICY, Policy
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState
from queue_server.domain.tickets import PRIORITY_RANK, Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    now: datetime            # aware
    device: str | None = None
    token: str = ""          # unguessable tracking token for a new ticket
    # Seconds the printed wait's forecast may take (forecast/); None: what it needs (the
    # simulator), 0: none, the stream estimate is printed (the live loop's CPU budget decides).
    forecast_s: float | None = None
    # What the forecast times itself with against forecast_s (seconds, any origin; the service
    # gives time.perf_counter): the domain reads no clock of its own.
    forecast_clock: Callable[[], float] | None = None


@dataclass
class Decision:
    events: list[ev.NewEvent] = field(default_factory=list)
    result: Callable[[SiteState], dict[str, Any]] | None = None  # read after the events are applied
    error: DomainError | None = None


@dataclass
class Outcome:
    """A command run through `execute`: its events, numbered and folded in, and its reply."""
    events: list[ev.Event]
    result: dict[str, Any] | None = None    # the reply's body when the command was accepted
    error: DomainError | None = None        # else why it was refused (events may still have happened)


def ticket_public(t: Ticket) -> dict[str, Any]:
    extra: dict[str, Any] = {"visit": visits.view(t)} if t.visit else {}
    if t.booking:
        extra.update(booking=t.booking, booking_kind=t.booking_kind)
    return TicketResult.build(id=t.id, number=t.number, sector=t.sector, procedure=t.procedure,
                              priority=t.priority, issued_at=t.issued_at, status=t.status,
                              counter=t.counter, called_at=t.called_at, **extra)


# Ticket fields only a visit uses: left out of a single-procedure ticket's ticket.issued event,
# which stays as it always was (Ticket(**data) gives them their defaults).
_VISIT_KEYS = ("visit", "step", "queued_epoch", "visit_end_s")
# Ticket fields only a booking's or a remote ticket's ticket uses (bookings.py), likewise.
_BOOKING_KEYS = ("booking", "booking_kind", "held", "due_epoch", "arrive_by_epoch")


class QueueCore:
    def __init__(self, config: SiteConfig, policy: Policy | None = None, state: SiteState | None = None,
                 forecast: bool = True):
        self.config = config
        self.policy: Policy = policy or DEFAULT_POLICY()
        self.state = state or SiteState.initial(config)
        # The printed wait from forecast/ (else the stream estimate of estimate.py; and see
        # Context.forecast_s).
        self.forecast = forecast

    # --- day -----------------------------------------------------------------

    def local_day(self, now: datetime) -> str:
        return now.astimezone(self.config.site.tz).date().isoformat()

    def rollover(self, now: datetime) -> list[ev.NewEvent]:
        """A `day.started` event when `now` is on a new day in the site's zone (after the no-shows
        of earlier days' bookings); within a day, the held tickets whose time has come
        (bookings.due_events: an early check-in's slot started, a remote ticket lapsed)."""
        day = self.local_day(now)
        if self.state.day == day:
            return bookings.due_events(self.state, now) if self.state.held else []
        no_shows = bookings.no_shows(self.state, day, now) if self.state.bookings else []
        open_ids = [t.id for t in self.state.tickets.values() if t.status in ("waiting", "called")]
        data: dict[str, Any] = {"day": day, "previous": self.state.day, "expired": open_ids}
        if self.config.site.overnight:
            # Waiting tickets stay open for the morning (a called one's citizen has gone home).
            # (a held ticket, a remote one never checked in or an early check-in, is not carried)
            carried = [t for t in self.state.tickets.values() if t.status == "waiting" and not t.held]
            data["expired"] = [t.id for t in self.state.tickets.values()
                               if t.status == "called" or (t.status == "waiting" and t.held)]
            data["carried"] = [t.id for t in carried]
            last: dict[str, int] = {}
            by_prefix = {s.prefix: s.id for s in self.config.sectors}
            for t in carried:
                prefix, n = ticket_number.parse_number(t.number)
                if prefix in by_prefix:
                    last[by_prefix[prefix]] = max(last.get(by_prefix[prefix], 0), n)
            data["carried_last"] = last
        return no_shows + [ev.NewEvent(ev.DAY_STARTED, now.isoformat(), data)]

    # --- dispatch ------------------------------------------------------------

    def decide(self, kind: str, cmd: Any, ctx: Context) -> Decision:
        ctype = getattr(cmd, "type", None)
        handler = HANDLERS.get(ctype) if isinstance(ctype, str) else None
        if handler is None:
            return Decision(error=DomainError(ErrorCode.BAD_REQUEST, f"unknown command {ctype}"))
        try:
            return handler(self, cmd, ctx)
        except DomainError as err:
            return Decision(error=err)

    # --- kiosk ---------------------------------------------------------------

    def _ticket_issue(self, cmd: Any, ctx: Context) -> Decision:
        cfg, st = self.config, self.state
        items: list[visits.Item] = []
        for it in cmd.items():
            found = cfg.sector_by_id.get(it.sector)
            if found is None:
                raise DomainError(ErrorCode.UNKNOWN_SECTOR, "Unknown sector")
            if it.procedure is not None and it.procedure not in found.procedures_by_id:
                raise DomainError(ErrorCode.UNKNOWN_PROCEDURE, "Unknown procedure for this sector")
            items.append((it.sector, it.procedure))
        if cmd.priority != "normal" and cmd.priority not in cfg.priority_groups:
            raise DomainError(ErrorCode.BAD_REQUEST, "This priority group is not served here")
        if cfg.site.enforce_hours and not self.is_open(ctx.now):
            raise DomainError(ErrorCode.SECTOR_CLOSED, "The centre is closed now")
        self._check_caps(items)
        waits: dict[str, int] = {}
        if len(items) > 1:
            waits = estimate.shown_waits(st, cfg)
            items, _ = visits.plan(items, waits.__getitem__, self.service_s)
        sector = cfg.sector_by_id[items[0][0]]
        procedure = items[0][1]
        seq_in_sector = st.sectors[sector.id].last_number + 1
        if seq_in_sector > ticket_number.MAX_PER_DAY:
            raise DomainError(ErrorCode.SECTOR_CLOSED, "No more tickets for this sector today")
        number = ticket_number.format_number(sector.prefix, seq_in_sector)
        day = self.local_day(ctx.now)
        rank = PRIORITY_RANK.get(cmd.priority, 0)
        # Two tickets issued in the same instant still have an order: the later one is behind.
        order = max(ctx.now.timestamp(), st.last_order + 0.001)
        ahead = estimate.ahead_of(st, sector.id, rank, order)
        stream = estimate.wait_for_position(st, cfg, sector.id, ahead)
        est = played_end = None
        if self.forecast and (ctx.forecast_s is None or ctx.forecast_s > 0.0):
            try:
                if len(items) == 1:
                    est = forecast.printed_wait(st, cfg, sector.id, rank, order, ahead, ctx.now, self.policy,
                                                ctx.forecast_s, ctx.forecast_clock)
                else:   # a visit's plays go on to its end (the rejoins in the ticket's place, "continue here")
                    got = forecast.printed_visit(st, cfg, items, rank, order, ahead, ctx.now, self.policy,
                                                 ctx.forecast_s, ctx.forecast_clock)
                    est, played_end = got if got is not None else (None, None)
            except Exception:   # an estimate must never cost a citizen their ticket
                log.exception("forecast of the printed wait failed; printing the stream estimate")
        if est is None:
            est = stream
        visit: list[dict] = []
        visit_end = None
        last_call_s = float(est)    # when the last procedure is predicted to be called
        if len(items) > 1:
            visit = [{"sector": s, "procedure": p, "status": "current" if i == 0 else "waiting"}
                     for i, (s, p) in enumerate(items)]
            end = float(played_end) if played_end is not None else visits.end_of(
                items, waits.__getitem__, self.service_s, first_wait_s=est,
                rejoin_s=lambda s: estimate.wait_for_position(st, cfg, s, 0))
            visit_end = int(round(end))
            last_call_s = end - self.service_s(*items[-1])
        past = closing.past_closing(cfg, ctx.now, last_call_s)
        if past and cmd.accept_past_closing is False:
            raise DomainError(ErrorCode.PAST_CLOSING, "The wait is predicted to run past closing time")
        ticket = Ticket(id=f"{day.replace('-', '')}-{number}", number=number, sector=sector.id,
                        procedure=procedure, priority=cmd.priority, lang=cmd.lang, day=day,
                        issued_at=ctx.now.isoformat(), order=order, token=ctx.token, device=ctx.device,
                        est_wait_s=est, est_stream_s=stream, position=ahead + 1, visit=visit, visit_end_s=visit_end)
        data = ticket.__dict__.copy()
        if not visit:
            for key in _VISIT_KEYS:
                del data[key]
        for key in _BOOKING_KEYS:   # a walk-in's ticket.issued stays as it always was
            del data[key]
        event = ev.NewEvent(ev.TICKET_ISSUED, ctx.now.isoformat(), {"ticket": data, "seq_in_sector": seq_in_sector})

        def result(state: SiteState) -> dict[str, Any]:
            t = state.tickets[ticket.id]
            extra: dict[str, Any] = {"past_closing": True} if past else {}
            return ReplyResult.build(ticket=TicketResult.build(
                **ticket_public(t), position=t.position, ahead=t.position - 1,
                **wait_fields(PRINTED_WAIT, t.printed_wait_s), token=t.token, **extra))
        return Decision([event], result)

    def service_s(self, sector: str, procedure: str | None) -> float:
        """Expected service of one procedure: its sector's mean, by the procedure's learned factor."""
        mean = estimate.mean_service_s(self.state, self.config, sector)
        if procedure is None:
            return mean
        return mean * estimate.procedure_factors(self.state.sectors[sector]).get(procedure, 1.0)

    def _check_caps(self, items: list[visits.Item]) -> None:
        """Refuse when taking `items` would go past a sector's or a procedure's daily cap."""
        by_sector: dict[str, int] = {}
        by_proc: dict[str, int] = {}
        for s, p in items:
            by_sector[s] = by_sector.get(s, 0) + 1
            if p is not None:
                by_proc[p] = by_proc.get(p, 0) + 1
        for s, n in by_sector.items():
            cap = self.config.sector_by_id[s].daily_cap
            if cap is not None and self.state.sectors[s].taken_today + n > cap:
                raise DomainError(ErrorCode.DAILY_CAP_REACHED, "Today's numbers for this sector are gone")
        for p, n in by_proc.items():
            sector, proc = self.config.procedure_by_id[p]
            cap = proc.daily_cap
            if cap is not None and self.state.sectors[sector.id].procedures_taken_today.get(p, 0) + n > cap:
                raise DomainError(ErrorCode.DAILY_CAP_REACHED, "Today's numbers for this procedure are gone")

    def _guidance_online(self, cmd: Any, ctx: Context) -> Decision:
        found = self.config.procedure_by_id.get(cmd.procedure)
        if found is None:
            raise DomainError(ErrorCode.UNKNOWN_PROCEDURE, "Unknown procedure")
        sector, proc = found
        portal = proc.portal_url or self.config.site.online_portal
        event = ev.NewEvent(ev.GUIDANCE_GIVEN, ctx.now.isoformat(),
                            {"procedure": proc.id, "sector": sector.id, "online": proc.online,
                             "lang": cmd.lang, "device": ctx.device})
        return Decision([event], lambda s: ReplyResult.build(guidance=Guidance.build(
            procedure=proc.id, sector=sector.id, portal_url=portal, online=proc.online)))

    # --- counter -------------------------------------------------------------

    def _counter(self, ctx: Context):
        c = self.state.counters.get(ctx.device or "")
        if c is None:
            raise DomainError(ErrorCode.NOT_ALLOWED, "Unknown counter")
        return c

    def _finish_current(self, counter_id: str, ctx: Context, outcome: str = "completed",
                        continue_here: bool = False) -> list[ev.NewEvent]:
        """The current citizen's procedure ends. A visit with a procedure still to serve moves on
        to it (`visit.next`): into that sector's queue in the ticket's place, or, when asked and
        this counter serves that sector, called here at once."""
        t = self.state.counter_serving(counter_id)
        if t is None:
            return []
        service_s = max(0.0, ctx.now.timestamp() - (t.called_epoch or ctx.now.timestamp()))
        data = {"ticket_id": t.id, "counter": counter_id, "outcome": outcome, "service_s": round(service_s, 3)}
        if t.visit:     # which procedure was served: reports count each one
            data.update(sector=t.sector, procedure=t.procedure, step=t.step)
        events = [ev.NewEvent(ev.TICKET_SERVED, ctx.now.isoformat(), data)]
        nxt = t.next_step()
        if nxt is None:
            return events
        step = t.visit[nxt]
        here = continue_here and step["sector"] in self.state.counters[counter_id].sectors
        events.append(ev.NewEvent(ev.VISIT_NEXT, ctx.now.isoformat(),
                                  {"ticket_id": t.id, "step": nxt, "sector": step["sector"],
                                   "procedure": step["procedure"], "counter": counter_id if here else None,
                                   "at_epoch": ctx.now.timestamp()}))
        if here:
            events.append(ev.NewEvent(ev.TICKET_CALLED, ctx.now.isoformat(),
                                      {"ticket_id": t.id, "counter": counter_id, "number": t.number,
                                       "sector": step["sector"], "how": "continue", "at_epoch": ctx.now.timestamp(),
                                       "wait_s": 0.0, "since_queued_s": 0.0,
                                       "step": t.step_number + 1, "steps": t.steps}))
        return events

    def _call_event(self, t: Ticket, counter_id: str, ctx: Context, how: str) -> ev.NewEvent:
        now = ctx.now.timestamp()
        if t.queued_epoch is not None:
            # a visit's later procedure: its wait is the time in this queue, not since issue
            # (which includes the visit's earlier services)
            waited = max(0.0, now - t.queued_epoch)
            return ev.NewEvent(ev.TICKET_CALLED, ctx.now.isoformat(),
                               {"ticket_id": t.id, "counter": counter_id, "number": t.number, "sector": t.sector,
                                "how": how, "at_epoch": now, "wait_s": round(waited, 3),
                                "since_queued_s": round(waited, 3), **visits.step_fields(t)})
        wait_s = max(0.0, now - t.order) if not t.transferred else None
        return ev.NewEvent(ev.TICKET_CALLED, ctx.now.isoformat(),
                           {"ticket_id": t.id, "counter": counter_id, "number": t.number, "sector": t.sector,
                            "how": how, "at_epoch": now,
                            "wait_s": round(now - _issued_epoch(t), 3),
                            "since_queued_s": None if wait_s is None else round(wait_s, 3),
                            **visits.step_fields(t)})

    def _reopen_if_paused(self, c, ctx: Context) -> list[ev.NewEvent]:
        if c.status == "closed":
            raise DomainError(ErrorCode.COUNTER_CLOSED, "This counter is closed; open it first")
        if c.status == "paused":
            return [ev.NewEvent(ev.COUNTER_STATUS, ctx.now.isoformat(), {"counter": c.id, "status": "open"})]
        return []

    def _called_result(self, ticket_id: str):
        return lambda s: ReplyResult.build(ticket=ticket_public(s.tickets[ticket_id]))

    def _call_next(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        events = self._reopen_if_paused(c, ctx) + self._finish_current(c.id, ctx)
        t = self.policy.choose(self.state, self.config, c.id, ctx.now.timestamp())
        if t is None:
            return Decision(events, error=DomainError(ErrorCode.QUEUE_EMPTY, "No one is waiting for this counter"))
        events.append(self._call_event(t, c.id, ctx, "next"))
        return Decision(events, self._called_result(t.id))

    def _call_number(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        t = self.state.ticket_by_number(cmd.number)
        if t is None or t.status != "waiting":
            raise DomainError(ErrorCode.NOT_FOUND, "No waiting ticket has this number")
        if t.sector not in c.sectors:
            raise DomainError(ErrorCode.NOT_ALLOWED, "This counter does not serve that ticket's sector")
        events = self._reopen_if_paused(c, ctx) + self._finish_current(c.id, ctx)
        events.append(self._call_event(t, c.id, ctx, "number"))
        return Decision(events, self._called_result(t.id))

    def _call_recall(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        t = self.state.counter_serving(c.id)
        if t is None:
            raise DomainError(ErrorCode.NO_CURRENT_TICKET, "This counter is not serving anyone")
        e = ev.NewEvent(ev.TICKET_RECALLED, ctx.now.isoformat(),
                        {"ticket_id": t.id, "counter": c.id, "number": t.number, "sector": t.sector,
                         **visits.step_fields(t)})
        return Decision([e], self._called_result(t.id))

    def _serve_done(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        t = self.state.counter_serving(c.id)
        if t is None:
            raise DomainError(ErrorCode.NO_CURRENT_TICKET, "This counter is not serving anyone")
        return Decision(self._finish_current(c.id, ctx, cmd.outcome, cmd.continue_here), self._called_result(t.id))

    def _visit_add(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        t = self.state.counter_serving(c.id)
        if t is None:
            raise DomainError(ErrorCode.NO_CURRENT_TICKET, "This counter is not serving anyone")
        sector = self.config.sector_by_id.get(cmd.sector)
        if sector is None:
            raise DomainError(ErrorCode.UNKNOWN_SECTOR, "Unknown sector")
        if cmd.procedure is not None and cmd.procedure not in sector.procedures_by_id:
            raise DomainError(ErrorCode.UNKNOWN_PROCEDURE, "Unknown procedure for this sector")
        visit = [dict(p) for p in t.visit] or [{"sector": t.sector, "procedure": t.procedure, "status": "current"}]
        if sum(1 for p in visit if p["status"] != "dropped") >= MAX_VISIT_PROCEDURES:
            raise DomainError(ErrorCode.BAD_REQUEST, "A visit has at most 5 procedures")
        # After the last procedure still to come of the same sector (one sector's procedures
        # together), else after all of them.
        at = len(visit)
        for i in range(len(visit) - 1, t.step - 1, -1):
            if visit[i]["sector"] == cmd.sector and visit[i]["status"] in ("current", "waiting"):
                at = i + 1
                break
        visit.insert(at, {"sector": cmd.sector, "procedure": cmd.procedure, "status": "waiting"})
        return self._visit_changed(t, c.id, "add", cmd, visit, ctx)

    def _visit_drop(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        t = self.state.counter_serving(c.id)
        if t is None:
            raise DomainError(ErrorCode.NO_CURRENT_TICKET, "This counter is not serving anyone")
        visit = [dict(p) for p in t.visit]
        for p in visit[t.step + 1:]:
            if p["status"] == "waiting" and p["sector"] == cmd.sector and (
                    cmd.procedure is None or p["procedure"] == cmd.procedure):
                p["status"] = "dropped"
                return self._visit_changed(t, c.id, "drop", cmd, visit, ctx)
        raise DomainError(ErrorCode.NOT_FOUND, "This procedure is not among those still to serve")

    def _visit_changed(self, t: Ticket, counter: str, action: str, cmd: Any, visit: list[dict],
                       ctx: Context) -> Decision:
        e = ev.NewEvent(ev.VISIT_CHANGED, ctx.now.isoformat(),
                        {"ticket_id": t.id, "counter": counter, "action": action, "sector": cmd.sector,
                         "procedure": cmd.procedure, "visit": visit})
        return Decision([e], self._called_result(t.id))

    def _serve_no_show(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        t = self.state.counter_serving(c.id)
        if t is None:
            raise DomainError(ErrorCode.NO_CURRENT_TICKET, "This counter is not serving anyone")
        e = ev.NewEvent(ev.TICKET_NO_SHOW, ctx.now.isoformat(),
                        {"ticket_id": t.id, "counter": c.id,
                         "waited_s": round(ctx.now.timestamp() - (t.called_epoch or ctx.now.timestamp()), 3)})
        return Decision([e], self._called_result(t.id))

    def _serve_transfer(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        t = self.state.counter_serving(c.id)
        if t is None:
            raise DomainError(ErrorCode.NO_CURRENT_TICKET, "This counter is not serving anyone")
        if cmd.to_sector not in self.config.sector_by_id:
            raise DomainError(ErrorCode.UNKNOWN_SECTOR, "Unknown sector")
        if cmd.to_sector == t.sector:
            raise DomainError(ErrorCode.BAD_REQUEST, "The ticket is already in that sector")
        e = ev.NewEvent(ev.TICKET_TRANSFERRED, ctx.now.isoformat(),
                        {"ticket_id": t.id, "counter": c.id, "from_sector": t.sector,
                         "to_sector": cmd.to_sector, "note": cmd.note,
                         "service_s": round(ctx.now.timestamp() - (t.called_epoch or ctx.now.timestamp()), 3)})
        return Decision([e], self._called_result(t.id))

    def _set_status(self, counter_id: str, status: str, ctx: Context, by: str | None,
                    reason: str | None = None) -> Decision:
        """A counter opens, closes or goes on a break (paused, with a reason: BREAK_REASONS)."""
        c = self.state.counters.get(counter_id)
        if c is None:
            raise DomainError(ErrorCode.NOT_ALLOWED, "Unknown counter")
        events: list[ev.NewEvent] = []
        if status == "closed":
            events += self._finish_current(counter_id, ctx)
        data: dict[str, Any] = {"counter": counter_id, "status": status, "by": by}
        if status == "paused":
            data["reason"] = reason or "other"
        if c.status != status or (status == "paused" and c.break_reason != data["reason"]):
            events.append(ev.NewEvent(ev.COUNTER_STATUS, ctx.now.isoformat(), data))

        def result(s: SiteState) -> dict[str, Any]:
            rt = s.counters[counter_id]
            extra = {"break_reason": rt.break_reason} if rt.status == "paused" else {}
            return {"counter": {"id": counter_id, "status": rt.status, "sectors": list(rt.sectors), **extra}}
        return Decision(events, result)

    def _counter_open(self, cmd: Any, ctx: Context) -> Decision:
        return self._set_status(self._counter(ctx).id, "open", ctx, ctx.device)

    def _counter_pause(self, cmd: Any, ctx: Context) -> Decision:
        return self._set_status(self._counter(ctx).id, "paused", ctx, ctx.device, cmd.reason)

    def _counter_close(self, cmd: Any, ctx: Context) -> Decision:
        return self._set_status(self._counter(ctx).id, "closed", ctx, ctx.device)

    def _rating_submit(self, cmd: Any, ctx: Context) -> Decision:
        c = self._counter(ctx)
        t = self.state.tickets.get(cmd.ticket_id)
        if t is None:
            raise DomainError(ErrorCode.NOT_FOUND, "No ticket of today has this id")
        if t.status != "served" or t.served_by != c.id:
            raise DomainError(ErrorCode.NOT_ALLOWED, "Only a ticket served at this counter can be rated here")
        if t.rating is not None:
            raise DomainError(ErrorCode.NOT_ALLOWED, "This ticket has already been rated")
        e = ev.NewEvent(ev.RATING_SUBMITTED, ctx.now.isoformat(),
                        {"ticket_id": t.id, "counter": c.id, "sector": t.sector, "procedure": t.procedure,
                         "score": cmd.score})
        return Decision([e], lambda s: {"rating": {"ticket_id": t.id, "score": cmd.score}})

    # --- managers and citizens (web / CLI) -----------------------------------

    def _counter_set_status(self, cmd: SetCounterStatus, ctx: Context) -> Decision:
        if cmd.status not in ("open", "paused", "closed"):
            raise DomainError(ErrorCode.BAD_REQUEST, "Status must be open, paused or closed")
        if cmd.reason is not None and cmd.reason not in BREAK_REASONS:
            raise DomainError(ErrorCode.BAD_REQUEST, "Unknown break reason")
        return self._set_status(cmd.counter, cmd.status, ctx, cmd.by, cmd.reason)

    def _counter_set_sectors(self, cmd: SetCounterSectors, ctx: Context) -> Decision:
        conf = self.config.counter_by_id.get(cmd.counter)
        if conf is None:
            raise DomainError(ErrorCode.NOT_FOUND, "Unknown counter")
        sectors = list(dict.fromkeys(cmd.sectors))
        if not sectors:
            raise DomainError(ErrorCode.BAD_REQUEST, "A counter needs at least one sector")
        unknown = [s for s in sectors if s not in self.config.sector_by_id]
        if unknown:
            raise DomainError(ErrorCode.UNKNOWN_SECTOR, "Unknown sector")
        untrained = [s for s in sectors if s not in conf.trained]
        if untrained and not cmd.override:
            raise DomainError(ErrorCode.NOT_ALLOWED, "The counter is not trained for that sector; use an override")
        if untrained and not (cmd.reason or "").strip():
            raise DomainError(ErrorCode.BAD_REQUEST, "An override needs a reason")
        e = ev.NewEvent(ev.COUNTER_SECTORS, ctx.now.isoformat(),
                        {"counter": cmd.counter, "sectors": sectors, "previous": list(self.state.counters[cmd.counter].sectors),
                         "override": bool(untrained), "reason": cmd.reason, "by": cmd.by})
        return Decision([e], lambda s: {"counter": {"id": cmd.counter, "sectors": list(s.counters[cmd.counter].sectors)}})

    def _site_set_auto(self, cmd: SetAutoMode, ctx: Context) -> Decision:
        events = [] if self.state.auto_mode == cmd.on else [
            ev.NewEvent(ev.AUTO_MODE, ctx.now.isoformat(), {"on": cmd.on, "by": cmd.by})]
        return Decision(events, lambda s: {"auto_mode": s.auto_mode})

    def _ticket_cancel(self, cmd: CancelTicket, ctx: Context) -> Decision:
        tid = self.state.by_token.get(cmd.token)
        t = self.state.tickets.get(tid) if tid else None
        if t is None:
            raise DomainError(ErrorCode.NOT_FOUND, "No ticket of today has this link")
        if t.status != "waiting":
            raise DomainError(ErrorCode.NOT_ALLOWED, "Only a waiting ticket can be cancelled")
        e = ev.NewEvent(ev.TICKET_CANCELLED, ctx.now.isoformat(), {"ticket_id": t.id, "by": "citizen"})
        return Decision([e], lambda s: ReplyResult.build(ticket=ticket_public(s.tickets[t.id])))

    def _device_help(self, cmd: HelpRequest, ctx: Context) -> Decision:
        e = ev.NewEvent(ev.DEVICE_HELP, ctx.now.isoformat(), {"device": cmd.device, "kind": cmd.kind})
        return Decision([e], lambda s: {"help": True})

    # --- messages to citizens' phones (notices.py) ----------------------------

    def _notify_due(self, cmd: QueueNotices, ctx: Context) -> Decision:
        events = notices.due(self.state, self.config, ctx.now)
        return Decision(events, lambda s: {"queued": len(events)})

    def _notify_sent(self, cmd: NotifySent, ctx: Context) -> Decision:
        return Decision(notices.closed_event(self.state, cmd.id, ctx.now.isoformat(), True, attempts=cmd.attempts),
                        lambda s: {"id": cmd.id})

    def _notify_failed(self, cmd: NotifyFailed, ctx: Context) -> Decision:
        return Decision(notices.closed_event(self.state, cmd.id, ctx.now.isoformat(), False, reason=cmd.reason,
                                             attempts=cmd.attempts, last_error=cmd.last_error),
                        lambda s: {"id": cmd.id})

    # --- hours ---------------------------------------------------------------

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.config.site.tz).time()
        return any(a <= local < b for a, b in self.config.site.periods)


def _issued_epoch(t: Ticket) -> float:
    return datetime.fromisoformat(t.issued_at).timestamp()


# Each command type and the rule that decides it. Written out (not found by name) so that a
# search for a command type finds its handler, and only these names can ever be dispatched to.
HANDLERS: dict[str, Callable[[QueueCore, Any, Context], Decision]] = {
    "ticket.issue": QueueCore._ticket_issue,
    "guidance.online": QueueCore._guidance_online,
    "call.next": QueueCore._call_next,
    "call.number": QueueCore._call_number,
    "call.recall": QueueCore._call_recall,
    "serve.done": QueueCore._serve_done,
    "serve.no_show": QueueCore._serve_no_show,
    "serve.transfer": QueueCore._serve_transfer,
    "visit.add": QueueCore._visit_add,
    "visit.drop": QueueCore._visit_drop,
    "counter.open": QueueCore._counter_open,
    "counter.pause": QueueCore._counter_pause,
    "counter.close": QueueCore._counter_close,
    "rating.submit": QueueCore._rating_submit,
    "counter.set_status": QueueCore._counter_set_status,
    "counter.set_sectors": QueueCore._counter_set_sectors,
    "site.set_auto": QueueCore._site_set_auto,
    "ticket.cancel": QueueCore._ticket_cancel,
    "device.help": QueueCore._device_help,
    # issue #16 (bookings.py)
    "booking.create": bookings.create,
    "booking.cancel": bookings.cancel,
    "booking.move": bookings.move,
    "booking.check_in": bookings.check_in,
    "ticket.remote": bookings.remote,
    "slot.close": bookings.close,
    # messages to citizens' phones (notices.py)
    "notify.due": QueueCore._notify_due,
    "notify.sent": QueueCore._notify_sent,
    "notify.failed": QueueCore._notify_failed,
}

# Commands whose events need the command's randomness (Context.token): a ticket's tracking token,
# a booking's code. The service draws one for these only.
NEEDS_TOKEN = frozenset({"ticket.issue", "booking.create", "booking.check_in", "ticket.remote"})


# --- the pipeline ------------------------------------------------------------------------

def fold_in(state: SiteState, new_events: list[ev.NewEvent], source: str | None = None,
            req_id: str | None = None, out: list[ev.Event] | None = None) -> list[ev.Event]:
    """Number `new_events` after the state's last seq (site-wide, gap-free) and fold each into
    `state`; the numbered events. Each is also appended to `out` as soon as it is folded in, so
    a caller that must persist what the state holds has it even if a later fold raises.
    `source` is the event's device field (the service: "kind/device")."""
    done: list[ev.Event] = []
    for ne in new_events:
        e = ev.Event(state.last_seq + 1, ne.type, ne.ts, ne.data, source, req_id)
        state.apply(e)
        done.append(e)
        if out is not None:
            out.append(e)
    return done


def execute(core: QueueCore, kind: str, cmd: Any, ctx: Context, source: str | None = None,
            req_id: str | None = None, out: list[ev.Event] | None = None) -> Outcome:
    """decide -> number -> apply -> reply: one command through the domain, the same way for the
    live service, the simulator, the benchmarks and the tests. The events are folded in even
    when the command is refused (a call.next that finds no one still ends the current service);
    the reply is read from the state after them. `source`, `req_id`, `out`: see `fold_in`."""
    decision = core.decide(kind, cmd, ctx)
    events = fold_in(core.state, decision.events, source, req_id, out)
    if decision.error is not None:
        return Outcome(events, error=decision.error)
    return Outcome(events, result=decision.result(core.state) if decision.result else {})
