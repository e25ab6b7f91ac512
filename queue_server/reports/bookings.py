"""Booking figures of a period (issue #16, docs/appointments.md "End of day"), from the event log
like every report: how many citizens came by a booking or a remote ticket, the no-shows, and how
punctual booked citizens were and how long they waited after their slot, per sector and per slot,
and the waits of booked citizens beside the walk-ins'.

`BookingTally.take` sees every event of `build_report`'s one pass; `figures` sums them up.
Punctuality is the check-in's time minus the slot's start (negative: early); the wait after the
slot is the first call minus the later of the slot's start and the check-in. A remote ticket
waits from its check-in (before it the citizen is not in the hall); a walk-in from its ticket.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from queue_server.domain import events as ev
from queue_server.domain.events import Event
from queue_server.domain.site import SiteConfig
from queue_server.domain.stats import percentile_nearest_rank


@dataclass
class _Booking:
    code: str
    kind: str
    sector: str
    day: str
    slot: str | None
    slot_epoch: float | None
    by: str = "web"                # web | province | cli (domain/commands.CreateBooking)
    status: str = "booked"
    checked_in_epoch: float | None = None
    outcome: str | None = None
    called_epoch: float | None = None


@dataclass
class BookingTally:
    bookings: dict[str, _Booking] = field(default_factory=dict)
    by_ticket: dict[str, str] = field(default_factory=dict)     # ticket id -> booking code

    def take(self, e: Event) -> None:
        d = e.data
        if e.type == ev.BOOKING_CREATED:
            self.bookings[d["code"]] = _Booking(d["code"], d["kind"], d["sector"], d["day"], d.get("slot"),
                                                d.get("slot_epoch"), d.get("by", "web"))
            if d.get("ticket_id"):
                self.by_ticket[d["ticket_id"]] = d["code"]
            return
        b = self.bookings.get(d.get("code", "")) if "code" in d else None
        if e.type == ev.BOOKING_MOVED and b:
            b.slot, b.day, b.slot_epoch = d["slot"], d["day"], d["slot_epoch"]
        elif e.type == ev.BOOKING_CANCELLED and b:
            b.status = "cancelled"
        elif e.type == ev.BOOKING_NO_SHOW and b:
            b.status = "no_show"
        elif e.type == ev.TICKET_LAPSED and b:
            b.status = "lapsed"
        elif e.type == ev.BOOKING_CHECKED_IN and b:
            b.status = "late" if d["outcome"] == "late" else "checked_in"
            b.checked_in_epoch, b.outcome = d["at_epoch"], d["outcome"]
            self.by_ticket[d["ticket_id"]] = b.code
        elif e.type == ev.TICKET_CALLED:
            code = self.by_ticket.get(d["ticket_id"])
            b = self.bookings.get(code) if code else None
            if b is not None and b.called_epoch is None:
                b.called_epoch = d.get("at_epoch")

    def figures(self, config: SiteConfig, in_range: Callable[[str], bool], citizens: int,
                tickets: Iterable[Any] = ()) -> dict[str, Any]:
        """The period's figures; `citizens`: every citizen's visit in it (the share's base);
        `tickets`: the report's ticket records of the period (compute.TicketRecord), for the
        walk-ins' waits."""
        chosen = [b for b in self.bookings.values() if in_range(b.day)]
        came = [b for b in chosen if b.status in ("checked_in", "late")]
        rows: dict[tuple[str, ...], dict[str, Any]] = {}
        sectors: dict[str, dict[str, Any]] = {}
        total: dict[str, dict[str, Any]] = {}
        for b in chosen:
            keys = [("sector", b.sector), ("total", "all")]
            if b.kind == "slot":
                keys.append(("slot", b.day, (b.slot or "")[11:], b.sector))
            for key in keys:
                table = {"sector": sectors, "total": total, "slot": rows}[key[0]]
                name = key[1] if key[0] != "slot" else key[1:]
                row = table.setdefault(name, {"booked": 0, "remote": 0, "came": 0, "late": 0, "no_show": 0,
                                              "cancelled": 0, "lapsed": 0, "_punct": [], "_wait": []})
                row["remote" if b.kind == "remote" else "booked"] += 1
                if b.status in ("checked_in", "late"):
                    row["came"] += 1
                row["late"] += b.status == "late"
                row["no_show"] += b.status == "no_show"
                row["cancelled"] += b.status == "cancelled"
                row["lapsed"] += b.status == "lapsed"
                if b.kind == "slot" and b.checked_in_epoch is not None and b.slot_epoch is not None:
                    row["_punct"].append((b.checked_in_epoch - b.slot_epoch) / 60.0)
                    if b.called_epoch is not None and b.status == "checked_in":
                        row["_wait"].append(b.called_epoch - max(b.slot_epoch, b.checked_in_epoch))
        booked_waits = [b.called_epoch - max(b.slot_epoch, b.checked_in_epoch) for b in came
                        if b.kind == "slot" and b.status == "checked_in" and b.called_epoch is not None
                        and b.slot_epoch is not None and b.checked_in_epoch is not None]
        remote_waits = [b.called_epoch - b.checked_in_epoch for b in came
                        if b.kind == "remote" and b.called_epoch is not None and b.checked_in_epoch is not None]
        # A walk-in: a ticket no booking or phone's ticket made, counted once per citizen (the
        # first procedure of a visit: a later one waits in another queue after being served).
        walk_in_waits = [t.wait_s for t in tickets
                         if t.citizen in (None, t.id) and t.id not in self.by_ticket and t.wait_s is not None]
        # The docs' first bound (docs/appointments.md, "Calling"): called within one slot length
        # of the slot's start, for those who checked in before being late
        slot_s = config.bookings.slot_min * 60 if config.bookings is not None else None
        within_slot = sum(1 for b in came if b.kind == "slot" and b.status == "checked_in"
                          and b.called_epoch is not None and b.slot_epoch is not None and slot_s is not None
                          and b.called_epoch - b.slot_epoch <= slot_s)
        empty = {"booked": 0, "remote": 0, "came": 0, "late": 0, "no_show": 0, "cancelled": 0, "lapsed": 0,
                 "_punct": [], "_wait": []}
        return {
            # shown (page, exports) when the site takes bookings or the period has some
            "shown": config.bookings is not None or bool(chosen),
            "citizens": citizens,
            "came_by_booking": sum(1 for b in came if b.kind == "slot"),
            "came_by_remote": sum(1 for b in came if b.kind == "remote"),
            "came_online": sum(1 for b in came if b.by in ONLINE_CHANNELS),
            "booked_share_pct": round(100.0 * len(came) / citizens, 1) if citizens else None,
            "total": _finish(total.get("all", empty)),
            "called_within_slot": within_slot,
            "waits": {"walk_in": _waits(walk_in_waits), "booked": _waits(booked_waits),
                      "remote": _waits(remote_waits)},
            "by_sector": [{"sector": s, **_finish(r)} for s, r in sorted(sectors.items())],
            "by_slot": [{"day": k[0], "slot": k[1], "sector": k[2], **_finish(r)} for k, r in sorted(rows.items())],
        }


# Where a booking made from a citizen's own screen comes from (`by`): the site's pages or the
# province's portal; "cli" is a clerk's or a script's.
ONLINE_CHANNELS = ("web", "province")


def _waits(waits: list[float]) -> dict[str, Any]:
    return {"n": len(waits), "mean_wait_s": round(sum(waits) / len(waits), 1) if waits else None,
            "p90_wait_s": percentile_nearest_rank(waits, 90) if waits else None}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    punct, wait = row.pop("_punct"), row.pop("_wait")
    due = row["booked"] - row["cancelled"]
    row["no_show_pct"] = round(100.0 * row["no_show"] / due, 1) if due > 0 else None
    row["mean_punctuality_min"] = round(sum(punct) / len(punct), 1) if punct else None
    row["late_pct"] = round(100.0 * row["late"] / len(punct), 1) if punct else None
    row["p90_wait_after_slot_s"] = percentile_nearest_rank(wait, 90) if wait else None
    return row


def local_day(epoch: float, config: SiteConfig) -> str:
    return datetime.fromtimestamp(epoch, config.site.tz).date().isoformat()
