"""Everything the kiosk does, as plain Python (no Kivy): screens observe it, tests drive it.

Ports, passed in so tests swap them: `backend` (KioskLink: request/set_status),
`printer` (TicketPrinter), `speaker` (Speaker), `loader` (CatalogueStore.load),
`run_async` (blocking work off the UI thread) and `post` (results back onto it),
`clock` (monotonic seconds) and `wall` (aware datetime for time stamps).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable

from kiosk.catalogue import Catalogue, CatalogueError, Procedure, Sector, zone
from kiosk.printing import OK, GuidanceSlip, PrintOutcome, TicketSlip
from kiosk.texts import (ERROR_TEXTS, GENERIC_ERROR, PRIORITY_LABELS, T, days_text, fee_text, minutes_text,
                         online_text, spell_number)
from protocol import guidance
from protocol.client import ReplyTimeout, new_req_id
from protocol.messages import SHOWN_WAIT, ErrorBody, I18nText, ProvinceNearby, Reply, SectorStats, TicketResult, parse
from motcua.zones import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

HOME, PRIORITY, PROCEDURES, PROCEDURE, TICKET, GUIDANCE, ERROR = (
    "home", "priority", "procedures", "procedure", "ticket", "guidance", "error")
SCREENS = (HOME, PRIORITY, PROCEDURES, PROCEDURE, TICKET, GUIDANCE, ERROR)

# Sector ids/icon names -> a glyph DejaVu Sans has (checked with fontTools).
# Checked in this order, so "ly-lich-tu-phap" gets ✎ and not the ⚖ of "tu-phap".
ICONS = {"ly-lich": "✎", "record": "✎", "justice": "⚖", "tu-phap": "⚖", "ho-tich": "☺", "land": "☘",
         "dat-dai": "☘", "construction": "⚒", "xay-dung": "⚒", "business": "⚙", "kinh-doanh": "⚙",
         "social": "♥", "lao-dong": "♥", "results": "✉", "tra-ket-qua": "✉"}
DEFAULT_ICON = "★"
NEARBY_MAX = 3   # at most this many other centres on the card: a short list, read aloud in full


def _inline(fn: Callable[[], None]) -> None:
    fn()


def _thread(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, daemon=True).start()


@dataclass
class KioskSettings:
    lang: str = "vi"
    idle_timeout_s: float = 45
    long_wait_min: float = 30
    ticket_home_s: float = 12          # the ticket screen goes home by itself after this
    request_timeout_s: float = 6.0     # a ticket request waits this long (retrying, same req_id)
    guidance_timeout_s: float = 3.0
    catalogue_retry_s: float = 15.0    # without a catalogue, try again this often
    catalogue_refresh_s: float = 600.0
    printer_recheck_s: float = 20.0    # while the printer is in fault, ask it again this often
    timezone: str = DEFAULT_TIMEZONE   # when the catalogue names no zone


class KioskViewModel:
    def __init__(self, settings: KioskSettings | None = None, *, backend=None, printer=None, speaker=None,
                 loader: Callable[[], Catalogue] | None = None, catalogue: Catalogue | None = None,
                 run_async: Callable = _thread, post: Callable = _inline,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.settings = settings or KioskSettings()
        self.backend, self.printer, self.speaker, self.loader = backend, printer, speaker, loader
        self.run_async, self.post, self.clock, self.wall = run_async, post, clock, wall
        self._observers: list[Callable[[], None]] = []
        self.catalogue = catalogue
        self.catalogue_from_cache = False
        self._catalogue_loading = False
        self._catalogue_tried_at = -1e9
        self.lang = self.settings.lang
        self.stats: dict[str, dict[str, Any]] = {}
        self.nearby: dict[str, list[dict[str, Any]]] = {}   # sector -> the province's latest advice
        self.server_online: bool | None = None
        self.connected: bool = backend is not None
        self.help_requested = False
        self.help_requested_at: str | None = None
        self.printer_status = OK
        self.printer_paper_low = False
        self._printer_checking = False
        self._printer_checked_at = -1e9
        self._reset_journey()
        self.screen = HOME if catalogue else ERROR
        self.error = None if catalogue else self._no_catalogue_error()
        self.last_activity = self.screen_since = self.clock()

    # -- observers -------------------------------------------------------------

    def bind(self, fn: Callable[[], None]) -> None:
        self._observers.append(fn)

    def _changed(self) -> None:
        for fn in list(self._observers):
            try:
                fn()
            except Exception:  # one broken screen must not stop the others
                log.exception("observer failed")

    def t(self, msgid: str, **params: Any) -> str:
        return T(msgid, self.lang, **params)

    # -- navigation ------------------------------------------------------------

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
        self.pending: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None

    def _go(self, screen: str) -> None:
        self.screen = screen
        self.screen_since = self.clock()

    def touch(self) -> None:
        """Any touch anywhere: the idle clock starts again."""
        self.last_activity = self.clock()

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
        if len(self.query) < 40:
            self.query = (self.query + text)[:40]
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
        self.query = (text or "")[:40]
        self._changed()

    # -- tickets ---------------------------------------------------------------

    def take_ticket(self) -> None:
        """The big "take a ticket" button of the procedures list or the procedure card."""
        if self.sector_id is None and self.procedure_id is None:
            return
        self.take_ticket_for(self.sector_id, self.procedure_id)

    def take_priority_ticket(self, sector_id: str) -> None:
        if self.priority == "normal":
            self._changed()
            return
        self.take_ticket_for(sector_id, None, self.priority)

    def take_ticket_for(self, sector_id: str | None, procedure_id: str | None = None,
                        priority: str | None = None) -> None:
        self.touch()
        if self.ticket_status == "requesting" or self.catalogue is None:
            return  # a second tap while the first is on its way does nothing
        if procedure_id and sector_id is None:
            sector, _ = self.catalogue.procedure(procedure_id)
            sector_id = sector.id if sector else None
        if self.catalogue.sector(sector_id) is None:
            return
        # priority only through the priority screen: a group tapped there and left does not stick
        fields: dict[str, Any] = {"sector": sector_id, "priority": priority or "normal", "lang": self.lang}
        if procedure_id:
            fields["procedure"] = procedure_id
        self.sector_id, self.procedure_id = sector_id, procedure_id
        self.pending = {"type": "ticket.issue", "fields": fields, "req_id": new_req_id()}
        self._send_pending()

    def retry(self) -> None:
        """Try the same request again: same req_id, so the server issues at most one ticket."""
        self.touch()
        if self.pending is not None:
            self._send_pending()
        elif self.catalogue is None:
            self.reload_catalogue(force=True)

    def _send_pending(self) -> None:
        pending = self.pending
        self.ticket, self.ticket_status, self.print_status, self.error = None, "requesting", None, None
        self._go(TICKET)
        self._changed()
        timeout = self.settings.request_timeout_s

        def work() -> None:
            try:
                reply = self.backend.request(pending["type"], pending["fields"], pending["req_id"], timeout)
            except ReplyTimeout:
                self.post(lambda: self._ticket_failed(pending, "no_answer"))
            except Exception as exc:  # a broken link is the same as no answer for the citizen
                log.warning("ticket request failed: %s", exc)
                self.post(lambda: self._ticket_failed(pending, "no_answer"))
            else:
                self.post(lambda: self._ticket_reply(pending, reply))

        if self.backend is None:
            self._ticket_failed(pending, "no_answer")
            return
        self.run_async(work)

    def _ticket_failed(self, pending: dict, code: str) -> None:
        if pending is not self.pending:
            return  # the citizen already left this request
        self.ticket_status = "idle"
        self.error = {"code": code, "can_retry": True}
        self._go(ERROR)
        self._changed()

    def _ticket_reply(self, pending: dict, reply: Any) -> None:
        if pending is not self.pending:
            return
        # Read through the contract's model (a refused reply is logged by parse, without its content).
        parsed = parse(Reply, reply) if reply is not None else None
        ticket = parsed.result.ticket if parsed is not None and parsed.ok and parsed.result else None
        if ticket is None or not ticket.number:
            err = (parsed.error if parsed is not None else None) or ErrorBody(code="internal", message="")
            # the server answered: a retry of this req_id would get the same answer, so start afresh
            self.pending = None
            self.ticket_status = "idle"
            self.error = {"code": err.code or "internal", "can_retry": False,
                          "detail": err.message_vi if self.lang == "vi" else err.message}
            self._go(ERROR)
            self._changed()
            return
        self.pending = None
        self.ticket = ticket
        self.ticket_status = "issued"
        self._go(TICKET)
        self._print_ticket()

    def _ticket_slip(self) -> TicketSlip:
        tk = self.ticket
        sector = self.catalogue.sector(tk.sector) if self.catalogue else None
        _, proc = self.catalogue.procedure(tk.procedure) if self.catalogue else (None, None)
        # printed_wait_s: TicketResult reads an older server's est_wait_s as it
        return TicketSlip(site_name=self.catalogue.site.name.get(self.lang) if self.catalogue else "",
                          number=tk.number, sector_name=sector.name.get(self.lang) if sector else tk.sector,
                          procedure_name=proc.name.get(self.lang) if proc else None,
                          issued_at=self._when(tk.issued_at), ahead=self.ticket_ahead(),
                          est_wait_s=tk.printed_wait_s or 0, track_url=tk.track_url,
                          priority=tk.priority, lang=self.lang)

    def site_zone(self) -> tzinfo:
        """The zone of every time a citizen reads: the site's (its catalogue, else the kiosk's
        config), whatever zone the device's OS is set to (issue #14: a Pi left on UTC)."""
        name = self.catalogue.site.timezone if self.catalogue and self.catalogue.site.timezone else None
        return zone(name or self.settings.timezone) or timezone.utc

    def _when(self, iso: Any) -> str:
        site = self.site_zone()
        try:
            when = datetime.fromisoformat(str(iso))
            # a time without an offset is taken as the site's (the server sends offsets)
            when = when.astimezone(site) if when.tzinfo is not None else when.replace(tzinfo=site)
        except ValueError:
            when = self.wall().astimezone(site)
        return when.strftime("%H:%M %d/%m/%Y")

    def ticket_ahead(self) -> int:
        tk = self.ticket
        if tk is None:
            return 0
        if tk.ahead is not None:
            return max(0, tk.ahead)
        return max(0, (tk.position or 1) - 1)

    def _print_ticket(self) -> None:
        if self.printer is None or self.ticket is None:
            self.print_status = None
            self._changed()
            return
        self.print_status = "printing"
        self._changed()
        slip = self._ticket_slip()
        ticket = self.ticket

        def work() -> None:
            outcome = self.printer.print_ticket(slip)
            self.post(lambda: self._printed(ticket, outcome))

        self.run_async(work)

    def _printed(self, ticket: TicketResult, outcome: PrintOutcome) -> None:
        self._report_printer(outcome)
        if ticket is self.ticket:
            self.print_status = outcome.status
            if outcome.status == OK:
                self.screen_since = self.clock()  # the few seconds on screen start when the paper is out
        self._changed()

    def _report_printer(self, outcome: PrintOutcome) -> None:
        # on any change, paper_low going back to false too: else a refilled roll's alert would stay
        if outcome.status != self.printer_status or outcome.paper_low != self.printer_paper_low:
            self.printer_status, self.printer_paper_low = outcome.status, outcome.paper_low
            self._publish(printer=outcome.status, printer_detail=outcome.detail or None,
                          paper_low=outcome.paper_low)

    def _recheck_printer(self) -> None:
        self._printer_checking = True
        self._printer_checked_at = self.clock()

        def work() -> None:
            outcome = self.printer.check()
            self.post(lambda: self._printer_checked(outcome))

        self.run_async(work)

    def _printer_checked(self, outcome: PrintOutcome) -> None:
        self._printer_checking = False
        self._report_printer(outcome)
        self._changed()

    def reprint(self) -> None:
        self.touch()
        if self.ticket is not None and self.print_status != "printing":
            self._print_ticket()

    # -- online filing ---------------------------------------------------------

    def file_online(self) -> None:
        self.touch()
        if self.catalogue is None or self.guidance_status == "requesting":
            return
        sector, proc = self.catalogue.procedure(self.procedure_id)
        if proc is None:
            return
        self.guidance, self.guidance_status, self.guidance_print_status = None, "requesting", None
        self._go(GUIDANCE)
        self._changed()
        fields = {"procedure": proc.id, "lang": self.lang}
        req_id = new_req_id()
        timeout = self.settings.guidance_timeout_s

        def work() -> None:
            try:
                reply = self.backend.request("guidance.online", fields, req_id, timeout)
            except Exception as exc:  # timeout or broken link: local guidance still helps the citizen
                log.info("guidance.online got no answer (%s); showing local guidance", exc)
                reply = None
            self.post(lambda: self._guidance_reply(proc, reply))

        if self.backend is None:
            self._guidance_reply(proc, None)
        else:
            self.run_async(work)

    def _local_guidance(self, proc: Procedure) -> dict[str, Any]:
        portal = proc.portal_url or self.catalogue.site.online_portal
        return {"portal_url": portal, "procedure": proc.id, "online": proc.online,
                "steps": guidance.steps(portal, proc.name.get(self.lang), proc.online, self.lang)}

    def _guidance_reply(self, proc: Procedure, reply: Any) -> None:
        if self.screen != GUIDANCE or self.procedure_id != proc.id:
            return
        # Read through the contract's model; a refused reply (logged by parse) gets the local guidance.
        parsed = parse(Reply, reply) if reply is not None else None
        found = parsed.result.guidance if parsed is not None and parsed.ok and parsed.result else None
        if found is not None:
            self.guidance = {"portal_url": found.portal_url, "procedure": found.procedure, "online": found.online,
                             "steps": list(found.steps) or self._local_guidance(proc)["steps"]}
            self.guidance_status = "ready"
        else:
            self.guidance = self._local_guidance(proc)
            self.guidance_status = "local"
        self._changed()

    def print_guidance(self) -> None:
        self.touch()
        if self.printer is None or self.guidance is None or self.guidance_print_status == "printing":
            return
        _, proc = self.catalogue.procedure(self.procedure_id)
        slip = GuidanceSlip(site_name=self.catalogue.site.name.get(self.lang),
                            procedure_name=proc.name.get(self.lang) if proc else "",
                            portal_url=self.guidance["portal_url"], steps=tuple(self.guidance["steps"]),
                            lang=self.lang)
        self.guidance_print_status = "printing"
        self._changed()

        def work() -> None:
            outcome = self.printer.print_guidance(slip)
            self.post(lambda: self._guidance_printed(outcome))

        self.run_async(work)

    def _guidance_printed(self, outcome: PrintOutcome) -> None:
        self._report_printer(outcome)
        self.guidance_print_status = outcome.status
        self._changed()

    # -- help, speech, hardware buttons -----------------------------------------

    def request_help(self) -> None:
        self.touch()
        if not self.help_requested:
            self.help_requested = True
            self.help_requested_at = self.wall().isoformat()
            self._publish(help_requested=True, help_requested_at=self.help_requested_at)
        self._changed()

    def help_served(self) -> None:
        """Staff came (on-screen "cancel" or a long press of the help button)."""
        self.touch()
        if self.help_requested:
            self.help_requested = False
            self._publish(help_requested=False, help_requested_at=None)
        self._changed()

    def speak(self) -> None:
        self.touch()
        if self.speaker is not None:
            self.speaker.say(self.speech_text(), self.lang)

    def hw_ticket(self) -> None:
        """The physical ticket button: a ticket for the field on screen, else say how to start."""
        if self.screen in (PROCEDURES, PROCEDURE) and self.sector_id:
            self.take_ticket()
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

    def _publish(self, **fields: Any) -> None:
        if self.backend is None:
            return
        try:
            self.backend.set_status(**fields)
        except Exception as exc:  # status is best effort; the broker resends when it is back
            log.warning("could not publish status: %s", exc)

    # -- live data from the broker -----------------------------------------------

    def on_sector_stats(self, sector: str, stats: dict[str, Any]) -> None:
        parsed = parse(SectorStats, stats)      # the contract's model; a refused payload is logged and ignored
        if parsed is None:
            return
        self.stats[sector] = {"waiting": parsed.waiting, SHOWN_WAIT: parsed.shown_wait_s}
        if self.screen in (HOME, PROCEDURES, PROCEDURE, PRIORITY):
            self._changed()

    def on_nearby(self, sector: str, advice: Any) -> None:
        """The province's retained advice for one sector: nearby centres with shorter waits.
        An empty list clears it; so does a message we cannot read (better no advice than stale)."""
        options = parse_nearby(advice)
        if options is None:
            log.warning("unreadable nearby advice for %s: %.200r", sector, advice)
        if options:
            self.nearby[sector] = options
        else:
            self.nearby.pop(sector, None)
        if self.screen == PROCEDURE:
            self._changed()

    def on_server_status(self, payload: dict[str, Any]) -> None:
        self.server_online = bool(payload.get("online"))
        self._changed()

    def on_connection(self, up: bool) -> None:
        self.connected = up
        self._changed()

    # -- catalogue ---------------------------------------------------------------

    def set_catalogue(self, catalogue: Catalogue, from_cache: bool = False) -> None:
        self.catalogue = catalogue
        self.catalogue_from_cache = from_cache
        if self.screen == ERROR and self.error and self.error.get("code") == "no_catalogue":
            self.error = None
            self._go(HOME)
        self._changed()

    def reload_catalogue(self, force: bool = False) -> None:
        if self.loader is None or self._catalogue_loading:
            return
        self._catalogue_loading = True
        self._catalogue_tried_at = self.clock()
        loader = self.loader

        def work() -> None:
            try:
                cat = loader()
                from_cache = bool(getattr(loader, "__self__", None) and loader.__self__.from_cache)
                self.post(lambda: self._catalogue_loaded(cat, from_cache))
            except CatalogueError as exc:
                log.warning("no catalogue: %s", exc)
                self.post(lambda: self._catalogue_loaded(None, False))

        self.run_async(work)

    def _catalogue_loaded(self, cat: Catalogue | None, from_cache: bool) -> None:
        self._catalogue_loading = False
        if cat is not None:
            self.set_catalogue(cat, from_cache)

    def _no_catalogue_error(self) -> dict[str, Any]:
        return {"code": "no_catalogue", "can_retry": True}

    # -- the clock ---------------------------------------------------------------

    def tick(self) -> None:
        """Called about once a second: idle timeout, ticket screen going home, catalogue retries."""
        now = self.clock()
        if self.loader is not None:
            every = (self.settings.catalogue_retry_s if self.catalogue is None or self.catalogue_from_cache
                     else self.settings.catalogue_refresh_s)
            if now - self._catalogue_tried_at >= every:
                self.reload_catalogue()
        if (self.printer is not None and self.printer_status != OK and not self._printer_checking
                and now - self._printer_checked_at >= self.settings.printer_recheck_s):
            self._recheck_printer()
        if self.ticket_status == "requesting" or self.guidance_status == "requesting":
            return  # never leave a screen while its request is on the way
        if (self.screen == TICKET and self.print_status in (OK, None) and self.ticket_status == "issued"
                and now - max(self.screen_since, self.last_activity) >= self.settings.ticket_home_s):
            self.go_home()
            return
        idle = now - self.last_activity >= self.settings.idle_timeout_s
        if idle and (self.screen not in (HOME, ERROR) or self.lang != self.settings.lang
                     or (self.screen == ERROR and self.error and self.error.get("code") != "no_catalogue")):
            self.go_home()

    # -- what the screens show ---------------------------------------------------

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
                 "wait": self.t("Waiting: {n} · {wait}", n=self.sector_waiting(s),
                                wait=minutes_text(self.sector_wait_s(s), self.lang))}
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
                "nearby": self.nearby_view(sector.id),
                "documents": [d.get(self.lang) for d in p.documents] or [self.t("Staff will tell you at the counter.")],
                "fee": fee_text(p.fee_vnd, note, self.lang), "days": days_text(p.days, self.lang),
                "online": online_text(p.online, self.lang), "can_file_online": p.online in ("full", "partial"),
                "wait": minutes_text(wait_s, self.lang), "waiting": self.sector_waiting(sector),
                "long_wait_hint": hint}

    def nearby_view(self, sector_id: str | None) -> dict[str, Any] | None:
        """Other centres with shorter waits, only when our own wait for the sector is long.
        Advice, never a gate: the card keeps its "take a ticket" button."""
        sector = self.catalogue.sector(sector_id) if self.catalogue and sector_id else None
        if sector is None or not self.nearby.get(sector.id):
            return None
        own = self.sector_wait_s(sector)
        if own <= self.settings.long_wait_min * 60:
            return None
        # the province computed "shorter" from its own view; keep only what is shorter than ours now
        options = [o for o in self.nearby[sector.id] if o[SHOWN_WAIT] < own][:NEARBY_MAX]
        if not options:
            return None
        rows = []
        for o in options:
            km = f"{o['distance_km']:.1f}"
            rows.append({"site": o["site"], "name": _pick(o["name"], self.lang) or o["site"],
                         "address": _pick(o["address"], self.lang),
                         "distance": self.t("{km} km away", km=km.replace(".", ",") if self.lang == "vi" else km),
                         "wait": self.t("wait {wait}", wait=minutes_text(o[SHOWN_WAIT], self.lang)),
                         "waiting": o["waiting"]})
        return {"title": self.t("Nearby centres with shorter waits"),
                "note": self.t("You can still take a ticket here."), "rows": rows}

    def ticket_view(self) -> dict[str, Any]:
        if self.ticket_status == "requesting" or self.ticket is None:
            return {"number": "…", "sector": "", "procedure": "", "ahead": "", "wait": "",
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
        return {"number": slip.number, "sector": slip.sector_name, "procedure": slip.procedure_name or "",
                "ahead": ahead, "wait": self.t("Estimated wait: {wait}", wait=minutes_text(slip.est_wait_s,
                                                                                           self.lang)),
                "status": status, "can_reprint": trouble, "trouble": trouble,
                "priority": (self.t("Priority: {group}", group=self.t(PRIORITY_LABELS[slip.priority]))
                             if slip.priority in PRIORITY_LABELS else "")}

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
                places = ". ".join(", ".join(x for x in (r["name"], r["address"], r["distance"], r["wait"]) if x)
                                   for r in near["rows"])
                parts += [f"{near['title']}: {places}.", near["note"]]
            return " ".join(x for x in parts if x)
        if s == TICKET:
            v = self.ticket_view()
            if self.ticket is None:
                return v["status"]
            return self.t("Your number is {number}. {sector}. {ahead}. {wait}. {status}",
                          number=spell_number(v["number"], self.lang), sector=v["sector"], ahead=v["ahead"],
                          wait=v["wait"], status=v["status"])
        if s == GUIDANCE:
            v = self.guidance_view()
            return " ".join([v["procedure"] + ".", v["status"], *v["steps"]])
        v = self.error_view()
        return f"{v['title']}. {v['message']}"


def _pick(text: Any, lang: str) -> str:
    """A {"vi", "en"} text in `lang`, falling back to the other language; a plain string as is."""
    if isinstance(text, str):
        return text.strip()
    if isinstance(text, dict):
        for key in (lang, "vi", "en"):
            if isinstance(text.get(key), str) and text[key].strip():
                return text[key].strip()
    return ""


def parse_nearby(advice: Any) -> list[dict[str, Any]] | None:
    """The usable options of a `province.nearby` payload (protocol.messages.ProvinceNearby),
    shortest wait first; None when the payload itself is unreadable. A bad option is dropped
    (by the model), the others kept."""
    parsed = parse(ProvinceNearby, advice) if isinstance(advice, dict) else None
    if parsed is None:
        return None
    options = [{"site": o.site, "name": (o.name.model_dump() if isinstance(o.name, I18nText) else o.name) or o.site,
                "address": (o.address.model_dump() if isinstance(o.address, I18nText) else o.address) or "",
                "distance_km": o.distance_km, SHOWN_WAIT: o.shown_wait_s, "waiting": o.waiting}
               for o in parsed.nearby]
    options.sort(key=lambda o: (o[SHOWN_WAIT], o["distance_km"]))
    return options
