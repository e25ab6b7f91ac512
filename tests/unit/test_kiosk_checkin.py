"""Issue #16 at the kiosk, without a window: a booking checked in by its typed code, its QR or
the citizen's ID card (only the keyed hash and the age band sent), printed marked as a booking;
refusals in the server's words on the check-in screen; a walk-in's card of 60 or over offered
the priority queue."""
from __future__ import annotations

import pytest

from kiosk import checkin
from kiosk.catalogue import parse_catalogue
from protocol import booking_code, booking_texts, cccd
from protocol.messages import (PRINTED_WAIT, BookingView, CheckInResult, ReplyResult, TicketResult, reply_error,
                               reply_ok, wait_fields)
from queue_server.catalogue import catalogue_document
from queue_server.config import load_site
from queue_server.domain.state import SiteState
from tests.support.kiosk_fakes import DEMO, Backend, make

CODE = booking_code.make_code(123_456_789)
KEY = bytes(range(32))
# a card of a man born 01/01/1958 (68 on the kiosk's day, 25/11/2026) and of one born 1990
ELDER_QR = "001058000001||Nguyễn Văn A|01011958|Nam|1 Lê Lợi, Huế|01012022"
YOUNG_QR = "001090000002||Trần Văn B|02021990|Nam|2 Lê Lợi, Huế|01012022"
TS = "2026-11-25T01:15:00+00:00"


@pytest.fixture(scope="module")
def catalogue():
    site = load_site(DEMO)
    return parse_catalogue(catalogue_document(SiteState.initial(site), site))


class Server(Backend):
    """Answers `booking.check_in` like the site server: a ticket with the booking and the
    outcome, or the refusal in `refusals` (error code -> booking_texts key) in both languages."""

    def __init__(self, outcome="on_time", refusal=None):
        super().__init__()
        self.outcome, self.refusal = outcome, refusal

    def request(self, type_, fields, req_id, timeout):
        if type_ != "booking.check_in":
            return super().request(type_, fields, req_id, timeout)
        self.calls.append((type_, dict(fields), req_id))
        if self.refusal:
            code, key, params = self.refusal
            return reply_error(req_id, code, booking_texts.text(key, "en", **params), TS,
                               message_vi=booking_texts.text(key, "vi", **params))
        ticket = TicketResult.build(id="t9", number="B007", sector="tu-phap-ho-tich", procedure="khai-sinh",
                                    priority="normal", issued_at=TS, position=1, ahead=0,
                                    track_url="http://127.0.0.1:8080/t/x?k=y", **wait_fields(PRINTED_WAIT, 60))
        booking = BookingView.build(code=CODE, kind="slot", site="demo-district", sector="tu-phap-ho-tich",
                                    procedure="khai-sinh", day="2026-11-25", slot="2026-11-25T08:30",
                                    slot_start="2026-11-25T08:30:00+07:00", slot_end="2026-11-25T09:00:00+07:00",
                                    status="checked_in" if self.outcome != "late" else "late", ticket_id="t9")
        notice = booking_texts.check_in_notice(self.outcome, "2026-11-25T08:30:00+07:00", 15)
        return reply_ok(req_id, ReplyResult.build(ticket=ticket, booking=booking,
                                                  check_in=CheckInResult.build(outcome=self.outcome,
                                                                               notice=notice)), TS)


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "id-hash.key"
    path.write_text(KEY.hex() + "\n")
    return str(path)


def test_a_typed_code_checks_in_and_prints_a_booked_ticket(catalogue):
    vm, _, _ = make(catalogue, backend=Server())
    vm.open_checkin()
    assert vm.screen == "checkin" and vm.checkin_view()["title"] == "Tôi đã đặt lịch"
    for key in CODE.lower()[:5] + "x":         # lower case taken as upper; a key outside the alphabet
        vm.checkin_type(key)
    vm.checkin_type("U")                       # U is not a key of the code's alphabet
    assert vm.checkin_shown() == f"{CODE[:4]}-{CODE[4]}X__"
    vm.checkin_backspace()
    for key in CODE[5:]:
        vm.checkin_type(key)
    assert vm.checkin_view()["ready"]
    vm.checkin_submit()
    assert vm.backend.calls == [("booking.check_in", {"code": CODE, "lang": "vi"}, vm.backend.calls[0][2])]
    assert vm.screen == "ticket" and vm.ticket.number == "B007"
    slip = vm.printer.tickets[-1]
    assert slip.booked_at == "08:30" and slip.number == "B007"
    assert vm.checkin_notice() == booking_texts.text("booking_on_time", "vi")
    vm.go_home()
    assert vm.booking is None and vm.checkin_code == ""


