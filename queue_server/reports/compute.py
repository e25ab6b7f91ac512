"""Fold events into ticket and visit records, then summarise them (see the package docstring)."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from queue_server.domain import events as ev
from queue_server.domain.events import Event
from queue_server.domain.site import SiteConfig
from queue_server.domain.stats import percentile_nearest_rank

SCORES = (4, 3, 2, 1)          # Rất hài lòng, Hài lòng, Bình thường, Không hài lòng
SATISFIED = (4, 3)


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class TicketRecord:
    id: str
    number: str
    day: str
    sector: str                       # the sector it was issued for
    procedure: str | None
    priority: str
    issued: datetime
    status: str = "waiting"           # waiting | called | served | no_show | cancelled | expired
    wait_s: float | None = None       # issue -> first call
    first_counter: str | None = None
    service_s: float = 0.0            # summed over visits that ended served
    outcome: str | None = None
    rating: int | None = None
    transferred: bool = False
    final_sector: str | None = None
    # A visit of several procedures is one record per procedure (the Decision 766 figures count
    # each): the first has the ticket's id, a later one "<id>#<step>" and its own sector,
    # procedure and wait (in its own queue); `citizen` is the ticket's id on each.
    citizen: str | None = None


@dataclass
class Visit:
    """One call of a ticket at a counter, until served / no-show / transferred."""
    ticket_id: str
    counter: str
    sector: str
    day: str
    called: datetime
    wait_s: float | None              # since it (re)joined the queue; None after a transfer
    end: str = "open"                 # open | served | no_show | transferred
    service_s: float | None = None
    outcome: str | None = None
    rating: int | None = None
    clerk: str | None = None


@dataclass
class GroupRow:
    """One line of a report table."""
    key: str
    name_vi: str
    name_en: str
    tickets: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    called: int = 0
    mean_wait_s: float | None = None
    p90_wait_s: float | None = None
    within_target: int = 0
    within_target_pct: float | None = None
    mean_service_s: float | None = None
    ratings: dict[int, int] = field(default_factory=lambda: {s: 0 for s in SCORES})
    satisfied_pct: float | None = None

    COLUMNS = ("key", "name_vi", "name_en", "tickets", "served", "no_show", "cancelled", "called", "mean_wait_s",
               "p90_wait_s", "within_target", "within_target_pct", "mean_service_s", "rating_4", "rating_3",
               "rating_2", "rating_1", "satisfied_pct")

    def as_row(self) -> dict[str, Any]:
        out = {c: getattr(self, c) for c in self.COLUMNS if not c.startswith("rating_")}
        for s in SCORES:
            out[f"rating_{s}"] = self.ratings[s]
        return {c: _round(out[c]) for c in self.COLUMNS}


def _round(v: Any) -> Any:
    return round(v, 1) if isinstance(v, float) else v


@dataclass
class Report:
    first_day: str
    last_day: str
    site: dict[str, str]
    tickets: list[TicketRecord]
    visits: list[Visit]
    guided_online: list[dict[str, Any]]       # guidance.given events in the period
    help_requests: int
    total: GroupRow
    by_sector: list[GroupRow]
    by_counter: list[GroupRow]
    by_procedure: list[GroupRow]
    by_clerk: list[GroupRow]
    hourly: dict[str, Any]
    utilisation: list[dict[str, Any]]
    indicators: list[dict[str, Any]] = field(default_factory=list)
    # Time on a break per reason (protocol.messages.BREAK_REASONS) and counter:
    # [{"counter", "reason", "breaks", "seconds"}], and per reason over every counter.
    breaks: list[dict[str, Any]] = field(default_factory=list)
    breaks_by_reason: dict[str, float] = field(default_factory=dict)
    # Bookings and remote tickets (reports/bookings.py): the share of citizens who booked,
    # no-shows and punctuality per sector and slot
    bookings: dict[str, Any] = field(default_factory=dict)

    @property
    def visit_count(self) -> int:
        """Citizens' visits (tickets), each counted once however many procedures it had."""
        return len({t.citizen or t.id for t in self.tickets})

    @property
    def procedure_count(self) -> int:
        return len(self.tickets)

    def tables(self) -> dict[str, list[GroupRow]]:
        return {"sector": self.by_sector, "counter": self.by_counter, "procedure": self.by_procedure,
                "clerk": self.by_clerk, "total": [self.total]}

    def to_dict(self) -> dict[str, Any]:
        return {"first_day": self.first_day, "last_day": self.last_day, "site": self.site,
                "tables": {k: [r.as_row() for r in rows] for k, rows in self.tables().items()},
                "hourly": self.hourly, "utilisation": self.utilisation, "indicators": self.indicators,
                "guided_online": len(self.guided_online), "help_requests": self.help_requests,
                "visits": self.visit_count, "procedures": self.procedure_count,
                "breaks": self.breaks, "breaks_by_reason": self.breaks_by_reason, "bookings": self.bookings}


