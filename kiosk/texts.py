"""Every text a citizen reads or hears on the kiosk goes through `T` (vi first, en second).

msgids are English; Vietnamese lives in locale/vi/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

from datetime import datetime

from motcua.i18n import Catalogue

T = Catalogue(__file__)

# Priority groups of the contract (docs/protocol.md), as the citizen names them.
PRIORITY_LABELS = {
    "elderly": "Elderly (60 and over)",
    "disabled": "Person with a disability",
    "pregnant": "Pregnant woman",
    "child_under_6": "With a child under 6",
    "veteran": "War veteran or invalid",
}

# Error codes of a reply -> what the citizen is told.
ERROR_TEXTS = {
    "sector_closed": "This field is not taking tickets right now. Please ask the staff at the reception desk.",
    "unknown_sector": "This kiosk's list is out of date. Please ask the staff at the reception desk.",
    "unknown_procedure": "This kiosk's list is out of date. Please ask the staff at the reception desk.",
    "rate_limited": "Too many tickets in a short time. Please wait a minute and try again.",
    "not_allowed": "This kiosk is not allowed to issue tickets. Please ask the staff at the reception desk.",
    # issue #18: a citizen's own request gets the notice of kiosk/visits.py instead; these are for
    # any other step that ends in a ticket
    "daily_cap_reached": "Today's numbers for this procedure are gone. Please come back on the next working day.",
    "past_closing": "Your turn would come after today's opening hours. Please ask the staff at the reception desk.",
}
GENERIC_ERROR = "Something went wrong. Please try again or ask the staff at the reception desk."


def minutes_text(est_wait_s: int | float | None, lang: str) -> str:
    """A rounded, honest wait: "under 5 minutes", "about 20 minutes", "about 1 hour 10 minutes"."""
    if est_wait_s is None:
        return T("unknown", lang)
    m = max(0, int(round(float(est_wait_s) / 60.0)))
    if m < 5:
        return T("under 5 minutes", lang)
    m = int(round(m / 5.0) * 5)
    if m < 60:
        return T("about {n} minutes", lang, n=m)
    h, rest = divmod(m, 60)
    if rest == 0:
        return T("about {h} hours", lang, h=h) if h > 1 else T("about 1 hour", lang)
    return T("about {h} h {m} min", lang, h=h, m=rest)


def fee_text(fee_vnd: int | None, note: str | None, lang: str) -> str:
    if fee_vnd is None:
        return T("set by the authority; staff will tell you", lang)
    if fee_vnd == 0:
        return T("free", lang)
    # Vietnamese groups thousands with dots: 200.000 đồng
    amount = f"{fee_vnd:,}".replace(",", "." if lang == "vi" else ",")
    text = T("{amount} VND", lang, amount=amount)
    return f"{text} ({note})" if note else text


# English month abbreviations for the English date; the Vietnamese date is numeric (03/12).
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def slot_text(start: datetime, lang: str) -> str:
    """A booking slot's start as the notice says it: "thứ Năm 03/12, 08:30" / "Thu 3 Dec, 08:30"
    (the time in the zone `start` carries: the site's)."""
    weekday = (T("Mon", lang), T("Tue", lang), T("Wed", lang), T("Thu", lang), T("Fri", lang),
               T("Sat", lang), T("Sun", lang))[start.weekday()]
    return T("{weekday} {day} {month}, {time}", lang, weekday=weekday, day=start.day,
             dd=f"{start:%d}", mm=f"{start:%m}", month=MONTHS_EN[start.month - 1], time=f"{start:%H:%M}")


def days_text(days: int, lang: str) -> str:
    if days <= 0:
        return T("the same day", lang)
    return T("{n} working days", lang, n=days)


def online_text(online: str, lang: str) -> str:
    return {
        "full": T("Can be filed fully online", lang),
        "partial": T("Can be started online; you still come to the centre", lang),
    }.get(online, T("Only at the centre", lang))


def spell_number(number: str, lang: str) -> str:
    """A023 -> "A, 0, 2, 3" read one sign at a time (espeak reads 023 as a whole number)."""
    return ", ".join(number)
