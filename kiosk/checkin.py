"""Check-in at the kiosk (issue #16): a booking or a ticket taken from a phone, found by its code
(typed on the keypad of the check-in screen, or the booking's QR read by the USB scanner) or by
the citizen's ID card (its QR read by the scanner: only the keyed hash and the age band leave the
kiosk, protocol/cccd.py); and a walk-in who scans their card, offered the priority queue from
cccd.ELDERLY_AGE without finding the button.

A part of KioskViewModel (kiosk/viewmodel.py). The check-in asks through
`TicketRequests._request_ticket` (kiosk/tickets.py), so its retries under one req_id, the error
screen and printing come with it; its refusals come back here (`_check_in_refused`) and are shown
on the check-in screen in the words the server sends (protocol/booking_texts.py).
"""
from __future__ import annotations

import logging
from typing import Any

from kiosk.journey import CHECKIN, HOME
from motcua.id_key import IdKeyError, read_id_key
from protocol import booking_code, cccd
from protocol.messages import BookingView, CheckInResult, ErrorBody, Reply, parse

log = logging.getLogger(__name__)

CHECK_IN = "booking.check_in"
KEYPAD_KEYS = booking_code.ALPHABET      # the keypad's keys: Crockford's letters and digits
# A server refusal that means "this card has no booking here": the card's walk-in path follows.
NO_BOOKING = "not_found"
ID_KEY_RECHECK_S = 60.0     # a key file put in place (or lost) is noticed within this, without a scan


def read_check_in(reply: Any) -> tuple[BookingView | None, CheckInResult | None]:
    """The booking and the check-in outcome of a `booking.check_in` reply (None when absent)."""
    parsed = parse(Reply, reply) if reply is not None else None
    result = parsed.result if parsed is not None and parsed.ok else None
    return (result.booking, result.check_in) if result is not None else (None, None)


