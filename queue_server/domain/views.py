"""Projections of the state that devices read: the board, a counter's state, a sector's stats.

Each is built through its model in protocol/messages.py (docs/protocol.md), which declares every field.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from protocol.messages import (MAX_VISIT_PROCEDURES, SHOWN_WAIT, Board, BoardCounter, BoardSector, BoardSite,
                               CounterServing, CounterState, RecentCall, SectorStats, Serving, wait_fields)
from queue_server.domain import bookings, closing, estimate, visits
from queue_server.domain import events as ev
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState


def counter_status(state: SiteState, counter: str) -> str:
    c = state.counters[counter]
    if c.serving and c.status != "closed":
        return "serving"
    return c.status


def serving_of(state: SiteState, counter: str) -> dict[str, Any] | None:
    t = state.counter_serving(counter)
    if t is None:
        return None
    return CounterServing.build(number=t.number, sector=t.sector, called_at=t.called_at, ticket_id=t.id,
                                procedure=t.procedure, priority=t.priority, **visits.step_fields(t),
                                **({"visit": visits.view(t)} if t.visit else {}))


def break_fields(state: SiteState, counter: str) -> dict[str, Any]:
    """{"break_reason": ...} while the counter is on a break (paused); {} otherwise."""
    c = state.counters[counter]
    return {"break_reason": c.break_reason or "other"} if c.status == "paused" else {}


def cap_fields(state: SiteState, config: SiteConfig, sector: str, procedures: bool = False) -> dict[str, Any]:
    """What is left today under the sector's daily cap (`remaining_today`) and, with `procedures`,
    under each of its procedures' (`procedures_remaining`); {} when nothing is capped."""
    conf = config.sector_by_id[sector]
    st = state.sectors[sector]
    out: dict[str, Any] = {}
    if conf.daily_cap is not None:
        out["remaining_today"] = max(0, conf.daily_cap - st.taken_today)
    if procedures:
        left = {p.id: max(0, p.daily_cap - st.procedures_taken_today.get(p.id, 0))
                for p in conf.procedures if p.daily_cap is not None}
        if left:
            out["procedures_remaining"] = left
    return out


def counter_state(state: SiteState, config: SiteConfig, counter: str, now: datetime) -> dict[str, Any]:
    c = state.counters[counter]
    conf = config.counter_by_id[counter]
    return CounterState.build(ts=now.isoformat(), seq=state.last_seq, counter=counter,
                              label=conf.label.vi, label_i18n=conf.label.model_dump(),
                              status=counter_status(state, counter), sectors=list(c.sectors),
                              trained=list(conf.trained), serving=serving_of(state, counter),
                              served_today=c.served_today, last_served=c.last_served,
                              waiting={s: state.waiting_count(s) for s in c.sectors}, **break_fields(state, counter))


# Events after which every sector's stats are published again (every sector's wait may change).
_EVERY_SECTOR = frozenset({ev.DAY_STARTED, ev.COUNTER_SECTORS, ev.COUNTER_STATUS, ev.AUTO_MODE})
# Events that take or give back a whole visit's numbers under the daily caps (fold.count_taken, _give_back).
_CAP_EVENTS = frozenset({ev.TICKET_ISSUED, ev.TICKET_CANCELLED, ev.TICKET_LAPSED, ev.TICKET_NO_SHOW})
# Events that change a ticket's sector's queue or counts (a recall or a rating does not).
_TICKET_MOVES = frozenset({*_CAP_EVENTS, ev.TICKET_CALLED, ev.TICKET_SERVED, ev.TICKET_TRANSFERRED,
                           ev.TICKET_RELEASED, ev.VISIT_NEXT, ev.VISIT_CHANGED})


def sectors_changed(state: SiteState, e: ev.Event) -> set[str]:
    """The sectors whose stats (sector.stats, the board's rows) an event changed, read once it is
    folded in: the sectors it names, its ticket's, every sector a visit's procedures count against
    under the daily caps (an issue takes them, a cancel, a lapse or a no-show gives them back), and
    a booking's (its slots feed `procedures_next_booking`: a move or a cancel frees one)."""
    if e.type in _EVERY_SECTOR:
        return set(state.sectors)
    d = e.data
    out = {d[k] for k in ("sector", "to_sector", "from_sector") if isinstance(d.get(k), str)}
    ticket = d.get("ticket")
    t = state.tickets.get(ticket["id"] if isinstance(ticket, dict) else d.get("ticket_id") or "")
    if t is not None and e.type in _TICKET_MOVES:
        out.add(t.sector)
        if e.type in _CAP_EVENTS:
            out.update(p["sector"] for p in t.visit)
    b = state.bookings.get(d.get("code") or "")
    if b is not None:
        out.add(b.sector)
    return out & set(state.sectors)


