"""What the province's booking portal shows (issue #16, "Across a province"): pure, from the
centres' booking offers (province/booking_relay.py) and the waits the province already keeps
(province_sector_now, from the bridged boards and sector stats).

The pages (province/portal_web.py) only word and lay out what these functions return; the
decisions stay where they are: a centre's free slots and capacity are its own queue server's
(each booking is a command that centre decides), and so is which procedures it takes from a
citizen of anywhere in the province (its site config's `bookings.any_residence`, carried in its
offer as each procedure's `any_residence`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from province.config import ProvinceConfig


@dataclass(frozen=True)
class Slot:
    """A free slot: its id (the local "YYYY-MM-DDTHH:MM" the centre names it by) and its start
    and end in the centre's zone."""
    id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ProcedureOffer:
    """One procedure a centre books: its names, field, what to bring, and its earliest free slots,
    earliest first."""
    id: str
    name: dict[str, str]
    sector: str
    sector_name: dict[str, str]
    slots: tuple[Slot, ...] = ()
    documents: tuple[dict[str, str], ...] | None = ()   # None: the offer does not say (ask the centre)
    fee: dict[str, str] | None = None
    any_residence: bool = True      # the centre takes it from anyone in the province (its offer says)


@dataclass(frozen=True)
class CentreOffer:
    """A centre as the portal sees it: online (its queue server answers over the bridge) and the
    procedures it books."""
    site: str
    name: dict[str, str]
    online: bool
    slot_min: int = 30
    procedures: Mapping[str, ProcedureOffer] = field(default_factory=dict)


def accepted(centre: CentreOffer) -> dict[str, ProcedureOffer]:
    """The procedures `centre` takes bookings for from anyone in the province, as its offer says
    (the centre's `bookings.any_residence`)."""
    return {pid: p for pid, p in centre.procedures.items() if p.any_residence}


def procedures(centres: Iterable[CentreOffer]) -> list[dict[str, Any]]:
    """Every procedure at least one centre takes from anywhere in the province, once, with how
    many centres take it; by field, then name (Vietnamese)."""
    seen: dict[str, dict[str, Any]] = {}
    for c in centres:
        for pid, p in accepted(c).items():
            entry = seen.setdefault(pid, {"id": pid, "name": p.name, "sector": p.sector,
                                          "sector_name": p.sector_name, "centres": 0})
            entry["centres"] += 1
    return sorted(seen.values(), key=lambda e: (e["sector_name"].get("vi", ""), e["name"].get("vi", "")))


def procedure(centres: Iterable[CentreOffer], procedure_id: str) -> ProcedureOffer | None:
    """The procedure's names and facts as the first centre taking it describes it (the centres of
    a province share the national catalogue's procedures)."""
    for c in sorted(centres, key=lambda c: (not c.online, c.site)):
        p = accepted(c).get(procedure_id)
        if p is not None:
            return p
    return None


def centres_for(config: ProvinceConfig, centres: Iterable[CentreOffer], procedure_id: str,
                waits: Mapping[tuple[str, str], Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The centres that take `procedure_id`: name, address (province config), online, earliest
    free slot that has not begun by `now`, the live wait of the procedure's field ({waiting,
    est_wait_s} from province_sector_now, or None).
    Bookable centres first, earliest slot first; then full ones; offline ones last."""
    out = []
    for c in centres:
        p = accepted(c).get(procedure_id)
        if p is None:
            continue
        slots = [s for s in p.slots if s.start > now]
        loc = config.location(c.site)
        name = loc.name.model_dump() if loc is not None and loc.name else c.name
        out.append({"site": c.site, "name": name,
                    "address": loc.address.model_dump() if loc is not None and loc.address else None,
                    "online": c.online, "first": slots[0] if slots else None,
                    "bookable": c.online and bool(slots), "wait": waits.get((c.site, p.sector))})
    out.sort(key=lambda r: (not r["online"], r["first"] is None, r["first"].start.timestamp() if r["first"] else 0,
                            r["name"].get("vi", r["site"])))
    return out


def waits_of(rows: Iterable[Mapping[str, Any]], stale_s: int, now: datetime) -> dict[tuple[str, str], dict[str, Any]]:
    """(site, sector) -> {waiting, est_wait_s} of Store.now()'s rows heard within `stale_s` (an
    older one is not "live": the centre's wait is then not shown)."""
    out = {}
    for r in rows:
        heard = r.get("updated_at")
        if heard is not None and (now - heard).total_seconds() <= stale_s:
            out[(r["site"], r["sector"])] = {"waiting": r["waiting"], "est_wait_s": r["est_wait_s"]}
    return out


