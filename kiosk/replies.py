"""Reading what the server and the province send the kiosk, through their models in
protocol/messages.py: a reply to a request, the nearby-centres advice (kiosk/link.py parses the
broadcast messages). Pure functions, no state: the journey decides what to do with what they return."""
from __future__ import annotations

from typing import Any

from protocol.messages import SHOWN_WAIT, ErrorBody, Guidance, I18nText, ProvinceNearby, Reply, TicketResult, parse


def read_ticket_reply(reply: Any) -> TicketResult | ErrorBody:
    """The ticket of a ticket-giving request's reply, or the error to show. A reply the contract
    refuses (logged by parse, without its content) or whose ticket has no number is an error."""
    parsed = parse(Reply, reply) if reply is not None else None
    ticket = parsed.result.ticket if parsed is not None and parsed.ok and parsed.result else None
    if ticket is not None and ticket.number:
        return ticket
    return (parsed.error if parsed is not None else None) or ErrorBody(code="internal", message="")


def read_guidance_reply(reply: Any) -> Guidance | None:
    """The guidance of a `guidance.online` reply; None when there is none (no answer, an error,
    or a reply the contract refuses): the kiosk then shows its own steps."""
    parsed = parse(Reply, reply) if reply is not None else None
    return parsed.result.guidance if parsed is not None and parsed.ok and parsed.result else None


def nearby_options(advice: ProvinceNearby) -> list[dict[str, Any]]:
    """The options of the province's advice (protocol.messages.ProvinceNearby: a bad option was
    already dropped by the model), shortest wait first, as the card shows them."""
    options = [{"site": o.site, "name": (o.name.model_dump() if isinstance(o.name, I18nText) else o.name) or o.site,
                "address": (o.address.model_dump() if isinstance(o.address, I18nText) else o.address) or "",
                "distance_km": o.distance_km, SHOWN_WAIT: o.shown_wait_s, "waiting": o.waiting,
                "next_booking": o.next_booking, "book_url": o.book_url, "bookings": o.bookings}
               for o in advice.nearby]
    options.sort(key=lambda o: (o[SHOWN_WAIT], o["distance_km"]))
    return options
