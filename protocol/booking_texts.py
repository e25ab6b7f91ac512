"""What a citizen is told about a booking or a remote ticket, written once: the server puts it in
a reply's `message_vi` (and `message`), the kiosk shows it at check-in, the booking pages show it,
and a cancellation's message to the citizen's phone says it (issue #16, docs/appointments.md).

Keyed by the contract's error code (protocol/errors.py) or, for what is not a refusal, by the
notice's name. msgids are English; Vietnamese lives in protocol/locale/vi/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

from motcua.i18n import Catalogue

T = Catalogue(__file__)

# Refusals: error code -> text. {slot} is "08:30 03/12/2026", {day} "03/12/2026", {time} "08:30".
ERRORS = {
    "booking_full": "This time is fully booked. The next free time is {slot}.",
    "booking_full_none": "This time is fully booked, and no other time is free in the days open for booking.",
    "booking_limit": "This ID card already has a booking for this procedure, or as many bookings this week as allowed.",
    "slot_closed": "The centre does not take bookings at this time. Please choose another time.",
    "booking_wrong_site": "This booking is for another centre. Please go to the centre named on your booking.",
    "booking_wrong_day": "Your booking is for {day}, not today. Please come back that day.",
    "booking_too_early": "You are early: check-in for your booking opens at {time}.",
    "booking_cancelled": "This booking was cancelled. You can take a ticket as a walk-in.",
    "booking_used": "This booking has already been used or has lapsed. You can take a ticket as a walk-in.",
    "booking_not_found": "No booking has this code here. Please check the code, or take a ticket as a walk-in.",
    "bookings_off": "This centre does not take bookings.",
    "centre_closed": "The centre is closed now: you can join the queue from your phone only during opening hours.",
}
# Not refusals: what a check-in or a remote ticket says along with its ticket.
NOTICES = {
    # checked in later than the grace after the slot: the ticket is a walk-in's from now
    "booking_late": "You are later than {minutes} minutes after your booked time: you have been given a walk-in ticket.",
    # checked in before the slot: the number is called from the booked time
    "booking_early": "You are early: your number will be called from {time}.",
    "booking_on_time": "Checked in: your number will be called soon.",
    # a remote ticket, before and after it is taken
    "remote_arrive_by": "Your place is kept until {time}: check in at the kiosk before then, or the ticket lapses.",
    "remote_checked_in": "Welcome: your ticket keeps the place you took from your phone.",
    # a manager closed the slot: what the citizen is told (with the next free time when there is one)
    "closed_offer": "Your booking at {old} was cancelled: the centre is closed then. The next free time is {slot}.",
    "closed_no_offer": "Your booking at {old} was cancelled: the centre is closed then. Please book another day.",
    # sent to the citizen's phone (queue_server/notify/): a booked slot's reminder, and a ticket
    # taken from a phone whose turn is near ({time}: the arrive-by time, "08:30")
    "reminder": "Reminder: your booking at {centre} is at {slot}, code {code}. Scan it at the kiosk when you arrive.",
    "turn_near": "Your turn is near at {centre}: {ahead} ahead of number {number}. Check in at the kiosk by {time}.",
}
MSGIDS = (*ERRORS.values(), *NOTICES.values())


def text(key: str, lang: str = "vi", **params: object) -> str:
    """The words of an error code or a notice, in `lang`, with its parameters filled in."""
    msgid = ERRORS.get(key) or NOTICES[key]
    return T(msgid, lang, **params)


def both(key: str, **params: object) -> dict[str, str]:
    """{"vi": ..., "en": ...} of an error code or a notice."""
    return {lang: text(key, lang, **params) for lang in ("vi", "en")}


def _hhmm(iso: str) -> str:
    return iso[11:16]


def _when(slot: str) -> str:
    """"2026-12-03T08:30" (a slot) -> "08:30 03/12/2026"."""
    return f"{slot[11:16]} {slot[8:10]}/{slot[5:7]}/{slot[0:4]}"


def check_in_notice(outcome: str, due_at: str | None, late_min: int) -> dict[str, str]:
    """What the kiosk says after a check-in (booking.check_in's result.check_in)."""
    if outcome == "early" and due_at:
        return both("booking_early", time=_hhmm(due_at))
    if outcome == "late":
        return both("booking_late", minutes=late_min)
    if outcome == "remote":
        return both("remote_checked_in")
    return both("booking_on_time")


def closure_message(slot: str, offer: str | None) -> dict[str, str]:
    """What a citizen whose booking a closure cancelled is told (booking.cancelled by "closed")."""
    if offer:
        return both("closed_offer", old=_when(slot), slot=_when(offer))
    return both("closed_no_offer", old=_when(slot))


def reminder_message(centre: dict[str, str], slot: str, code: str) -> dict[str, str]:
    """A booked slot's reminder (`centre`: the centre's name {"vi", "en"}; `slot` as booked)."""
    return {lang: text("reminder", lang, centre=centre[lang], slot=_when(slot), code=code) for lang in ("vi", "en")}


def turn_near_message(centre: dict[str, str], number: str, ahead: int, arrive_by: str) -> dict[str, str]:
    """"Your turn is near" for a ticket taken from a phone (`arrive_by`: "08:30")."""
    return {lang: text("turn_near", lang, centre=centre[lang], number=number, ahead=ahead, time=arrive_by)
            for lang in ("vi", "en")}


def refusal(key: str, params: dict) -> dict[str, str]:
    """A refusal's words from the domain's DomainError.words."""
    return both(key, **params)
