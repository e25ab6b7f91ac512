"""What the kiosk hears from the site while it runs (live waits, the province's nearby-centres
advice, the server's and the broker connection's state) and what it tells staff through its
device status (a citizen asking for help; the printer's state is reported by kiosk/print_jobs.py).

A part of KioskViewModel (kiosk/viewmodel.py); kiosk/link.py brings the messages in, each
already read through its model in protocol/messages.py.
"""
from __future__ import annotations

import logging
from typing import Any

from kiosk.journey import HOME, PRIORITY, PROCEDURE, PROCEDURES
from kiosk.replies import nearby_options
from protocol.messages import SHOWN_WAIT, ProvinceNearby, SectorStats, ServerStatus

log = logging.getLogger(__name__)


class LiveSite:
    # -- heard from the site ---------------------------------------------------------

    def on_sector_stats(self, sector: str, stats: SectorStats) -> None:
        # the daily caps and past closing (issue #18) are read before printing: kiosk/visits.py
        self.stats[sector] = {"waiting": stats.waiting, SHOWN_WAIT: stats.shown_wait_s,
                              "remaining_today": stats.remaining_today,
                              "procedures_remaining": stats.procedures_remaining or {},
                              "past_closing": stats.past_closing,
                              "next_booking": stats.procedures_next_booking or {}}
        if self.screen in (HOME, PROCEDURES, PROCEDURE, PRIORITY):
            self._changed()

    def on_nearby(self, sector: str, advice: ProvinceNearby | None) -> None:
        """The province's retained advice for one sector: nearby centres with shorter waits.
        An empty list clears it; so does advice we cannot read (None: better no advice than stale)."""
        if advice is None:
            log.warning("unreadable nearby advice for %s", sector)
        options = nearby_options(advice) if advice is not None else []
        if options:
            self.nearby[sector] = options
        else:
            self.nearby.pop(sector, None)
        if self.screen == PROCEDURE:
            self._changed()

    def on_server_status(self, status: ServerStatus) -> None:
        self.server_online = status.online
        self._changed()

    def on_connection(self, up: bool) -> None:
        self.connected = up
        self._changed()

    # -- told to staff -----------------------------------------------------------------

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

    def _publish(self, **fields: Any) -> None:
        if self.backend is None:
            return
        try:
            self.backend.set_status(**fields)
        except Exception as exc:  # status is best effort; the broker resends when it is back
            log.warning("could not publish status: %s", exc)
