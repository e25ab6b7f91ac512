"""A visit of several procedures, and the word before printing (issue #18; docs/visits.md).

The list: a citizen may gather up to MAX_VISIT_PROCEDURES procedures, from any fields, before
printing. "Add another procedure" on a procedure card or a field's list puts the choice on their
list (the visit screen, where each can be removed) and takes them home to choose the next;
"Take a ticket" then asks for one ticket for all of them (`ticket.issue` `procedures`), and the
server chooses the order they are served in.

The word before printing: before any ticket is asked for, the kiosk says what it already knows
from the live sector stats (else the catalogue): today's numbers of a capped field or procedure
are gone (no ticket: a nearby centre, filing online), or the wait runs past closing (filing
online, a nearby centre, or "Take it anyway"). The server has the last word: a request goes with
`accept_past_closing: false` unless the citizen chose "Take it anyway" (the end of a visit is
only known to the server), and its refusals `daily_cap_reached` / `past_closing` bring the same
notice.

A part of KioskViewModel (kiosk/viewmodel.py); the screens' texts are in kiosk/presenters.py.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from kiosk.journey import HOME, NOTICE, PROCEDURE, PROCEDURES, VISIT
from protocol.errors import ErrorCode
from protocol.messages import MAX_VISIT_PROCEDURES

# The notice's kinds are the server's refusal codes, so a refusal and the kiosk's own check meet
CAP, PAST_CLOSING = ErrorCode.DAILY_CAP_REACHED.value, ErrorCode.PAST_CLOSING.value
Item = tuple[str, "str | None"]     # (sector, procedure or None for the whole field)


class Visits:
    # -- the list ------------------------------------------------------------------

    def current_choice(self) -> Item | None:
        """What the screen shown now would take a ticket for: a procedure card, a field's list."""
        if self.catalogue is None:
            return None
        if self.screen == PROCEDURE and self.procedure_id:
            sector, proc = self.catalogue.procedure(self.procedure_id)
            return (sector.id, proc.id) if proc is not None else None
        if self.screen == PROCEDURES and self.sector_id:
            return (self.sector_id, None)
        return None

    def items_with_current(self) -> list[Item]:
        """The list with the choice on screen added (once, and only while there is room)."""
        items = list(self.visit_items)
        choice = self.current_choice()
        if choice is not None and choice not in items and len(items) < MAX_VISIT_PROCEDURES:
            items.append(choice)
        return items

    def can_add_another(self) -> bool:
        """Room on the list for one more after the choice on screen."""
        return self.current_choice() is not None and len(self.items_with_current()) < MAX_VISIT_PROCEDURES

    def add_to_visit(self) -> None:
        """"Add another procedure": the choice on screen goes on the list, which is shown."""
        self.touch()
        if self.current_choice() is None:
            return
        self.visit_items = self.items_with_current()
        self._go(VISIT)
        self._changed()

    def remove_from_visit(self, index: int) -> None:
        self.touch()
        if 0 <= index < len(self.visit_items):
            del self.visit_items[index]
        if not self.visit_items:
            self._home_keeping_visit()
            return
        self._changed()

    def add_another(self) -> None:
        """The visit screen's "Add a procedure": home, to choose the next field."""
        self.touch()
        if len(self.visit_items) < MAX_VISIT_PROCEDURES:
            self._home_keeping_visit()

    def open_visit(self) -> None:
        """Home's "Your list" button."""
        self.touch()
        if self.visit_items:
            self.notice = None
            self._go(VISIT)
            self._changed()

    def take_visit_ticket(self) -> None:
        """The visit screen's "Take a ticket": one ticket for the whole list."""
        if self.visit_items:
            self._ask_for(list(self.visit_items), "normal")

    def _home_keeping_visit(self) -> None:
        self.sector_id, self.procedure_id, self.query, self.notice = None, None, "", None
        self._go(HOME)
        self._changed()

    # -- the word before printing --------------------------------------------------------

    def _ask_for(self, items: list[Item], priority: str, insist: bool = False) -> None:
        """Every citizen's way to a ticket: say first what stands in the way, else ask the server."""
        self.touch()
        if self.ticket_status == "requesting" or self.catalogue is None or not items:
            return  # a second tap while the first is on its way does nothing
        capped = self.capped_item(items)
        if capped is not None:
            self._show_notice(CAP, items, priority, capped)
            return
        late = None if insist else next((it for it in items if self._live(it[0], "past_closing")), None)
        if late is not None:
            self._show_notice(PAST_CLOSING, items, priority, late)
            return
        fields: dict[str, Any] = {"priority": priority, "lang": self.lang, "accept_past_closing": insist}
        if len(items) == 1:
            fields["sector"] = items[0][0]
            if items[0][1]:
                fields["procedure"] = items[0][1]
            self.sector_id, self.procedure_id = items[0]
        else:
            fields["procedures"] = [{"sector": s, **({"procedure": p} if p else {})} for s, p in items]
        self._request_ticket("ticket.issue", fields, ask={"items": list(items), "priority": priority})

    def _live(self, sector: str, key: str) -> Any:
        """A sector's `remaining_today` / `procedures_remaining` / `past_closing`: the live stats
        when the kiosk has heard them (they follow every ticket), else the catalogue's."""
        if sector in self.stats:
            return self.stats[sector].get(key)
        found = self.catalogue.sector(sector) if self.catalogue else None
        return getattr(found, key, None) if found is not None else None

    def capped_item(self, items: list[Item]) -> Item | None:
        """The first item whose sector's or procedure's numbers left today are fewer than the
        list asks for ((sector, None) when it is the sector's cap); None when nothing is capped."""
        per_sector = Counter(s for s, _ in items)
        per_procedure = Counter(p for _, p in items if p)
        for sector, procedure in items:
            left = self._live(sector, "remaining_today")
            if left is not None and per_sector[sector] > left:
                return (sector, None)
            if procedure:
                left = (self._live(sector, "procedures_remaining") or {}).get(procedure)
                if left is not None and per_procedure[procedure] > left:
                    return (sector, procedure)
        return None

    def _show_notice(self, kind: str, items: list[Item], priority: str, item: Item | None) -> None:
        self.notice = {"kind": kind, "items": list(items), "priority": priority, "item": item}
        self._go(NOTICE)
        self._changed()

    def notice_after_refusal(self, code: str, ask: dict[str, Any]) -> None:
        """The server refused for a cap or past closing: the same notice as the kiosk's own check."""
        items = ask["items"]
        item = self.capped_item(items) if code == CAP else items[-1]
        self._show_notice(code, items, ask["priority"], item)

    def take_anyway(self) -> None:
        """"Take it anyway" on the past-closing notice: the citizen still wants the ticket."""
        n = self.notice
        if n is not None and n["kind"] == PAST_CLOSING:
            self._ask_for(n["items"], n["priority"], insist=True)

    def notice_online_item(self) -> Item | None:
        """The first procedure of the notice that can be filed online (fully or in part)."""
        if self.notice is None or self.catalogue is None:
            return None
        for sector, procedure in self.notice["items"]:
            _, proc = self.catalogue.procedure(procedure)
            if proc is not None and proc.online in ("full", "partial"):
                return (sector, procedure)
        return None

    def notice_booking(self) -> tuple[datetime, str] | None:
        """On a cap notice, the earliest free booking slot of the capped procedure (of the first
        of the capped field's procedures in the list that has one) and its booking page:
        (start in the site's zone, URL). None when the site takes no bookings, the kiosk has not
        heard a slot, or the slot heard has started since (the stats follow the queue, not the clock)."""
        n = self.notice
        if n is None or n["kind"] != CAP or n["item"] is None or self.catalogue is None:
            return None
        book_url = self.catalogue.site.book_url
        sector, capped = n["item"]
        slots = (self.stats.get(sector) or {}).get("next_booking") or {}
        for procedure in [capped] if capped else [p for s, p in n["items"] if s == sector and p]:
            start = slots.get(procedure)
            if book_url and start:
                try:
                    when = datetime.fromisoformat(start)
                except (TypeError, ValueError):
                    when = None           # a slot we cannot read: no offer, rather than a wrong one
                if when is not None and when.tzinfo is not None and when > self.wall():
                    return when, f"{book_url}/{procedure}"
        return None

    def notice_file_online(self) -> None:
        item = self.notice_online_item()
        if item is not None:
            self.sector_id, self.procedure_id = item
            self.file_online()

    def notice_can_drop(self) -> bool:
        """A capped procedure of a longer list can be dropped, and the rest still taken."""
        n = self.notice
        return bool(n and n["kind"] == CAP and len(n["items"]) > 1 and n["item"] is not None)

    def notice_drop(self) -> None:
        """Drop what is capped (the item, or every item of a capped field) and show the list."""
        self.touch()
        if not self.notice_can_drop():
            return
        sector, procedure = self.notice["item"]
        self.visit_items = [it for it in self.notice["items"]
                            if not (it[0] == sector and (procedure is None or it[1] == procedure))]
        self.notice = None
        if not self.visit_items:
            self._home_keeping_visit()
            return
        self._go(VISIT)
        self._changed()
