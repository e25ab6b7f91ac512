"""Error codes of the contract (docs/protocol.md, "Replies")."""
from enum import Enum


class ErrorCode(str, Enum):
    BAD_REQUEST = "bad_request"
    UNKNOWN_SECTOR = "unknown_sector"
    UNKNOWN_PROCEDURE = "unknown_procedure"
    SECTOR_CLOSED = "sector_closed"
    QUEUE_EMPTY = "queue_empty"
    COUNTER_CLOSED = "counter_closed"
    NO_CURRENT_TICKET = "no_current_ticket"
    NOT_ALLOWED = "not_allowed"
    NOT_FOUND = "not_found"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    DAILY_CAP_REACHED = "daily_cap_reached"   # ticket.issue: today's numbers of a capped sector/procedure are gone
    PAST_CLOSING = "past_closing"             # ticket.issue with accept_past_closing false
    # Bookings and remote tickets (issue #16; their words: protocol/booking_texts.py)
    BOOKING_FULL = "booking_full"             # the slot has no room left (error.detail.next_free names the next)
    BOOKING_LIMIT = "booking_limit"           # this ID card already holds what the limits allow
    SLOT_CLOSED = "slot_closed"               # a manager closed the slot, the sector's day or the day
    BOOKING_WRONG_SITE = "booking_wrong_site"  # check-in: the booking is at another centre
    BOOKING_WRONG_DAY = "booking_wrong_day"   # check-in: the booking is for another day
    BOOKING_TOO_EARLY = "booking_too_early"   # check-in: earlier than the grace before the slot
    BOOKING_CANCELLED = "booking_cancelled"   # check-in, move: the booking was cancelled
    BOOKING_USED = "booking_used"             # check-in, move, cancel: already checked in (or lapsed, no-show)
    EXPIRED = "expired"                       # a province booking command that came after its expires_at
    INTERNAL = "internal"