def _slot(s: Any) -> Slot | None:
    """An offer's FreeSlot as a Slot; None for times without their offset or not times at all
    (a site's bad offer must not break the portal's pages)."""
    try:
        start, end = datetime.fromisoformat(s.slot_start), datetime.fromisoformat(s.slot_end)
    except (TypeError, ValueError):
        return None
    return Slot(s.slot, start, end) if start.tzinfo is not None and end.tzinfo is not None else None


def from_offers(offers: Mapping[str, Any], sector_names: Mapping[tuple[str, str], dict] | None = None) -> list[CentreOffer]:
    """The relay's offers (site -> SiteOffer: the site's retained protocol.messages.BookingOffer
    and whether it answers now) as the portal's CentreOffers. A field's name comes from the
    centre's board (`sector_names`, province_sector_now) as the offer carries the field's id only."""
    out = []
    for site, so in offers.items():
        offer = getattr(so, "offer", None)
        if offer is None:
            continue
        procs = {}
        for op in offer.procedures:
            sector_name = (sector_names or {}).get((site, op.sector)) or {"vi": op.sector, "en": op.sector}
            slots = tuple(slot for s in op.slots if s.free > 0 and (slot := _slot(s)) is not None)
            procs[op.procedure] = ProcedureOffer(op.procedure, op.name.model_dump(), op.sector, sector_name, slots,
                                                 None if op.documents is None else
                                                 tuple({"vi": d.vi, "en": d.en} for d in op.documents),
                                                 any_residence=op.any_residence)
        out.append(CentreOffer(site, offer.name.model_dump(), bool(getattr(so, "online", False)), offer.slot_min, procs))
    return out


def page_url(public_url: str, procedure: str, site: str) -> str:
    """The portal's page of a centre's free times for a procedure (portal_web.slots' route): the
    kiosk's nearby advice shows it as a QR."""
    return f"{public_url.rstrip('/')}/book/{procedure}/{site}"


def nearby_bookings(config: ProvinceConfig, centres: Iterable[CentreOffer], sectors: Iterable[tuple[str, str]],
                    now: datetime) -> dict[tuple[str, str], dict[str, Any]]:
    """(site, sector) -> the nearby advice's booking fields for that centre (protocol.messages.
    NearbyOption): per procedure of the sector it takes from anywhere in the province, its earliest
    free slot (ISO with offset) and the portal's page to book it (when the portal has a public
    address), and the earliest of them as next_booking/book_url. Nothing for an offline centre
    or one with no free slot."""
    by_site = {c.site: c for c in centres}
    base = config.portal.public_url
    out = {}
    for site, sector in sectors:
        c = by_site.get(site)
        if c is None or not c.online:
            continue
        firsts = {pid: next((s for s in p.slots if s.start > now), None)
                  for pid, p in accepted(c).items() if p.sector == sector}
        per = {pid: {"slot": s.start.isoformat(), "url": page_url(base, pid, site) if base else None}
               for pid, s in sorted(firsts.items()) if s is not None}
        if per:
            pid = min(per, key=lambda k: (firsts[k].start.timestamp(), k))
            out[(site, sector)] = {"next_booking": per[pid]["slot"], "book_url": per[pid]["url"], "bookings": per}
    return out