def sector_waits(state: SiteState, config: SiteConfig) -> dict[str, int]:
    """Every sector's expected wait, computed once to be shared by the board and the sector stats."""
    return estimate.shown_waits(state, config)


def sector_stats(state: SiteState, config: SiteConfig, sector: str, now: datetime,
                 waits: dict[str, int] | None = None) -> dict[str, Any]:
    st = state.sectors[sector]
    conf = config.sector_by_id[sector]
    waiting = state.waiting_in(sector)
    oldest = min((t.order for t in waiting), default=None)
    shown = waits[sector] if waits is not None else estimate.shown_wait(state, config, sector)
    return SectorStats.build(
        ts=now.isoformat(), seq=state.last_seq, sector=sector, waiting=len(waiting),
        **wait_fields(SHOWN_WAIT, shown),
        served_today=st.served_today, issued_today=st.issued_today, no_show_today=st.no_show_today,
        oldest_wait_s=0 if oldest is None else max(0, int(now.timestamp() - oldest)),
        target_wait_s=int(conf.target_wait_min * 60),
        mean_service_s=int(estimate.mean_service_s(state, config, sector)),
        counters=[c.id for c in state.counters.values() if sector in c.sectors and c.status != "closed"],
        **cap_fields(state, config, sector, procedures=True), past_closing=closing.past_closing(config, now, shown),
        **next_bookings(state, config, sector, now))


def next_bookings(state: SiteState, config: SiteConfig, sector: str, now: datetime) -> dict[str, Any]:
    """`procedures_next_booking`: each capped procedure's first free booking slot (its start),
    offered by the kiosk when today's numbers are gone; {} when the site takes no bookings or
    nothing is near its cap. Only procedures with fewer numbers left (their own cap's or their
    sector's) than one visit may ask for, the only ones the kiosk's cap notice can be about: the
    scan of up to `days_ahead` days of slots is not paid on every stats message of a capped
    sector's day, only near its end."""
    if config.bookings is None:
        return {}
    conf = config.sector_by_id[sector]
    left = cap_fields(state, config, sector, procedures=True)
    sector_left = left.get("remaining_today")
    capped = [p.id for p in conf.procedures
              if min((n for n in (sector_left, left.get("procedures_remaining", {}).get(p.id)) if n is not None),
                     default=MAX_VISIT_PROCEDURES) < MAX_VISIT_PROCEDURES]
    found = {}
    for procedure in capped:
        slot = bookings.next_free(state, config, procedure, now, now)
        if slot is not None:
            found[procedure] = bookings.parse_slot(config, slot)[0].isoformat()
    return {"procedures_next_booking": found} if found else {}


def board(state: SiteState, config: SiteConfig, now: datetime, waits: dict[str, int] | None = None) -> dict[str, Any]:
    waits = waits if waits is not None else sector_waits(state, config)
    counters = []
    for conf in config.counters:
        c = state.counters[conf.id]
        serving = serving_of(state, conf.id)
        counters.append(BoardCounter.build(
            id=conf.id, label=conf.label.vi, label_en=conf.label.en, status=counter_status(state, conf.id),
            sectors=list(c.sectors),
            serving=None if serving is None else Serving.build(
                number=serving["number"], sector=serving["sector"], called_at=serving["called_at"],
                **{k: serving[k] for k in ("step", "steps") if k in serving}),
            **break_fields(state, conf.id)))
    recent = [RecentCall.build(number=r["number"], counter=r["counter"],
                               counter_label=config.counter_by_id[r["counter"]].label.vi,
                               counter_label_en=config.counter_by_id[r["counter"]].label.en,
                               sector=r["sector"], at=r["at"], **{k: r[k] for k in ("step", "steps") if k in r})
              for r in state.recent_calls]
    sectors = [BoardSector.build(id=s.id, name=s.name.model_dump(), prefix=s.prefix,
                                 waiting=state.waiting_count(s.id), **wait_fields(SHOWN_WAIT, waits[s.id]),
                                 target_wait_s=int(s.target_wait_min * 60), **cap_fields(state, config, s.id),
                                 past_closing=closing.past_closing(config, now, waits[s.id]))
               for s in config.sectors]
    return Board.build(ts=now.isoformat(), seq=state.last_seq,
                       site=BoardSite.build(id=config.site.id, name=config.site.name.model_dump(),
                                            timezone=config.site.timezone),
                       day=state.day, auto_mode=state.auto_mode,
                       counters=counters, recent_calls=recent, sectors=sectors)
