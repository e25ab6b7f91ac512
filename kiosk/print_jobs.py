"""What the kiosk prints (the ticket slip, the online-filing guide), in the site's time zone, and
how it follows the printer: each outcome reported in the device status, a printer in fault asked
again until it is back.

A part of KioskViewModel (kiosk/viewmodel.py); kiosk/printing.py draws and sends the slips.
"""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any

from kiosk.catalogue import zone
from kiosk.printing import OK, GuidanceSlip, PrintOutcome, TicketSlip
from protocol.messages import TicketResult


class PrintJobs:
    # -- the ticket slip -----------------------------------------------------------

    def _ticket_slip(self) -> TicketSlip:
        tk = self.ticket
        sector = self.catalogue.sector(tk.sector) if self.catalogue else None
        _, proc = self.catalogue.procedure(tk.procedure) if self.catalogue else (None, None)
        # a visit: its procedures in the order the server will serve them (the reply's), and its end
        steps = tk.visit.procedures if tk.visit is not None else []
        # printed_wait_s: TicketResult reads an older server's est_wait_s as it
        return TicketSlip(site_name=self.catalogue.site.name.get(self.lang) if self.catalogue else "",
                          number=tk.number, sector_name=sector.name.get(self.lang) if sector else tk.sector,
                          procedure_name=proc.name.get(self.lang) if proc else None,
                          issued_at=self._when(tk.issued_at), ahead=self.ticket_ahead(),
                          est_wait_s=tk.printed_wait_s or 0, track_url=tk.track_url,
                          priority=tk.priority, lang=self.lang,
                          visit=tuple(self.item_name(p.sector, p.procedure) for p in steps) if len(steps) > 1 else (),
                          visit_end_s=tk.visit.end_s if len(steps) > 1 else None,
                          booked_at=self.booked_time())

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

    def reprint(self) -> None:
        self.touch()
        if self.ticket is not None and self.print_status != "printing":
            self._print_ticket()

    # -- the online-filing guide ---------------------------------------------------

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

    # -- the printer's state, told to staff -------------------------------------------

    def _report_printer(self, outcome: PrintOutcome) -> None:
        # on any change, paper_low going back to false too: else a refilled roll's alert would stay
        if outcome.status != self.printer_status or outcome.paper_low != self.printer_paper_low:
            self.printer_status, self.printer_paper_low = outcome.status, outcome.paper_low
            self._publish(printer=outcome.status, printer_detail=outcome.detail or None,
                          paper_low=outcome.paper_low)

    def _recheck_printer_when_due(self, now: float) -> None:
        if (self.printer is not None and self.printer_status != OK and not self._printer_checking
                and now - self._printer_checked_at >= self.settings.printer_recheck_s):
            self._recheck_printer()

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