def _local(ts: str, config: SiteConfig) -> datetime:
    return datetime.fromisoformat(ts).astimezone(config.site.tz)


def _clerk_for(sessions: list[Any], counter: str, at: datetime) -> str | None:
    for s in sessions:
        if s.counter != counter:
            continue
        start = datetime.fromisoformat(s.started)
        end = datetime.fromisoformat(s.ended) if s.ended else None
        if start <= at and (end is None or at < end):
            return s.username
    return None


def _summarise(key: str, name_vi: str, name_en: str, tickets: list[TicketRecord] | None = None,
               visits: list[Visit] | None = None, config: SiteConfig | None = None) -> GroupRow:
    row = GroupRow(key, name_vi, name_en)
    waits: list[float] = []
    services: list[float] = []
    targets = {s.id: s.target_wait_min * 60 for s in config.sectors} if config else {}
    if tickets is not None:
        row.tickets = len(tickets)
        for t in tickets:
            row.served += t.status == "served"
            row.no_show += t.status == "no_show"
            row.cancelled += t.status == "cancelled"
            if t.wait_s is not None:
                row.called += 1
                waits.append(t.wait_s)
                row.within_target += t.wait_s <= targets.get(t.sector, math.inf)
            if t.status == "served":
                services.append(t.service_s)
            if t.rating in row.ratings:
                row.ratings[t.rating] += 1
    else:
        visits = visits or []
        row.tickets = len({v.ticket_id for v in visits})
        for v in visits:
            row.called += 1
            row.served += v.end == "served"
            row.no_show += v.end == "no_show"
            if v.wait_s is not None:
                waits.append(v.wait_s)
                row.within_target += v.wait_s <= targets.get(v.sector, math.inf)
            if v.end == "served" and v.service_s is not None:
                services.append(v.service_s)
            if v.rating in row.ratings:
                row.ratings[v.rating] += 1
    row.mean_wait_s = mean(waits)
    row.p90_wait_s = percentile_nearest_rank(waits, 90)   # why nearest rank: domain/stats.py
    row.within_target_pct = 100.0 * row.within_target / len(waits) if waits else None
    row.mean_service_s = mean(services)
    rated = sum(row.ratings.values())
    row.satisfied_pct = 100.0 * sum(row.ratings[s] for s in SATISFIED) / rated if rated else None
    return row


