"""The citizen's journey through the screens: which screen is shown, what has been chosen, where
each touch leads, and when the kiosk goes home by itself.

A part of KioskViewModel (kiosk/viewmodel.py). To add a step (a screen of its own, e.g. a
booking code or several procedures in one visit): name its screen below, add what it remembers
to `_reset_journey` (so it starts afresh for the next citizen), give it its methods here or in a
module of its own, and its view in kiosk/presenters.py. A step that ends in a ticket asks for it
through `TicketRequests._request_ticket` (kiosk/tickets.py): the retry, the error screen and
printing then come with it.
"""
from __future__ import annotations

from typing import Any

from kiosk.printing import OK
from kiosk.texts import PRIORITY_LABELS
from protocol.messages import TicketResult

HOME, PRIORITY, PROCEDURES, PROCEDURE, TICKET, GUIDANCE, ERROR, VISIT, NOTICE, CHECKIN = (
    "home", "priority", "procedures", "procedure", "ticket", "guidance", "error", "visit", "notice", "checkin")
SCREENS = (HOME, PRIORITY, PROCEDURES, PROCEDURE, TICKET, GUIDANCE, ERROR, VISIT, NOTICE, CHECKIN)
QUERY_MAX = 40   # characters of a search: the on-screen keyboard's field holds no more


class Journey:
    # -- one citizen's journey: everything here starts afresh when the kiosk goes home ------------

    def _reset_journey(self) -> None:
        self.sector_id: str | None = None
        self.procedure_id: str | None = None
        self.query = ""
        self.priority = "normal"
        self.ticket: TicketResult | None = None
        self.ticket_status = "idle"          # idle | requesting | issued
        self.print_status: str | None = None  # printing | ok | paper_out | cover_open | offline
        self.guidance: dict[str, Any] | None = None
        self.guidance_status = "idle"        # idle | requesting | ready | local
        self.guidance_print_status: str | None = None
        self.pending: dict[str, Any] | None = None   # the ticket request on its way (kiosk/tickets.py)
        self.error: dict[str, Any] | None = None
        # a visit of several procedures (kiosk/visits.py): (sector, procedure or None), as chosen
        self.visit_items: list[tuple[str, str | None]] = []
        self.notice: dict[str, Any] | None = None    # the word before printing (kiosk/visits.py)
        self._reset_checkin()                        # a booking's check-in (kiosk/checkin.py)

    def _go(self, screen: str) -> None:
        self.screen = screen
        self.screen_since = self.clock()

    def touch(self) -> None:
        """Any touch anywhere: the idle clock starts again."""
        self.last_activity = self.clock()

    # -- navigation ------------------------------------------------------------

    def go_home(self) -> None:
        if self.speaker:
            self.speaker.stop()
        self._reset_journey()
        self.lang = self.settings.lang
        if self.catalogue is None:
            self.error = self._no_catalogue_error()
            self._go(ERROR)
        else:
            self._go(HOME)
        self.touch()
        self._changed()

    def set_lang(self, lang: str) -> None:
        if lang in ("vi", "en"):
            self.lang = lang
        self.touch()
        self._changed()

    def toggle_lang(self) -> None:
        self.set_lang("en" if self.lang == "vi" else "vi")

    def back(self) -> None:
        self.touch()
        if self.screen == PROCEDURE:
            self.procedure_id = None
            self._go(PROCEDURES)
        elif self.screen == GUIDANCE and self.procedure_id:
            self._go(PROCEDURE)
        elif self.screen == PROCEDURES and self.sector_id is None and self.query:
            self.query = ""
            self._go(HOME)
        elif self.visit_items and self.screen in (PROCEDURES, VISIT, NOTICE, PRIORITY):
            self._home_keeping_visit()   # the list a citizen is building is never lost by "Back"
            return
        else:
            self.go_home()
            return
        self._changed()

    def open_sector(self, sector_id: str) -> None:
        self.touch()
        if self.catalogue is None or self.catalogue.sector(sector_id) is None:
            return
        self.sector_id, self.procedure_id, self.query = sector_id, None, ""
        self._go(PROCEDURES)
        self._changed()

    def open_search(self) -> None:
        """Search from home: every sector's procedures, filtered by what is typed."""
        self.touch()
        if self.catalogue is None:
            return
        self.sector_id, self.procedure_id, self.query = None, None, ""
        self._go(PROCEDURES)
        self._changed()

    def open_procedure(self, procedure_id: str) -> None:
        self.touch()
        if self.catalogue is None:
            return
        sector, proc = self.catalogue.procedure(procedure_id)
        if proc is None:
            return
        self.sector_id, self.procedure_id = sector.id, proc.id
        self._go(PROCEDURE)
        self._changed()

    def open_priority(self) -> None:
        self.touch()
        if self.catalogue is None:
            return
        self.priority = "normal"
        self._go(PRIORITY)
        self._changed()

    def choose_priority(self, group: str) -> None:
        self.touch()
        if group in PRIORITY_LABELS:
            self.priority = group
        self._changed()

    # -- search ----------------------------------------------------------------

    def search_type(self, text: str) -> None:
        self.touch()
        if len(self.query) < QUERY_MAX:
            self.query = (self.query + text)[:QUERY_MAX]
        self._changed()

    def search_backspace(self) -> None:
        self.touch()
        self.query = self.query[:-1]
        self._changed()

    def search_clear(self) -> None:
        self.touch()
        self.query = ""
        self._changed()

    def set_query(self, text: str) -> None:
        self.touch()
        self.query = (text or "")[:QUERY_MAX]
        self._changed()

    # -- the hardware buttons ----------------------------------------------------

    def speak(self) -> None:
        self.touch()
        if self.speaker is not None:
            self.speaker.say(self.speech_text(), self.lang)

    def hw_ticket(self) -> None:
        """The physical ticket button: a ticket for the field on screen, else say how to start."""
        if self.screen in (PROCEDURES, PROCEDURE) and self.sector_id:
            self.take_ticket()
        elif self.screen == VISIT and self.visit_items:
            self.take_visit_ticket()
        elif self.screen == PRIORITY and self.sector_id and self.priority != "normal":
            self.take_priority_ticket(self.sector_id)
        elif self.speaker is not None:
            self.touch()
            self.speaker.say(self.t("Please touch your field on the screen first, then press the button again."),
                             self.lang)

    def hw_priority(self) -> None:
        """The physical priority button opens the priority screen and reads it aloud."""
        self.open_priority()
        self.speak()

    # -- leaving a screen by itself ------------------------------------------------

    def _leave_by_itself(self, now: float) -> None:
        """The ticket screen goes home a few seconds after the paper is out; any other screen
        after the idle timeout. Never while a request of its own is on the way."""
        if self.ticket_status == "requesting" or self.guidance_status == "requesting":
            return
        if (self.screen == TICKET and self.print_status in (OK, None) and self.ticket_status == "issued"
                and now - max(self.screen_since, self.last_activity) >= self.settings.ticket_home_s):
            self.go_home()
            return
        idle = now - self.last_activity >= self.settings.idle_timeout_s
        if idle and (self.screen not in (HOME, ERROR) or self.lang != self.settings.lang
                     or (self.screen == ERROR and self.error and self.error.get("code") != "no_catalogue")):
            self.go_home()
