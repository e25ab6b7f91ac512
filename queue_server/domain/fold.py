"""The fold: how each event changes the state of a site (`apply`, which SiteState.apply calls)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from queue_server.domain import events as ev
from queue_server.domain import notices
from queue_server.domain.learning import (EWMA_ALPHA, RATIO_ALPHA, RATIO_MIN_S, blend, learn_day,
                                          slot_of)
from queue_server.domain.tickets import Ticket

if TYPE_CHECKING:
    from queue_server.domain.state import SiteState


def apply(s: SiteState, event: ev.Event) -> None:
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(s, event.data, event)
    s.last_seq = event.seq
    s.last_event_ts = event.ts


def _day_started(s: SiteState, d: dict, e: ev.Event) -> None:
    learn_day(s)
    s.day = d["day"]
    s.held.clear()
    _forget_old_bookings(s, d["day"])
    # The site's overnight option: yesterday's waiting tickets stay open, in their place.
    carried = [s.tickets[tid] for tid in d.get("carried", ()) if tid in s.tickets]
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
        st.taken_today = 0
        st.procedures_taken_today = {}
    for t in sorted(carried, key=lambda t: t.order):
        s.tickets[t.id] = t
        s.waiting.setdefault(t.sector, {})[t.id] = None
        s.by_token[t.token] = t.id
        s.by_number[t.number] = t.id
    # today's numbers go on after the carried ones: no two citizens hold the same number
    for sector, n in d.get("carried_last", {}).items():
        s.sectors[sector].last_number = n
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
    t.visit = [dict(p) for p in t.visit]
    s.tickets[t.id] = t
    if t.held:      # a booking's early check-in or a remote ticket: in no queue yet (bookings.py)
        s.held[t.id] = None
    else:
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
        st.printed_ratio = blend(st.printed_ratio, ratio, RATIO_ALPHA)
        st.printed_ratio_at = when.timestamp()
    s.last_order = max(s.last_order, t.order)
    count_taken(s, t)


# A ticket that ends without being served (cancelled, lapsed, a no-show) will not be served:
# the daily caps count tickets that will be, so its procedures not served give their numbers back.
_UNSERVED_END = frozenset({"cancelled", "expired", "no_show"})


def _counted(t: Ticket) -> list[tuple[str, str | None]]:
    """The ticket's procedures that count against today's caps now: every one not dropped, or,
    once the ticket has ended unserved, only those already served."""
    procs = t.visit or [{"sector": t.sector, "procedure": t.procedure, "status": "current"}]
    if t.status in _UNSERVED_END:
        return [(p["sector"], p["procedure"]) for p in procs if p["status"] == "done"]
    return [(p["sector"], p["procedure"]) for p in procs if p["status"] != "dropped"]


def count_taken(s: SiteState, t: Ticket) -> None:
    """Count a ticket's procedures (one, or each of its visit's) as taken today (`_counted`)."""
    for sector, procedure in _counted(t):
        if sector in s.sectors:
            _take(s, sector, procedure, 1)


def _give_back(s: SiteState, t: Ticket, before: list[tuple[str, str | None]]) -> None:
    """Give back what the ticket counted (`before`) and no longer does (`_counted` now)."""
    now = list(_counted(t))
    for item in before:
        if item in now:
            now.remove(item)
        elif item[0] in s.sectors:
            _take(s, item[0], item[1], -1)


def _take(s: SiteState, sector: str, procedure: str | None, n: int) -> None:
    """Count a procedure taken (n=1) or given back (n=-1) today, for the daily caps."""
    st = s.sectors[sector]
    st.taken_today += n
    if procedure is not None:
        st.procedures_taken_today[procedure] = st.procedures_taken_today.get(procedure, 0) + n


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
    line = {"number": t.number, "counter": counter, "sector": t.sector, "at": ts}
    if t.visit:
        line.update(step=t.step_number, steps=t.steps)
    s.recent_calls.appendleft(line)


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
    if t.visit:
        t.visit[t.step]["status"] = "done"
    if t.next_step() is None:
        # the rating pad asks once a citizen is done: after a visit's last procedure
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
    st.service_s_ewma = blend(st.service_s_ewma, service_s, EWMA_ALPHA)


def _no_show(s: SiteState, d: dict, e: ev.Event) -> None:
    before = _counted(s.tickets[d["ticket_id"]])
    t = _finish(s, d, e, "no_show")
    if t.visit:
        t.visit[t.step]["status"] = "no_show"
    _give_back(s, t, before)
    s.sectors[t.sector].no_show_today += 1


def _transferred(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets[d["ticket_id"]]
    c = s.counters[d["counter"]]
    if c.serving == t.id:
        c.serving = None
    t.transferred_from.append(t.sector)
    t.sector = d["to_sector"]
    if t.visit:
        t.visit[t.step]["sector"] = t.sector
    t.est_stream_s = None       # what was learned at issue was about the other sector's queue
    t.status = "waiting"
    t.counter = None
    t.called_at = None
    t.called_epoch = None
    s.waiting.setdefault(t.sector, {})[t.id] = None


def _visit_next(s: SiteState, d: dict, e: ev.Event) -> None:
    """The ticket moves on to the visit's next procedure: into that sector's queue, keeping its
    `order` (the transfer rule), its wait there counted from now. A following ticket.called
    calls it at once ("continue here")."""
    t = s.tickets[d["ticket_id"]]
    t.step = d["step"]
    t.visit[t.step]["status"] = "current"
    t.sector, t.procedure = d["sector"], d["procedure"]
    t.status = "waiting"
    t.counter = t.called_at = t.called_epoch = t.finished_at = t.outcome = None
    t.est_stream_s = None
    t.queued_epoch = d["at_epoch"]
    s.waiting.setdefault(t.sector, {})[t.id] = None


def _visit_changed(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets[d["ticket_id"]]
    t.visit = [dict(p) for p in d["visit"]]
    _take(s, d["sector"], d["procedure"], 1 if d["action"] == "add" else -1)


def _cancelled(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets[d["ticket_id"]]
    s.waiting.get(t.sector, {}).pop(t.id, None)
    s.held.pop(t.id, None)
    if t.booking and t.booking_kind == "remote" and t.booking in s.bookings:
        b = s.bookings[t.booking]
        if b.status == "booked":   # the citizen cancelled it on the tracking page
            b.status, b.cancel_reason = "cancelled", "citizen"
    before = _counted(t)
    t.status = "cancelled"
    t.finished_at = e.ts
    _give_back(s, t, before)


def _counter_status(s: SiteState, d: dict, e: ev.Event) -> None:
    c = s.counters[d["counter"]]
    c.status = d["status"]
    # an event from before break reasons (or an older device) is a break for another reason
    c.break_reason = d.get("reason", "other") if c.status == "paused" else None


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


# --- bookings and remote tickets (issue #16, bookings.py) ---------------------------------------

BOOKING_KEEP_S = 8 * 24 * 3600   # past bookings kept this long: the per-week limit counts 7 days


def _forget_old_bookings(s: SiteState, day: str) -> None:
    """Past days' bookings older than the limits need: the log keeps them, memory does not."""
    start = datetime.fromisoformat(day + "T00:00:00").replace(tzinfo=s.tz).timestamp() if s.tz else None
    for b in [b for b in s.bookings.values() if b.day < day]:
        if start is None or b.created_epoch < start - BOOKING_KEEP_S:
            s.unindex_booking(b)
            del s.bookings[b.code]
    s.closures = [c for c in s.closures if c["day"] >= day]


