"""A small site that takes bookings, and the steps the booking tests take on it (tests/unit)."""
from __future__ import annotations

from queue_server.domain import commands as C
from queue_server.domain.site import parse_site
from tests.support.domain_harness import small_site

ANA = "a" * 64
BAO = "b" * 64
DAY = "2026-11-24"        # the harness starts at 07:30 on this day (a Tuesday)


def site(**bookings_extra):
    d = small_site().model_dump()
    d["sectors"][0]["procedures"] = [{"id": "p1", "name": {"vi": "Một", "en": "One"}},
                                     {"id": "p2", "name": {"vi": "Hai", "en": "Two"}}]
    d["bookings"] = {"slot_min": 30, **bookings_extra}
    return parse_site(d)


def book(h, slot, who=ANA, procedure="p1", **kw):
    return h.command("web", "web", C.CreateBooking(procedure=procedure, slot=f"{DAY}T{slot}" if len(slot) == 5 else slot,
                                                   id_hash=who, **kw))


def check_in(h, **fields):
    return h.do("kiosk", "k1", type="booking.check_in", **fields)