def build_report(events: Iterable[Event], config: SiteConfig, first_day: str, last_day: str,
                 clerk_sessions: list[Any] | None = None, now: datetime | None = None) -> Report:
    """Summarise the tickets of local days first_day..last_day (ISO dates, inclusive).

    `clerk_sessions`: objects with username, counter, started, ended (ISO), from `queue_server.users`.
    `now`: the end of the open day for utilisation (default: its last event)."""
    from queue_server.reports.bookings import BookingTally
    from queue_server.reports.indicators import indicators_766
    booking_tally = BookingTally()
    sessions = list(clerk_sessions or [])
    tickets: dict[str, TicketRecord] = {}
    open_visit: dict[str, Visit] = {}
    visits: list[Visit] = []
    guided: list[dict[str, Any]] = []
    help_requests = 0
    # counter utilisation: status timeline per counter and day
    status = {c.id: c.initial_status for c in config.counters}
    open_since: dict[str, datetime | None] = {}
    open_s: dict[tuple[str, str], float] = defaultdict(float)
    day_of_event: str | None = None
    last_local: datetime | None = None
    current: dict[str, str] = {}                 # ticket id -> the record of its current procedure
    on_break: dict[str, tuple[str, datetime, str | None]] = {}   # counter -> (reason, since, day)
    break_s: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])   # (counter, reason) -> [n, s]

    def end_break(cid: str, at: datetime) -> None:
        held = on_break.pop(cid, None)
        if held is not None and held[2] and in_range(held[2]):
            row = break_s[(cid, held[0])]
            row[0] += 1
            row[1] += max(0.0, (at - held[1]).total_seconds())

    def record(tid: str) -> TicketRecord | None:
        return tickets.get(current.get(tid, tid))

    def in_range(day: str) -> bool:
        return first_day <= day <= last_day

    def close_open_time(at: datetime) -> None:
        for cid, since in list(open_since.items()):
            if since is not None and day_of_event and in_range(day_of_event):
                open_s[(cid, day_of_event)] += max(0.0, (at - since).total_seconds())
            open_since[cid] = at if status.get(cid) == "open" else None

    for e in events:
        at = _local(e.ts, config)
        d = e.data
        booking_tally.take(e)
        if e.type == ev.DAY_STARTED:
            if last_local is not None:
                close_open_time(last_local)
                for cid in list(on_break):      # a break still on at the end of the day ends with it
                    end_break(cid, last_local)
            for tid in d.get("expired", ()):
                t = record(tid)
                if t is not None and t.status in ("waiting", "called"):
                    t.status = "expired"
            open_visit.clear()
            day_of_event = d.get("day")
            open_since = {cid: (at if st == "open" else None) for cid, st in status.items()}
        last_local = at
        if e.type == ev.TICKET_ISSUED:
            t = d["ticket"]
            tickets[t["id"]] = TicketRecord(t["id"], t["number"], t["day"], t["sector"], t.get("procedure"),
                                            t.get("priority", "normal"), _local(t["issued_at"], config),
                                            final_sector=t["sector"])
        elif e.type == ev.VISIT_NEXT:
            first = record(d["ticket_id"])
            if first is None:
                continue
            key = f"{d['ticket_id']}#{d['step']}"
            current[d["ticket_id"]] = key
            tickets[key] = TicketRecord(key, first.number, first.day, d["sector"], d.get("procedure"), first.priority,
                                        at, final_sector=d["sector"], citizen=d["ticket_id"])
            first.citizen = d["ticket_id"]
        elif e.type == ev.TICKET_CALLED:
            t = record(d["ticket_id"])
            if t is None:
                continue
            if t.wait_s is None:
                t.wait_s = float(d.get("wait_s") or 0.0)
                t.first_counter = d["counter"]
            t.status = "called"
            since = d.get("since_queued_s")
            v = Visit(d["ticket_id"], d["counter"], d.get("sector", t.final_sector), t.day, at,
                      None if since is None else float(since), clerk=_clerk_for(sessions, d["counter"], at))
            open_visit[t.id] = v
            visits.append(v)
        elif e.type in (ev.TICKET_SERVED, ev.TICKET_NO_SHOW, ev.TICKET_TRANSFERRED):
            t = record(d["ticket_id"])
            v = open_visit.pop(d["ticket_id"], None)
            if t is None:
                continue
            if e.type == ev.TICKET_SERVED:
                t.status = "served"
                t.outcome = d.get("outcome", "completed")
                t.service_s += float(d.get("service_s") or 0.0)
                if v:
                    v.end, v.service_s, v.outcome = "served", float(d.get("service_s") or 0.0), t.outcome
            elif e.type == ev.TICKET_NO_SHOW:
                t.status = "no_show"
                if v:
                    v.end = "no_show"
            else:
                t.status = "waiting"
                t.transferred = True
                t.final_sector = d["to_sector"]
                if v:
                    v.end, v.service_s = "transferred", float(d.get("service_s") or 0.0)
        elif e.type == ev.TICKET_CANCELLED:
            t = record(d["ticket_id"])
            if t is not None:
                t.status = "cancelled"
        elif e.type == ev.RATING_SUBMITTED:
            t = record(d["ticket_id"])
            if t is not None and t.rating is None:
                t.rating = int(d["score"])
                for v in reversed(visits):
                    if v.ticket_id == d["ticket_id"] and v.end == "served":
                        v.rating = t.rating
                        break
        elif e.type == ev.GUIDANCE_GIVEN:
            day = at.date().isoformat()
            if in_range(day):
                guided.append({"day": day, "procedure": d.get("procedure"), "sector": d.get("sector"),
                               "online": d.get("online")})
        elif e.type == ev.DEVICE_HELP:
            help_requests += in_range(at.date().isoformat())
        elif e.type == ev.COUNTER_STATUS:
            cid = d["counter"]
            since = open_since.get(cid)
            if since is not None and day_of_event and in_range(day_of_event):
                open_s[(cid, day_of_event)] += max(0.0, (at - since).total_seconds())
            status[cid] = d["status"]
            open_since[cid] = at if d["status"] == "open" else None
            end_break(cid, at)
            if d["status"] == "paused":
                on_break[cid] = (d.get("reason") or "other", at, day_of_event)
    end = now.astimezone(config.site.tz) if now is not None else last_local
    if end is not None:
        close_open_time(end)
        for cid in list(on_break):
            end_break(cid, end)

    chosen = [t for t in tickets.values() if in_range(t.day)]
    chosen_visits = [v for v in visits if in_range(v.day)]
    total = _summarise("all", "Toàn trung tâm", "Whole centre", tickets=chosen, config=config)

    by_sector = [_summarise(s.id, s.name.vi, s.name.en, tickets=[t for t in chosen if t.sector == s.id],
                            config=config) for s in config.sectors]
    by_counter = [_summarise(c.id, c.label.vi, c.label.en, visits=[v for v in chosen_visits if v.counter == c.id],
                             config=config) for c in config.counters]
    by_procedure = []
    for s in config.sectors:
        for p in s.procedures:
            rows = [t for t in chosen if t.procedure == p.id]
            if rows:
                by_procedure.append(_summarise(p.id, p.name.vi, p.name.en, tickets=rows, config=config))
    unspecified = [t for t in chosen if t.procedure is None]
    if unspecified:
        by_procedure.append(_summarise("-", "(không chọn thủ tục)", "(no procedure chosen)", tickets=unspecified,
                                       config=config))
    clerks = sorted({v.clerk for v in chosen_visits if v.clerk})
    by_clerk = [_summarise(c, c, c, visits=[v for v in chosen_visits if v.clerk == c], config=config) for c in clerks]
    no_clerk = [v for v in chosen_visits if not v.clerk]
    if no_clerk and clerks:
        by_clerk.append(_summarise("-", "(không đăng nhập)", "(not signed in)", visits=no_clerk, config=config))

    utilisation = []
    for c in config.counters:
        busy = sum(v.service_s or 0.0 for v in chosen_visits if v.counter == c.id and v.end != "open")
        opened = sum(s for (cid, _), s in open_s.items() if cid == c.id)
        utilisation.append({"counter": c.id, "label": c.label.model_dump(), "busy_s": round(busy, 1),
                            "open_s": round(opened, 1),
                            "utilisation_pct": round(min(100.0, 100.0 * busy / opened), 1) if opened > 0 else None})

    report = Report(first_day, last_day, {"id": config.site.id, "vi": config.site.name.vi, "en": config.site.name.en},
                    chosen, chosen_visits, guided, help_requests, total, by_sector, by_counter, by_procedure,
                    by_clerk, hourly_series(chosen, config), utilisation)
    report.bookings = booking_tally.figures(config, in_range, report.visit_count, chosen)
    report.indicators = indicators_766(report, config)      # reads the bookings (online channels)
    report.breaks = [{"counter": cid, "reason": reason, "breaks": n, "seconds": round(secs, 1)}
                     for (cid, reason), (n, secs) in sorted(break_s.items())]
    for (_, reason), (_, secs) in break_s.items():
        report.breaks_by_reason[reason] = round(report.breaks_by_reason.get(reason, 0.0) + secs, 1)
    return report