def _booking_created(s: SiteState, d: dict, e: ev.Event) -> None:
    from queue_server.domain.bookings import Booking
    b = Booking(**d)
    s.bookings[b.code] = b
    s.index_booking(b)


def _booking_moved(s: SiteState, d: dict, e: ev.Event) -> None:
    b = s.bookings[d["code"]]
    s.unindex_booking(b)
    b.slot, b.day, b.slot_epoch, b.slot_s = d["slot"], d["day"], d["slot_epoch"], d["slot_s"]
    b.service_s = d.get("service_s", b.service_s)
    s.index_booking(b)


# A booking's phone number is kept only while a message may still be owed to it: the state
# forgets it once the booking is used, lapses, is a no-show or the citizen cancels it (a closure's
# cancellation still owes the citizen its message). The log keeps booking.created as it was.

def _booking_cancelled(s: SiteState, d: dict, e: ev.Event) -> None:
    b = s.bookings[d["code"]]
    b.status, b.cancel_reason, b.offer = "cancelled", d.get("by", "citizen"), d.get("offer")
    if b.cancel_reason == "citizen":
        b.phone = None


def _booking_checked_in(s: SiteState, d: dict, e: ev.Event) -> None:
    b = s.bookings[d["code"]]
    b.status = "late" if d["outcome"] == "late" else "checked_in"
    b.ticket_id, b.outcome, b.checked_in_epoch = d["ticket_id"], d["outcome"], d["at_epoch"]
    b.phone = None


