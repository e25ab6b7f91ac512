"""Everything the kiosk does, as plain Python (no Kivy): screens observe it, tests drive it.

KioskViewModel holds the state and puts together the parts, one job each:
kiosk/journey.py (screens, choices, navigation, going home by itself), kiosk/tickets.py (asking
for a ticket, retries), kiosk/print_jobs.py (slips, the printer's state), kiosk/online_filing.py
(the steps to file online), kiosk/checkin.py (a booking's check-in, the scanner's codes and ID
cards), kiosk/live.py (live waits, advice, server state; help to staff),
kiosk/presenters.py (what each screen shows and read-aloud says), kiosk/visits.py (a visit of
several procedures; the word before printing: daily caps, past closing), with kiosk/replies.py
reading what the server sends.

Ports, passed in so tests swap them: `backend` (KioskLink: request/set_status),
`printer` (TicketPrinter), `speaker` (Speaker), `loader` (CatalogueStore.load),
`run_async` (blocking work off the UI thread) and `post` (results back onto it),
`clock` (monotonic seconds) and `wall` (aware datetime for time stamps).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

from kiosk.catalogue import Catalogue, CatalogueError
from kiosk.checkin import CheckIns
from kiosk.journey import ERROR, HOME, Journey
from kiosk.live import LiveSite
from kiosk.online_filing import OnlineFiling
from kiosk.presenters import ScreenViews
from kiosk.print_jobs import PrintJobs
from kiosk.printing import OK
from kiosk.settings import KioskSettings
from kiosk.texts import T
from kiosk.tickets import TicketRequests
from kiosk.visits import Visits

log = logging.getLogger(__name__)


def _inline(fn: Callable[[], None]) -> None:
    fn()


def _thread(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, daemon=True).start()


class KioskViewModel(Journey, TicketRequests, Visits, CheckIns, PrintJobs, OnlineFiling, LiveSite, ScreenViews):
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
        """Called about once a second: catalogue retries, the printer and the ID card key asked
        again, idle timeout, the ticket screen going home."""
        now = self.clock()
        if self.loader is not None:
            every = (self.settings.catalogue_retry_s if self.catalogue is None or self.catalogue_from_cache
                     else self.settings.catalogue_refresh_s)
            if now - self._catalogue_tried_at >= every:
                self.reload_catalogue()
        self._recheck_printer_when_due(now)
        self._recheck_id_key_when_due(now)
        self._leave_by_itself(now)