def hourly_series(tickets: list[TicketRecord], config: SiteConfig) -> dict[str, Any]:
    """Arrivals per local hour and the mean wait of the citizens first called in that hour, per sector."""
    periods = config.site.periods
    first = min([p[0].hour for p in periods] + [t.issued.hour for t in tickets])
    last = max([p[1].hour for p in periods] + [t.issued.hour for t in tickets])
    hours = list(range(first, last + 1))
    arrivals: dict[str, list[int]] = {s.id: [0] * len(hours) for s in config.sectors}
    wait_sum: dict[str, list[float]] = {s.id: [0.0] * len(hours) for s in config.sectors}
    wait_n: dict[str, list[int]] = {s.id: [0] * len(hours) for s in config.sectors}
    for t in tickets:
        if t.sector not in arrivals:
            continue
        arrivals[t.sector][hours.index(t.issued.hour)] += 1
        if t.wait_s is not None:
            called_hour = (t.issued.timestamp() + t.wait_s)
            h = datetime.fromtimestamp(called_hour, config.site.tz).hour
            if h in hours:
                i = hours.index(h)
                wait_sum[t.sector][i] += t.wait_s
                wait_n[t.sector][i] += 1
    mean_wait = {s: [round(wait_sum[s][i] / wait_n[s][i], 1) if wait_n[s][i] else None for i in range(len(hours))]
                 for s in wait_sum}
    return {"hours": hours, "arrivals": arrivals, "mean_wait_s": mean_wait}