def test_a_wrong_code_is_said_before_asking(catalogue):
    vm, _, _ = make(catalogue, backend=Server())
    vm.open_checkin()
    wrong = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    for key in wrong:
        vm.checkin_type(key)
    vm.checkin_submit()
    assert vm.backend.calls == [] and vm.screen == "checkin"
    assert vm.checkin_view()["error"] == booking_code.BookingCodeError("check", "").text("vi")
    vm.set_lang("en")
    vm.checkin_type("1")                        # the code is full: nothing more is taken
    vm.checkin_submit()
    assert vm.checkin_error == "This booking code is not right: please check each character."


def test_a_booking_qr_scanned_on_any_screen_checks_in_with_its_site(catalogue):
    vm, _, _ = make(catalogue, backend=Server(outcome="late"))
    vm.open_sector("dat-dai")
    vm.on_scan(booking_code.qr_payload("https://datlich.example.vn", "demo-district", CODE))
    assert vm.backend.calls[0][1] == {"code": CODE, "site": "demo-district", "lang": "vi"}
    assert vm.printer.tickets[-1].booked_at == "08:30"
    # later than the grace: the kiosk says the ticket is a walk-in's from now
    assert vm.checkin_notice() == booking_texts.text("booking_late", "vi", minutes=15)
    assert "15" in vm.checkin_notice()


@pytest.mark.parametrize("code,key,params", [
    ("booking_wrong_site", "booking_wrong_site", {}),
    ("booking_wrong_day", "booking_wrong_day", {"day": "03/12/2026"}),
    ("booking_too_early", "booking_too_early", {"time": "09:30"}),
    ("booking_cancelled", "booking_cancelled", {}),
    ("not_found", "booking_not_found", {}),
])
def test_each_refusal_is_said_on_the_checkin_screen_in_both_languages(catalogue, code, key, params):
    vm, _, _ = make(catalogue, backend=Server(refusal=(code, key, params)))
    vm.open_checkin()
    for k in CODE:
        vm.checkin_type(k)
    vm.checkin_submit()
    assert vm.screen == "checkin" and vm.checkin_view()["error"] == booking_texts.text(key, "vi", **params)
    assert vm.printer.tickets == [] and vm.ticket_status == "idle"
    vm.set_lang("en")
    vm.checkin_submit()                         # asked again: the words in English
    assert vm.checkin_error == booking_texts.text(key, "en", **params)


def test_a_card_checks_in_by_its_hash_and_age_band_only(catalogue, key_file):
    vm, _, _ = make(catalogue, backend=Server(), id_hash_key_file=key_file)
    vm.on_scan(YOUNG_QR)                        # at home: a card may have a booking
    sent = vm.backend.calls[0][1]
    assert sent == {"id_hash": cccd.id_hash(KEY, "001090000002"), "age_band": "<60", "lang": "vi"}
    assert "001090000002" not in repr(vm.backend.calls) and "Trần" not in repr(vm.backend.calls)
    assert vm.printer.tickets[-1].booked_at == "08:30"


def test_an_elderly_walk_ins_card_with_no_booking_opens_priority(catalogue, key_file):
    vm, _, _ = make(catalogue, backend=Server(refusal=("not_found", "booking_not_found", {})),
                    id_hash_key_file=key_file)
    vm.on_scan(ELDER_QR)
    assert vm.backend.calls[0][1]["age_band"] == "60-79"
    assert vm.screen == "priority" and vm.priority == "elderly" and vm.printer.tickets == []


