"""What each screen shows and what read-aloud says, in the citizen's language: plain dicts and
strings built from the journey's state, which the Kivy screens (kiosk/screens/) copy into their
properties. Reads the state, never changes it.

A part of KioskViewModel (kiosk/viewmodel.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from kiosk.catalogue import Sector
from kiosk.journey import CHECKIN, GUIDANCE, HOME, NOTICE, PRIORITY, PROCEDURE, PROCEDURES, TICKET, VISIT
from kiosk.printing import OK
from kiosk.texts import (ERROR_TEXTS, GENERIC_ERROR, PRIORITY_LABELS, days_text, fee_text, minutes_text, online_text,
                         slot_text, spell_number)
from kiosk.visits import CAP
from protocol.messages import MAX_VISIT_PROCEDURES, SHOWN_WAIT

# Sector ids/icon names -> a glyph DejaVu Sans has (checked with fontTools).
# Checked in this order, so "ly-lich-tu-phap" gets ✎ and not the ⚖ of "tu-phap".
ICONS = {"ly-lich": "✎", "record": "✎", "justice": "⚖", "tu-phap": "⚖", "ho-tich": "☺", "land": "☘",
         "dat-dai": "☘", "construction": "⚒", "xay-dung": "⚒", "business": "⚙", "kinh-doanh": "⚙",
         "social": "♥", "lao-dong": "♥", "results": "✉", "tra-ket-qua": "✉"}
DEFAULT_ICON = "★"
NEARBY_MAX = 3   # at most this many other centres on the card: a short list, read aloud in full


class ScreenViews:
    def sector_wait_s(self, sector: Sector) -> int:
        return self.stats.get(sector.id, {}).get(SHOWN_WAIT, sector.shown_wait_s)

    def sector_waiting(self, sector: Sector) -> int:
        return self.stats.get(sector.id, {}).get("waiting", sector.waiting)

    @staticmethod
    def icon_for(sector: Sector) -> str:
        for key in (sector.icon or "", sector.id):
            for name, glyph in ICONS.items():
                if key and name in key:
                    return glyph
        return DEFAULT_ICON

    def sector_tiles(self) -> list[dict[str, Any]]:
        if self.catalogue is None:
            return []
        return [{"id": s.id, "prefix": s.prefix, "icon": self.icon_for(s), "name": s.name.get(self.lang),
                 "wait": (self.t("No more numbers today") if self._live(s.id, "remaining_today") == 0 else
                          self.t("Waiting: {n} · {wait}", n=self.sector_waiting(s),
                                 wait=minutes_text(self.sector_wait_s(s), self.lang)))}
                for s in self.catalogue.sectors]

    def procedure_rows(self) -> list[dict[str, Any]]:
        if self.catalogue is None:
            return []
        rows = []
        for s, p in self.catalogue.search(self.query, self.sector_id):
            badge = {"full": self.t("Online"), "partial": self.t("Partly online")}.get(p.online, "")
            rows.append({"id": p.id, "name": p.name.get(self.lang), "sector": s.name.get(self.lang),
                         "badge": badge})
        return rows

    def procedures_title(self) -> str:
        sector = self.catalogue.sector(self.sector_id) if self.catalogue else None
        return sector.name.get(self.lang) if sector else self.t("Find your procedure")

    def card(self) -> dict[str, Any] | None:
        if self.catalogue is None:
            return None
        sector, p = self.catalogue.procedure(self.procedure_id)
        if p is None:
            return None
        wait_s = self.sector_wait_s(sector)
        hint = ""
        if p.online == "full" and wait_s >= self.settings.long_wait_min * 60:
            hint = self.t("The wait is long today ({wait}). You can also file this fully online, from home, "
                          "and skip the queue.", wait=minutes_text(wait_s, self.lang))
        note = p.fee_note.get(self.lang) if p.fee_note else None
        return {"name": p.name.get(self.lang), "sector": sector.name.get(self.lang),
                "nearby": self.nearby_view(sector.id, p.id),
                "documents": [d.get(self.lang) for d in p.documents] or [self.t("Staff will tell you at the counter.")],
                "fee": fee_text(p.fee_vnd, note, self.lang), "days": days_text(p.days, self.lang),
                "online": online_text(p.online, self.lang), "can_file_online": p.online in ("full", "partial"),
                "wait": minutes_text(wait_s, self.lang), "waiting": self.sector_waiting(sector),
                "long_wait_hint": hint}

    def nearby_view(self, sector_id: str | None, procedure_id: str | None = None) -> dict[str, Any] | None:
        """Other centres with shorter waits, only when our own wait for the sector is long.
        Advice, never a gate: the card keeps its "take a ticket" button."""
        sector = self.catalogue.sector(sector_id) if self.catalogue and sector_id else None
        if sector is None or not self.nearby.get(sector.id):
            return None
        own = self.sector_wait_s(sector)
        if own <= self.settings.long_wait_min * 60:
            return None
        return self._nearby_panel(sector.id, shorter_than_s=own, note=self.t("You can still take a ticket here."),
                                  procedure_id=procedure_id)

    def _nearby_panel(self, sector_id: str, shorter_than_s: int | None, note: str,
                      procedure_id: str | None = None) -> dict[str, Any] | None:
        """Up to NEARBY_MAX centres of the province's advice for the sector; with `shorter_than_s`
        only those shorter than that (the province computed "shorter" from its own view)."""
        options = [o for o in self.nearby.get(sector_id, [])
                   if shorter_than_s is None or o[SHOWN_WAIT] < shorter_than_s][:NEARBY_MAX]
        if not options:
            return None
        rows, booking = [], None
        for o in options:
            km = f"{o['distance_km']:.1f}"
            name = _pick(o["name"], self.lang) or o["site"]
            when, url = self._nearby_booking(o, procedure_id)
            rows.append({"site": o["site"], "name": name,
                         "address": _pick(o["address"], self.lang),
                         "distance": self.t("{km} km away", km=km.replace(".", ",") if self.lang == "vi" else km),
                         "wait": self.t("wait {wait}", wait=minutes_text(o[SHOWN_WAIT], self.lang)),
                         "waiting": o["waiting"],
                         "booking": self.t("earliest booking {when}", when=slot_text(when, self.lang)) if when else ""})
            if booking is None and when and url:
                # the province portal's page for that centre: one QR, the first centre's that has one
                booking = {"text": self.t("Earliest booking at {centre}: {when}", centre=name,
                                          when=slot_text(when, self.lang)),
                           "scan": self.t("Scan this code with your phone to book there."), "url": url}
        return {"title": self.t("Nearby centres with shorter waits") if shorter_than_s is not None
                else self.t("Nearby centres"), "note": note, "rows": rows, "booking": booking}

    def _nearby_booking(self, option: dict[str, Any], procedure_id: str | None):
        """(start, portal URL) of a nearby centre's earliest booking: for `procedure_id` when the
        advice lists per procedure (a centre that does not take it from anywhere offers none),
        else the field's earliest; a start already past is none."""
        when, url = option.get("next_booking"), option.get("book_url")
        per = option.get("bookings")
        if procedure_id and per is not None:
            one = per.get(procedure_id) or {}
            when, url = one.get("slot"), one.get("url")
        start = self._future(when)
        return start, url if start else None

    def _future(self, iso: str | None):
        """A nearby centre's booking slot start, if it is still ahead (the advice is retained: a
        slot heard earlier may have begun since)."""
        try:
            when = datetime.fromisoformat(iso) if iso else None
        except ValueError:
            return None
        return when if when is not None and when.tzinfo is not None and when > self.wall() else None

    # -- a visit of several procedures, the word before printing (kiosk/visits.py) -------------

    def _names(self, sector_id: str, procedure_id: str | None) -> tuple[str, str | None]:
        """The field's and the procedure's names in the citizen's language (ids if unknown)."""
        sector = self.catalogue.sector(sector_id) if self.catalogue else None
        _, proc = self.catalogue.procedure(procedure_id) if self.catalogue and procedure_id else (None, None)
        return (sector.name.get(self.lang) if sector else sector_id,
                proc.name.get(self.lang) if proc else procedure_id)

    def item_name(self, sector_id: str, procedure_id: str | None) -> str:
        """One procedure of a visit as every screen and the ticket name it: "Đăng ký khai sinh ·
        Tư pháp - Hộ tịch", or the field alone for a whole-field ticket."""
        field, proc = self._names(sector_id, procedure_id)
        return f"{proc} · {field}" if proc else field

    def visit_view(self) -> dict[str, Any]:
        n = len(self.visit_items)
        return {"title": self.t("Your procedures ({n} of at most {max})", n=n, max=MAX_VISIT_PROCEDURES),
                "rows": [self.item_name(s, p) for s, p in self.visit_items],
                "note": self.t("You get one number. The kiosk puts them in the order that ends your visit soonest."),
                "take": self.t("Take one ticket for {n} procedures", n=n) if n > 1 else self.t("Take a ticket"),
                "can_add": n < MAX_VISIT_PROCEDURES, "add": self.t("+ Add a procedure"),
                "remove": self.t("Remove")}

    def take_text(self) -> str:
        """The card's and the field list's main button: with a list started, it takes them all."""
        n = len(self.items_with_current()) if self.visit_items else 1
        return self.t("Take one ticket for {n} procedures", n=n) if n > 1 else self.t("Take a ticket")

    def notice_view(self) -> dict[str, Any] | None:
        n = self.notice
        if n is None:
            return None
        sector, procedure = n["item"] or (None, None)
        field, proc = self._names(sector, procedure) if sector else ("", None)
        name = proc or field
        if n["kind"] == CAP:
            title = (self.t("Today's numbers for {name} are gone", name=name) if name
                     else self.t("Today's numbers for one of your procedures are gone"))
            message = self.t("The centre takes only a set number of these each day, so a ticket would not be "
                             "served today. Please come back on the next working day, or go to a nearby centre.")
            near = self._nearby_panel(sector, None, "", procedure_id=procedure) if sector else None
        else:
            title = self.t("You may not be served before closing today")
            message = self.t("With the people waiting now, your turn is likely to come after today's opening "
                             "hours. You can file online or go to a nearby centre, or still take a ticket.")
            own = self.sector_wait_s(self.catalogue.sector(sector)) if sector and self.catalogue else None
            near = (self._nearby_panel(sector, own, self.t("You can still take a ticket here."), procedure_id=procedure)
                    if sector else None)
        booking = self.notice_booking()
        if booking is not None:
            booking = {"text": self.t("Earliest booking: {when}", when=slot_text(booking[0], self.lang)),
                       "scan": self.t("Scan this code with your phone to book this procedure."), "url": booking[1]}
        elif near and near.get("booking"):      # none here: a nearby centre's, through the province portal
            booking = near["booking"]
        return {"kind": n["kind"], "title": title, "message": message, "nearby": near, "booking": booking,
                "can_insist": n["kind"] != CAP, "insist": self.t("Take it anyway"),
                "can_file_online": self.notice_online_item() is not None, "online": self.t("File online"),
                "can_drop": self.notice_can_drop(), "drop": self.t("Remove it from my list"),
                "home": self.t("Start again")}

    def ticket_view(self) -> dict[str, Any]:
        if self.ticket_status == "requesting" or self.ticket is None:
            return {"number": "…", "sector": "", "procedure": "", "visit": "", "visit_end": "", "ahead": "", "wait": "",
                    "status": self.t("Getting your number…"), "can_reprint": False, "trouble": False}
        slip = self._ticket_slip()
        ahead = self.t("You are next") if slip.ahead <= 0 else self.t("People ahead of you: {n}", n=slip.ahead)
        status = {
            "printing": self.t("Your ticket is printing. Please take it below."),
            OK: self.t("Please take your ticket below and wait for your number to be called."),
            "paper_out": self.t("The printer is out of paper. Remember your number {n}; staff have been told.",
                                n=slip.number),
            "cover_open": self.t("The printer cover is open. Remember your number {n}; staff have been told.",
                                 n=slip.number),
            "offline": self.t("The printer is not working. Remember your number {n}; staff have been told.",
                              n=slip.number),
        }.get(self.print_status or "", self.t("Remember your number and wait for it to be called."))
        trouble = self.print_status in ("paper_out", "cover_open", "offline")
        # a booking checked in (kiosk/checkin.py): what the check-in did first (late: a walk-in's
        # ticket from now), its booked time in the priority's line, as the slip prints it
        if self.checkin_notice():
            status = f"{self.checkin_notice()}\n{status}"
        booked = self.t("Booked {time}", time=slip.booked_at) if slip.booked_at else ""
        # a visit: the procedures in the order they will be served, and when the visit should end
        visit = "\n".join(f"{i}. {line}" for i, line in enumerate(slip.visit, 1))
        return {"number": slip.number, "sector": self.t("Your procedures, in the order they will be served:")
                if slip.visit else slip.sector_name, "procedure": "" if slip.visit else slip.procedure_name or "",
                "visit": visit, "visit_end": (self.t("Estimated end of your visit: {wait}",
                                                     wait=minutes_text(slip.visit_end_s, self.lang))
                                              if slip.visit_end_s is not None else ""),
                "ahead": ahead, "wait": self.t("Estimated wait: {wait}", wait=minutes_text(slip.est_wait_s,
                                                                                           self.lang)),
                "status": status, "can_reprint": trouble, "trouble": trouble,
                "priority": "  ·  ".join(p for p in (
                    booked, self.t("Priority: {group}", group=self.t(PRIORITY_LABELS[slip.priority]))
                    if slip.priority in PRIORITY_LABELS else "") if p)}

    def guidance_view(self) -> dict[str, Any]:
        _, proc = self.catalogue.procedure(self.procedure_id) if self.catalogue else (None, None)
        name = proc.name.get(self.lang) if proc else ""
        if self.guidance is None:
            return {"procedure": name, "portal_url": "", "steps": [], "status": self.t("Loading…"),
                    "print_status": ""}
        printing = {"printing": self.t("Printing the guide…"), OK: self.t("Please take the guide below."),
                    "paper_out": self.t("The printer is out of paper. Please scan the QR code instead."),
                    "cover_open": self.t("The printer is not ready. Please scan the QR code instead."),
                    "offline": self.t("The printer is not working. Please scan the QR code instead.")
                    }.get(self.guidance_print_status or "", "")
        return {"procedure": name, "portal_url": self.guidance["portal_url"], "steps": list(self.guidance["steps"]),
                "status": self.t("Scan the QR code with your phone, then follow these steps:"),
                "print_status": printing}

    def error_view(self) -> dict[str, Any]:
        err = self.error or {"code": "internal", "can_retry": False}
        code = err.get("code")
        if code == "no_answer":
            title = self.t("The ticket system is not answering")
            message = self.t("Your ticket was not issued yet. Please tap Try again in a moment, "
                             "or ask the staff at the reception desk.")
        elif code == "no_catalogue":
            title = self.t("The kiosk is starting")
            message = self.t("Waiting for the centre's system. Please ask the staff at the reception desk "
                             "for a ticket.")
        else:
            title = self.t("We could not issue a ticket")
            message = self.t(ERROR_TEXTS.get(code, GENERIC_ERROR))
        return {"title": title, "message": message, "can_retry": bool(err.get("can_retry"))}

    def banner(self) -> str:
        """A line across every screen when something is wrong that the citizen should know."""
        if self.backend is not None and not self.connected:
            return self.t("No connection to the ticket system. Tickets may be delayed; staff can help.")
        if self.server_online is False:
            return self.t("The ticket system is restarting. Tickets may be delayed; staff can help.")
        return ""

    def help_text(self) -> str:
        return self.t("Staff have been called and will come to you.") if self.help_requested else ""

    def priority_groups(self) -> list[dict[str, Any]]:
        groups = (self.catalogue.priority_groups if self.catalogue and self.catalogue.priority_groups
                  else tuple(PRIORITY_LABELS))
        return [{"id": g, "label": self.t(PRIORITY_LABELS[g]), "selected": g == self.priority}
                for g in groups if g in PRIORITY_LABELS]

    @property
    def status_led(self) -> str:
        """ready | printing | help | fault: what the kiosk's LED shows."""
        if self.help_requested:
            return "help"
        if self.print_status == "printing" or self.guidance_print_status == "printing":
            return "printing"
        if self.printer_status != OK or (self.backend is not None and not self.connected) \
                or self.server_online is False:
            return "fault"
        return "ready"

    def speech_text(self) -> str:
        """What the speaker button reads for the screen shown now."""
        s = self.screen
        if s == HOME:
            names = ". ".join(tile["name"] for tile in self.sector_tiles())
            return self.t("Welcome. Touch the field you need to take a ticket. The fields are: {names}.",
                          names=names)
        if s == PRIORITY:
            groups = ". ".join(g["label"] for g in self.priority_groups())
            return self.t("Priority tickets. First touch your group: {groups}. Then touch your field.",
                          groups=groups)
        if s == PROCEDURES:
            names = ". ".join(r["name"] for r in self.procedure_rows())
            return self.t("{title}. Touch your procedure, or take a ticket for this field. Procedures: {names}.",
                          title=self.procedures_title(), names=names)
        if s == PROCEDURE:
            c = self.card() or {}
            docs = ". ".join(c.get("documents", []))
            text = self.t("{name}. Documents to bring: {docs}. Fee: {fee}. Processing time: {days}. "
                          "Estimated wait: {wait}.", name=c.get("name", ""), docs=docs, fee=c.get("fee", ""),
                          days=c.get("days", ""), wait=c.get("wait", ""))
            parts = [text, c.get("long_wait_hint", "")]
            near = c.get("nearby")
            if near:
                parts += [_places_text(near), near["note"]]
            return " ".join(x for x in parts if x)
        if s == TICKET:
            v = self.ticket_view()
            if self.ticket is None:
                return v["status"]
            sector = " ".join(x for x in (v["sector"], v["visit"].replace("\n", ". ")) if x)
            text = self.t("Your number is {number}. {sector}. {ahead}. {wait}. {status}",
                          number=spell_number(v["number"], self.lang), sector=sector, ahead=v["ahead"],
                          wait=v["wait"], status=v["status"])
            return f"{text} {v['visit_end']}." if v["visit_end"] else text
        if s == VISIT:
            v = self.visit_view()
            return " ".join([v["title"] + ":", ". ".join(v["rows"]) + ".", v["note"]])
        if s == NOTICE:
            v = self.notice_view() or {}
            near, book = v.get("nearby"), v.get("booking")
            return " ".join(x for x in (v.get("title", "") + ".", v.get("message", ""),
                                        f"{book['text']}. {book['scan']}" if book else "",
                                        _places_text(near) if near else "") if x)
        if s == CHECKIN:
            v = self.checkin_view()
            return " ".join(x for x in (v["title"] + ".", v["prompt"], v["error"]) if x)
        if s == GUIDANCE:
            v = self.guidance_view()
            return " ".join([v["procedure"] + ".", v["status"], *v["steps"]])
        v = self.error_view()
        return f"{v['title']}. {v['message']}"


def _places_text(near: dict[str, Any]) -> str:
    """A nearby-centres panel read aloud: its title, then each centre's name, address, distance,
    wait and earliest booking."""
    places = ". ".join(", ".join(x for x in (r["name"], r["address"], r["distance"], r["wait"], r.get("booking")) if x)
                       for r in near["rows"])
    return f"{near['title']}: {places}."


def _pick(text: Any, lang: str) -> str:
    """A {"vi", "en"} text in `lang`, falling back to the other language; a plain string as is."""
    if isinstance(text, str):
        return text.strip()
    if isinstance(text, dict):
        for key in (lang, "vi", "en"):
            if isinstance(text.get(key), str) and text[key].strip():
                return text[key].strip()
    return ""