def _booking_no_show(s: SiteState, d: dict, e: ev.Event) -> None:
    b = s.bookings.get(d["code"])
    if b is not None:
        b.status = "no_show"
        b.phone = None


def _released(s: SiteState, d: dict, e: ev.Event) -> None:
    """A held ticket joins its sector's queue at `order`."""
    t = s.tickets[d["ticket_id"]]
    s.held.pop(t.id, None)
    t.held = False
    t.order = d["order"]
    s.last_order = max(s.last_order, t.order)
    s.waiting.setdefault(t.sector, {})[t.id] = None


def _lapsed(s: SiteState, d: dict, e: ev.Event) -> None:
    t = s.tickets[d["ticket_id"]]
    s.held.pop(t.id, None)
    before = _counted(t)
    t.status = "expired"
    t.finished_at = e.ts
    _give_back(s, t, before)
    b = s.bookings.get(d.get("code") or "")
    if b is not None:
        b.status = "lapsed"
        b.phone = None


def _slots_closed(s: SiteState, d: dict, e: ev.Event) -> None:
    s.closures.append({"day": d["day"], "sector": d.get("sector"), "slot": d.get("slot")})


HANDLERS = {
    ev.DAY_STARTED: _day_started, ev.TICKET_ISSUED: _issued, ev.TICKET_CALLED: _called,
    ev.TICKET_RECALLED: _recalled, ev.TICKET_SERVED: _served, ev.TICKET_NO_SHOW: _no_show,
    ev.TICKET_TRANSFERRED: _transferred, ev.TICKET_CANCELLED: _cancelled,
    ev.COUNTER_STATUS: _counter_status, ev.COUNTER_SECTORS: _counter_sectors,
    ev.RATING_SUBMITTED: _rating, ev.GUIDANCE_GIVEN: _guidance, ev.AUTO_MODE: _auto,
    ev.VISIT_NEXT: _visit_next, ev.VISIT_CHANGED: _visit_changed,
    ev.BOOKING_CREATED: _booking_created, ev.BOOKING_MOVED: _booking_moved,
    ev.BOOKING_CANCELLED: _booking_cancelled, ev.BOOKING_CHECKED_IN: _booking_checked_in,
    ev.BOOKING_NO_SHOW: _booking_no_show, ev.TICKET_RELEASED: _released, ev.TICKET_LAPSED: _lapsed,
    ev.SLOTS_CLOSED: _slots_closed,
    ev.NOTIFY_QUEUED: notices.fold_queued, ev.NOTIFY_SENT: notices.fold_closed, ev.NOTIFY_FAILED: notices.fold_closed,
}