def test_without_a_key_a_card_is_a_walk_ins_at_home_and_the_code_is_offered_at_checkin(catalogue):
    vm, _, _ = make(catalogue, backend=Server())
    vm.on_scan(YOUNG_QR)                        # under 60, no key: the kiosk goes on from home
    assert vm.screen == "home" and vm.backend.calls == []
    vm.on_scan(ELDER_QR)
    assert vm.screen == "priority" and vm.priority == "elderly" and vm.backend.calls == []
    vm.go_home()
    vm.open_checkin()
    vm.on_scan(ELDER_QR)
    assert vm.screen == "checkin" and vm.checkin_offer_code and vm.backend.calls == []
    assert vm.checkin_error == cccd.CccdError("key", "").text("vi")


def test_a_scan_that_is_neither_says_so_without_asking(catalogue):
    vm, _, _ = make(catalogue, backend=Server())
    vm.on_scan("https://example.vn/somewhere-else")
    assert vm.screen == "checkin" and vm.backend.calls == []
    assert vm.checkin_error == booking_code.BookingCodeError("qr", "").text("vi")
    vm.on_scan(CODE)                            # a code scanned as plain text checks in
    assert vm.backend.calls[0][1] == {"code": CODE, "lang": "vi"}


def test_a_card_with_no_booking_scanned_at_checkin_is_told_so(catalogue, key_file):
    vm, _, _ = make(catalogue, backend=Server(refusal=("not_found", "booking_not_found", {})),
                    id_hash_key_file=key_file)
    vm.open_checkin()                           # the citizen said they have a booking
    vm.on_scan(ELDER_QR)
    assert vm.screen == "checkin" and vm.checkin_error == booking_texts.text("booking_not_found", "vi")


def test_typed_keys_reach_the_keypad_only_on_the_checkin_screen(catalogue):
    vm, _, _ = make(catalogue, backend=Server())
    vm.typed_key("A")
    assert vm.checkin_code == "" and vm.screen == "home"
    vm.open_checkin()
    for key in CODE:
        vm.typed_key(key)
    vm.typed_key("enter")
    assert vm.backend.calls[0][1] == {"code": CODE, "lang": "vi"} and vm.screen == "ticket"


def test_listen_on_the_checkin_screen_reads_what_to_do_and_what_went_wrong(catalogue):
    vm, _, _ = make(catalogue, backend=Server(refusal=("booking_cancelled", "booking_cancelled", {})))
    vm.open_checkin()
    vm.speak()
    assert vm.speaker.said[-1] == ("Tôi đã đặt lịch. " + vm.checkin_view()["prompt"], "vi")
    vm.on_scan(CODE)
    vm.speak()
    assert vm.speaker.said[-1][0].endswith(booking_texts.text("booking_cancelled", "vi"))


def test_a_kiosk_without_its_key_says_so_in_its_status_and_notices_the_key_arriving(catalogue, tmp_path):
    key_path = tmp_path / "id-hash.key"
    vm, clock, _ = make(catalogue, backend=Server(), id_hash_key_file=str(key_path))
    vm.tick()
    assert vm.backend.status["id_key_missing"] is True and not vm.id_card_ready()
    key_path.write_text(KEY.hex() + "\n")     # provisioned again: the key is copied in
    clock.now += 30
    vm.tick()
    assert vm.backend.status["id_key_missing"] is True       # not asked again yet
    clock.now += checkin.ID_KEY_RECHECK_S
    vm.tick()                                   # asked again within a minute, without a scan
    assert vm.backend.status["id_key_missing"] is False
    assert KEY.hex() not in repr(vm.backend.status)


def test_a_kiosk_set_up_for_code_only_check_in_raises_no_alert(catalogue):
    """A config that names no key file chose check-in by code only (docs/kiosk.md): the log says
    so, the status does not raise the dashboard's alert."""
    vm, _, _ = make(catalogue, backend=Server())
    vm.tick()
    assert not vm.id_card_ready() and vm.backend.status["id_key_missing"] is False