class CheckIns:
    def _reset_checkin(self) -> None:
        self.checkin_code = ""                        # what is typed on the keypad (canonical letters)
        self.checkin_error: str | None = None         # the words shown on the check-in screen
        self.checkin_offer_code = False               # a card could not be used: the keypad is offered
        self.booking: BookingView | None = None       # the checked-in booking, for the slip and screen
        self.checkin_result: CheckInResult | None = None
        self.card_elderly = False                     # a walk-in's card said 60 or over

    # -- the keypad -------------------------------------------------------------------------

    def open_checkin(self) -> None:
        """Home's "I have a booking"."""
        self.touch()
        if self.catalogue is None:
            return
        self._reset_checkin()
        self._go(CHECKIN)
        self._changed()

    def checkin_type(self, key: str) -> None:
        self.touch()
        key = (key or "").upper()
        if key in KEYPAD_KEYS and len(self.checkin_code) < booking_code.LENGTH:
            self.checkin_code += key
            self.checkin_error = None
        self._changed()

    def checkin_backspace(self) -> None:
        self.touch()
        self.checkin_code = self.checkin_code[:-1]
        self.checkin_error = None
        self._changed()

    def checkin_clear(self) -> None:
        self.touch()
        self.checkin_code, self.checkin_error = "", None
        self._changed()

    def checkin_shown(self) -> str:
        """The typed code in its printed groups ("K7Q4-MZ2"), with a place for each missing key."""
        padded = self.checkin_code.ljust(booking_code.LENGTH, "_")
        return f"{padded[:booking_code.GROUP]}-{padded[booking_code.GROUP:]}"

    def checkin_submit(self) -> None:
        """Check in with the typed code; a code that cannot be right is said before asking."""
        self.touch()
        try:
            code = booking_code.normalise(self.checkin_code)
        except booking_code.BookingCodeError as err:
            self.checkin_error = err.text(self.lang)
            self._changed()
            return
        self._check_in({"code": code})

    # -- the scanner (any screen) --------------------------------------------------------------

    def on_scan(self, text: str) -> None:
        """A whole scan from the USB scanner (motcua/scanner.py), on any screen: a booking's QR
        checks it in; a card's QR checks in by the card, or (no booking, or no key to hash it)
        is a walk-in's card. Anything else is said on the check-in screen. Never logs the scan."""
        self.touch()
        if self.catalogue is None or self.ticket_status == "requesting":
            return
        try:
            site, code = booking_code.parse_qr(text)
        except booking_code.BookingCodeError:
            pass
        else:
            self._check_in({"code": code, "site": site})
            return
        try:
            card = cccd.parse_qr(text, self._today())
        except cccd.CccdError as err:
            if err.reason != "qr":
                self._show_checkin(err.text(self.lang))
                return
            # perhaps a code printed as text (a scanner reading a code-128 of the code)
            try:
                code = booking_code.normalise(text)
            except booking_code.BookingCodeError:
                self._show_checkin(booking_code.BookingCodeError("qr", "").text(self.lang))
                return
            self._check_in({"code": code})
            return
        self._card_scanned(card)

    def _card_scanned(self, card: cccd.Card) -> None:
        self.card_elderly = card.elderly(self._today())
        key = self._id_key()
        if key is None:
            if self.screen == CHECKIN:
                # the kiosk cannot hash a card: say so, and offer the code instead
                self._show_checkin(cccd.CccdError("key", "").text(self.lang), offer_code=True)
            else:
                self._walk_in_card()
            return
        summary = card.leaving(key, self._today())    # all that leaves the kiosk
        # scanned outside the check-in screen, a card with no booking is a walk-in's
        self._check_in(summary.as_dict(), walk_in_card=self.screen != CHECKIN)

    def _walk_in_card(self) -> None:
        """A walk-in's card (no booking found, or no key): 60 or over, the priority screen opens
        with the elderly group already chosen; under 60, the kiosk goes on from home."""
        if self.card_elderly:
            self.open_priority()
            self.choose_priority("elderly")
            return
        if self.screen == CHECKIN:
            self._go(HOME)
        self._changed()

    def _show_checkin(self, words: str, offer_code: bool = False) -> None:
        if self.screen != CHECKIN:
            self._go(CHECKIN)     # what was typed stays, to be corrected
        self.checkin_error = words
        self.checkin_offer_code = offer_code
        self._changed()

    def typed_key(self, key: str) -> None:
        """A key a person typed on a keyboard (the scanner's port passes them on): on the check-in
        screen, a code's character or Enter; elsewhere nothing (the kiosk is touched, not typed)."""
        if self.screen != CHECKIN:
            return
        if key == "enter":
            self.checkin_submit()
        else:
            self.checkin_type(key)

    # -- asking the server ------------------------------------------------------------------------

    def _check_in(self, fields: dict[str, Any], walk_in_card: bool = False) -> None:
        self.checkin_error = None
        self._request_ticket(CHECK_IN, {**fields, "lang": self.lang}, ask={"walk_in_card": walk_in_card})

    def _checked_in(self, reply: Any) -> None:
        """kiosk/tickets.py, on a check-in's ticket: keep the booking and the outcome (its notice
        is on the ticket screen; its slot time is printed)."""
        self.booking, self.checkin_result = read_check_in(reply)

    def _check_in_refused(self, err: ErrorBody, pending: dict) -> None:
        """kiosk/tickets.py, on a check-in's refusal: a card scanned outside the check-in screen
        with no booking here is a walk-in's; anything else is said on the check-in screen, in the
        server's words (booking_texts)."""
        self.ticket_status = "idle"
        if (pending.get("ask") or {}).get("walk_in_card") and err.code == NO_BOOKING:
            self._walk_in_card()
            return
        words = (err.message_vi if self.lang == "vi" else err.message) or err.message or ""
        self._show_checkin(words)

    # -- what the screens and the slip show ---------------------------------------------------------

    def booked_time(self) -> str | None:
        """The booked slot's start, "HH:MM" in the site's zone (None: not a booking's ticket)."""
        if self.booking is None or not self.booking.slot_start:
            return None
        return self._when(self.booking.slot_start)[:5]

    def checkin_view(self) -> dict[str, Any]:
        # without the key a card cannot be hashed: the screen does not invite one
        prompt = (self.t("Type your booking code, or scan its QR code or your ID card's QR code.")
                  if self.id_card_ready() else self.t("Type your booking code, or scan its QR code."))
        return {"title": self.t("I have a booking"),
                "prompt": prompt,
                "code": self.checkin_shown(), "error": self.checkin_error or "",
                "keys": list(KEYPAD_KEYS), "ok": self.t("Check in"), "clear": self.t("Clear"),
                "ready": len(self.checkin_code) == booking_code.LENGTH}

    def checkin_notice(self) -> str:
        """What the check-in says on the ticket screen (late: a walk-in's ticket from now)."""
        notice = self.checkin_result.notice if self.checkin_result is not None else None
        return notice.get(self.lang) if notice is not None else ""

    # -- helpers ------------------------------------------------------------------------------------

    def _today(self):
        return self.wall().astimezone(self.site_zone()).date()

    def _id_key(self) -> bytes | None:
        """The ID hash key from the file the kiosk's config names (`id_hash_key_file`, written by
        `motcua provision`: docs/appointments.md, "The ID card key"); None if there is none or it
        cannot be read. Read at each scan and every ID_KEY_RECHECK_S (`tick`), so a key put in
        place later needs no restart; what is wrong is told when it changes, in the log (the
        file's name, never the key) and, for a named file it cannot read, in the kiosk's status
        (`id_key_missing`: a dashboard alert)."""
        path = self.settings.id_hash_key_file
        key, problem = None, None
        if not path:
            problem = "the kiosk's config names no id_hash_key_file"
        else:
            try:
                key = read_id_key(path)
            except IdKeyError as err:
                problem = str(err)
        if problem != getattr(self, "_id_key_problem", ""):
            self._id_key_problem = problem
            # The dashboard's alert: a key named but unreadable is a fault to fix (provision
            # again); a config that names none chose to check in by code only.
            self._publish(id_key_missing=problem is not None and bool(path))
            if problem:
                log.warning("check-in by ID card is off: %s. Citizens are offered their booking code instead; "
                            "provision the kiosk again (motcua provision) to copy the site's key", problem)
            else:
                log.info("check-in by ID card is on (ID hash key %s)", path)
        return key

    def _recheck_id_key_when_due(self, now: float) -> None:
        if now - getattr(self, "_id_key_checked_at", float("-inf")) >= ID_KEY_RECHECK_S:
            self._id_key_checked_at = now
            self._id_key()

    def id_card_ready(self) -> bool:
        """Can a scanned ID card be hashed here (the check-in screen offers it only then)?"""
        return self._id_key() is not None
