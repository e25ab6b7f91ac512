"""Domain events. Every change of a site is one of these, with a site-wide sequence number.

An event is plain data (type + JSON-able dict) so the log, the MQTT `events/log`
stream, reports and the province all read the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DAY_STARTED = "day.started"
TICKET_ISSUED = "ticket.issued"
TICKET_CALLED = "ticket.called"
TICKET_RECALLED = "ticket.recalled"
TICKET_SERVED = "ticket.served"
TICKET_NO_SHOW = "ticket.no_show"
TICKET_TRANSFERRED = "ticket.transferred"
TICKET_CANCELLED = "ticket.cancelled"
COUNTER_STATUS = "counter.status_changed"
COUNTER_SECTORS = "counter.sectors_changed"
RATING_SUBMITTED = "rating.submitted"
GUIDANCE_GIVEN = "guidance.given"
AUTO_MODE = "site.auto_mode_changed"
DEVICE_HELP = "device.help_requested"
# A visit (docs/visits.md): the ticket moves on to its next procedure (after a ticket.served), and a
# clerk added or dropped a procedure.
VISIT_NEXT = "visit.next"
VISIT_CHANGED = "visit.changed"

# Bookings and remote tickets (issue #16, docs/protocol.md "Bookings"): a booking's life, a held
# ticket joining the queue (an early check-in at its slot, a remote ticket at check-in), a remote
# ticket not checked in by its time, and a manager's closure.
BOOKING_CREATED = "booking.created"
BOOKING_MOVED = "booking.moved"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_CHECKED_IN = "booking.checked_in"
BOOKING_NO_SHOW = "booking.no_show"
TICKET_RELEASED = "ticket.released"
TICKET_LAPSED = "ticket.lapsed"
SLOTS_CLOSED = "slot.closed"
# Messages to citizens' phones (issue #16, domain/notices.py): the outbox of the webhook notifier
# is the log itself. notify.queued carries the phone (never on events/log: the outbox drops it);
# notify.sent and notify.failed close it.
NOTIFY_QUEUED = "notify.queued"
NOTIFY_SENT = "notify.sent"
NOTIFY_FAILED = "notify.failed"

ALL_TYPES = (DAY_STARTED, TICKET_ISSUED, TICKET_CALLED, TICKET_RECALLED, TICKET_SERVED, TICKET_NO_SHOW,
             TICKET_TRANSFERRED, TICKET_CANCELLED, COUNTER_STATUS, COUNTER_SECTORS, RATING_SUBMITTED,
             GUIDANCE_GIVEN, AUTO_MODE, DEVICE_HELP, VISIT_NEXT, VISIT_CHANGED,
             BOOKING_CREATED, BOOKING_MOVED, BOOKING_CANCELLED, BOOKING_CHECKED_IN, BOOKING_NO_SHOW,
             TICKET_RELEASED, TICKET_LAPSED, SLOTS_CLOSED, NOTIFY_QUEUED, NOTIFY_SENT, NOTIFY_FAILED)


@dataclass(frozen=True)
class NewEvent:
    """An event decided by the domain, not yet given its sequence number."""
    type: str
    ts: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    ts: str
    data: dict[str, Any]
    device: str | None = None
    req_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.type, "ts": self.ts, "data": self.data,
                "device": self.device, "req_id": self.req_id}
