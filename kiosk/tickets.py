"""Asking the server for a ticket: the request, its retries under one req_id (so the server
issues at most one ticket), and what the citizen sees when it fails.

A part of KioskViewModel (kiosk/viewmodel.py). A citizen's `ticket.issue` (one procedure, a
field, a priority ticket, a visit of several procedures) goes through `Visits._ask_for`
(kiosk/visits.py), which first says what stands in the way (a daily cap, past closing). Any
step of the journey that ends in a ticket (e.g. a booking check-in) asks through
`_request_ticket` with its own command type and fields; the reply is read by
kiosk/replies.read_ticket_reply and the ticket printed by kiosk/print_jobs.py.
"""
from __future__ import annotations

import logging
from typing import Any

from kiosk.checkin import CHECK_IN
from kiosk.journey import ERROR, TICKET, VISIT
from kiosk.replies import read_ticket_reply
from kiosk.visits import CAP, PAST_CLOSING
from protocol.client import ReplyTimeout, new_req_id
from protocol.messages import TicketResult

log = logging.getLogger(__name__)


class TicketRequests:
    def take_ticket(self) -> None:
        """The big "take a ticket" button of the procedures list or the procedure card. With a
        list of procedures started (kiosk/visits.py), the choice on screen joins it and the
        ticket is for them all; a full list is shown instead, to remove one first."""
        if self.visit_items:
            self.touch()
            items = self.items_with_current()
            choice = self.current_choice()
            self.visit_items = items
            if choice is not None and choice not in items:
                self._go(VISIT)
                self._changed()
                return
            self._ask_for(items, "normal")
            return
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
        self.sector_id, self.procedure_id = sector_id, procedure_id
        self._ask_for([(sector_id, procedure_id)], priority or "normal")

    def _request_ticket(self, type_: str, fields: dict[str, Any], ask: dict[str, Any] | None = None) -> None:
        """Send a command whose reply carries a ticket, with a new req_id kept for its retries.
        `ask`: what the citizen asked for (kiosk/visits.py), to explain a cap or past-closing refusal."""
        self.pending = {"type": type_, "fields": fields, "req_id": new_req_id(), "ask": ask}
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
        read = read_ticket_reply(reply)
        # the server answered either way: a retry of this req_id would get the same answer, so
        # an error starts afresh
        self.pending = None
        if not isinstance(read, TicketResult) and pending["type"] == CHECK_IN:
            self._check_in_refused(read, pending)    # kiosk/checkin.py: said on its own screen
            return
        if not isinstance(read, TicketResult) and read.code in (CAP, PAST_CLOSING) and pending.get("ask"):
            self.ticket_status = "idle"
            self.notice_after_refusal(read.code, pending["ask"])
            return
        if not isinstance(read, TicketResult):
            self.ticket_status = "idle"
            self.error = {"code": read.code or "internal", "can_retry": False,
                          "detail": read.message_vi if self.lang == "vi" else read.message}
            self._go(ERROR)
            self._changed()
            return
        if pending["type"] == CHECK_IN:
            self._checked_in(reply)                  # the booking's time for the slip, the outcome's words
        self.ticket = read
        self.ticket_status = "issued"
        self._go(TICKET)
        self._print_ticket()
