"""Messages to citizens' phones (issue #16, docs/appointments.md "Messages to the citizen's phone"):
which are due, and the outbox they wait in. Pure like the rest of the domain.

The outbox is the event log itself: `notify.queued` opens a message (with the phone: the one
event that copies it, never published on events/log), `notify.sent` or `notify.failed` closes
it. The state keeps the open ones (`SiteState.notify_pending`, in snapshots too), so the notifier
(queue_server/notify/) finds them after a restart, and nothing queued is lost.

What is due (`due`, asked by the service's tick through the command `notify.due`), only for a
site with a `notify:` section and only for a booking that gave a phone:

- a **reminder** `remind_before_h` hours before a booked slot, while it is still booked; one per
  lead and slot (a moved booking is reminded of its new slot); after an outage only the nearest
  lead's; none for a lead whose time had passed when the booking was made (they have just booked);
- **"your turn is near"** once `turn_near_ahead` or fewer are ahead of a ticket taken from a
  phone and not yet checked in: its citizen is away. Once checked in they are in the hall, whose
  display and voice call them, and the booking's phone is forgotten (fold.py);
- a **closure's notice** for a booking that a manager's closure cancelled, with the next free
  slot it was offered (bookings.close), until the closed slot's end.

A message's id says which site, booking or ticket and which message it is, so the same message
always has the same id: the gateway drops a repeat by it (webhook.DELIVERY_HEADER), which is
what makes a restart between the gateway's answer and `notify.sent` harmless. The words are made
by the notifier from `protocol/booking_texts.py` (the domain reads no catalogue).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from queue_server.domain import events as ev

if TYPE_CHECKING:
    from queue_server.domain.site import SiteConfig
    from queue_server.domain.state import SiteState

REMINDER, TURN_NEAR, CLOSURE = "reminder", "turn_near", "closure"
KINDS = (REMINDER, TURN_NEAR, CLOSURE)
# A queued message's id is remembered this long after the message's use has passed (its
# expires_epoch), so that it is never queued twice; then forgotten (memory stays flat).
FORGET_AFTER_S = 24 * 3600


def due(state: SiteState, config: SiteConfig, now: datetime) -> list[ev.NewEvent]:
    """The notify.queued events of the messages due now (none without `notify:` or bookings)."""
    from queue_server.domain import estimate     # here: estimate needs the state, whose fold needs this module
    cfg = config.notify
    if cfg is None or config.bookings is None or not state.bookings:
        return []
    t = now.timestamp()
    ts = now.isoformat()
    out: list[ev.NewEvent] = []
    for b in state.bookings.values():
        if not b.phone:
            continue
        base = {"code": b.code, "phone": b.phone, "lang": b.lang, "sector": b.sector, "procedure": b.procedure}
        if b.status == "cancelled" and b.cancel_reason == "closed" and b.slot is not None:
            ends = (b.slot_epoch or t) + (b.slot_s or 0)
            if t < ends:        # (a closure's slot already over when notify: was set up: nothing to say)
                out.append(_queued(ts, f"{config.id}.{b.code}.{b.slot}.closure", CLOSURE, base, ends,
                                   slot=b.slot, offer=b.offer))
        elif b.status == "booked" and b.kind == "slot" and b.slot_epoch is not None and t < b.slot_epoch:
            for lead_h in sorted(cfg.remind_before_h):      # the nearest lead that is due, only
                at = b.slot_epoch - lead_h * 3600
                if at > t:
                    continue
                nid = f"{config.id}.{b.code}.{b.slot}.r{lead_h:g}"
                if b.created_epoch <= at and nid not in state.notified:
                    out.append(_queued(ts, nid, REMINDER, base, b.slot_epoch, slot=b.slot, lead_h=lead_h))
                break
    if cfg.turn_near_ahead > 0:
        for tid in state.held:
            tk = state.tickets[tid]
            b = state.bookings.get(tk.booking or "") if tk.booking_kind == "remote" else None
            if b is None or not b.phone or b.status != "booked":
                continue
            ahead = estimate.ahead_of(state, tk.sector, tk.rank, tk.order)
            if ahead <= cfg.turn_near_ahead:
                base = {"code": b.code, "phone": b.phone, "lang": b.lang, "sector": b.sector,
                        "procedure": b.procedure}
                out.append(_queued(ts, f"{config.id}.{tk.id}.near", TURN_NEAR, base,
                                   tk.arrive_by_epoch or t, ticket_id=tk.id, number=tk.number, ahead=ahead,
                                   arrive_by_epoch=tk.arrive_by_epoch))
    return out


def _queued(ts: str, nid: str, kind: str, base: dict[str, Any], expires_epoch: float,
            **facts: Any) -> ev.NewEvent:
    return ev.NewEvent(ev.NOTIFY_QUEUED, ts, {"id": nid, "kind": kind, **base, "expires_epoch": expires_epoch,
                                             **facts})


def closed_event(state: SiteState, nid: str, ts: str, sent: bool, **facts: Any) -> list[ev.NewEvent]:
    """notify.sent / notify.failed for an open message; nothing for one already closed (the
    notifier's report repeated after a restart)."""
    d = state.notify_pending.get(nid)
    if d is None:
        return []
    return [ev.NewEvent(ev.NOTIFY_SENT if sent else ev.NOTIFY_FAILED, ts,
                        {"id": nid, "kind": d["kind"], "code": d.get("code"), **facts})]


# --- the fold (fold.HANDLERS) ----------------------------------------------------------------------

def fold_queued(s: SiteState, d: dict, e: ev.Event) -> None:
    s.notify_pending[d["id"]] = d
    s.notified[d["id"]] = float(d.get("expires_epoch") or 0.0)
    if d["kind"] in (TURN_NEAR, CLOSURE):     # the last message this booking owes: its phone goes
        b = s.bookings.get(d.get("code") or "")
        if b is not None:
            b.phone = None
    now = datetime.fromisoformat(e.ts).timestamp()
    for nid in [k for k, until in s.notified.items() if until + FORGET_AFTER_S < now and k not in s.notify_pending]:
        del s.notified[nid]


def fold_closed(s: SiteState, d: dict, e: ev.Event) -> None:
    s.notify_pending.pop(d["id"], None)
