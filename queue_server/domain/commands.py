"""Commands that do not arrive over MQTT: managers' and citizens' actions from the web or the CLI.

MQTT commands are the protocol's own models (`protocol.messages`).
"""
from __future__ import annotations

from dataclasses import dataclass

# A manager's reason for an override (a counter serving a sector it is not trained for): it goes
# into the event log and every report that shows the change. The web API refuses a longer one and
# the dashboard's reason field takes its maxlength from here.
OVERRIDE_REASON_MAX_CHARS = 200


@dataclass(frozen=True)
class SetCounterSectors:
    counter: str
    sectors: tuple[str, ...]
    override: bool = False      # beyond the counter's `trained` list, with a reason
    reason: str | None = None
    by: str | None = None
    type: str = "counter.set_sectors"


@dataclass(frozen=True)
class SetCounterStatus:
    counter: str
    status: str                 # open | paused | closed
    by: str | None = None
    reason: str | None = None   # paused: one of protocol.messages.BREAK_REASONS ("other" when none)
    type: str = "counter.set_status"


@dataclass(frozen=True)
class SetAutoMode:
    on: bool
    by: str | None = None
    type: str = "site.set_auto"


@dataclass(frozen=True)
class CancelTicket:
    token: str
    type: str = "ticket.cancel"


@dataclass(frozen=True)
class HelpRequest:
    device: str
    kind: str = "kiosk"
    type: str = "device.help"


# --- bookings and remote tickets (issue #16, docs/appointments.md) --------------------------------
# A citizen's ID card reaches the domain only as `id_hash` (protocol/cccd.id_hash under the site's
# key, made at set-up: SiteServer.id_hash_key). `slot` is the local start "YYYY-MM-DDTHH:MM" in the
# site's zone. A refusal is a DomainError with a code of protocol/errors.py and its words in
# protocol/booking_texts.py; `detail` carries next_free etc.


@dataclass(frozen=True)
class CreateBooking:
    """Book `procedure` (its sector follows) in `slot`. `phone` (E.164, optional) is kept only
    for the reminders and a closure's message (docs/appointments.md, "What is kept")."""
    procedure: str
    slot: str
    id_hash: str
    phone: str | None = None
    lang: str = "vi"
    by: str = "web"             # web | province | cli: where the booking came from (reports)
    type: str = "booking.create"


@dataclass(frozen=True)
class CancelBooking:
    """A citizen cancels their booking or remote ticket: the code and the hash of the same card."""
    code: str
    id_hash: str
    type: str = "booking.cancel"


@dataclass(frozen=True)
class MoveBooking:
    """A citizen moves their booking to another slot (same procedure), keeping its code."""
    code: str
    id_hash: str
    slot: str
    type: str = "booking.move"


@dataclass(frozen=True)
class RemoteTicket:
    """Join today's queue from a phone while the centre is open: a ticket that takes its place at
    once but is not called until checked in at the kiosk (booking.check_in), by `arrive_by`."""
    procedure: str
    id_hash: str
    phone: str | None = None
    lang: str = "vi"
    type: str = "ticket.remote"


@dataclass(frozen=True)
class CloseSlots:
    """A manager closes a slot (`slot` given), a sector's day (`sector`, no slot) or the whole day
    (neither): bookings in it are cancelled, each offered the next free slot."""
    day: str                    # YYYY-MM-DD, local
    sector: str | None = None
    slot: str | None = None     # local "YYYY-MM-DDTHH:MM" on `day`
    reason: str | None = None   # the manager's words, for the log and the reports
    by: str | None = None
    type: str = "slot.close"


# --- messages to citizens' phones (issue #16, domain/notices.py) ------------------------------------
# The notifier (queue_server/notify/) runs beside the command loop: the loop's tick asks for the
# messages now due (QueueNotices), and the notifier tells the outcome of each (NotifySent,
# NotifyFailed), so the log is the notifier's outbox and a restart loses and repeats nothing.


@dataclass(frozen=True)
class QueueNotices:
    """Queue the messages now due: reminders, "your turn is near", closures' notices."""
    type: str = "notify.due"


@dataclass(frozen=True)
class NotifySent:
    """The gateway took the message `id` (a 2xx) after `attempts` attempts."""
    id: str
    attempts: int = 1
    type: str = "notify.sent"


@dataclass(frozen=True)
class NotifyFailed:
    """The message `id` is given up: `reason` is "refused <status>", "attempts" or "expired";
    `last_error` the last attempt's status or "no answer" (never personal data)."""
    id: str
    reason: str
    attempts: int = 0
    last_error: str | None = None
    type: str = "notify.failed"
