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
    INTERNAL = "internal"
