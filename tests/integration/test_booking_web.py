"""The booking pages (queue_server/web/booking_bp.py, issue #16) over HTTP against a whole real site
(mosquitto, the queue server's command loop, SQLite, the web app under waitress): the race for
the last places of a slot, moving and cancelling with the ID card number, and bad input answered
in plain Vietnamese and English."""
from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from protocol import booking_code, booking_texts, cccd
from queue_server.domain import bookings
from queue_server.domain.commands import CreateBooking
from tests.support.booking_web import Citizen, alert, cccd_number, shown, tomorrows_slots
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(240)

PROCEDURE = "khai-sinh"
CONFIRM = f"/book/{PROCEDURE}/confirm"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("booking-web")) as s:
        yield s


def test_200_citizens_racing_for_the_last_10_places_get_10_bookings_and_190_offers_of_the_next(site):
    """Tomorrow's first 10 slots with one place left each, 20 citizens asking for each at once."""
    slots = tomorrows_slots(site, PROCEDURE)
    targets = [s["slot"] for s in slots[:10]]
    n = 0
    for s in slots[:10]:        # earlier citizens took all but the last place of each
        for _ in range(s["free"] - 1):
            n += 1
            reply = site.service.execute("citizen", "web", CreateBooking(
                procedure=PROCEDURE, slot=s["slot"], id_hash=hashlib.sha256(f"earlier {n}".encode()).hexdigest()))
            assert reply["ok"], reply
    assert [(s["slot"], s["free"]) for s in tomorrows_slots(site, PROCEDURE)[:10]] == [(t, 1) for t in targets]
    before = {t: sum(e.data["slot"] == t for e in site.events("booking.created")) for t in targets}

    citizens = [Citizen(site.http_url) for _ in range(200)]
    wanted = [targets[i % 10] for i in range(200)]
    with ThreadPoolExecutor(32) as pool:
        forms = list(pool.map(lambda i: citizens[i].form(f"{CONFIRM}?slot={wanted[i]}"), range(200)))
    start = threading.Barrier(200)

    def book(i: int):
        start.wait()
        return citizens[i].post(CONFIRM, {**forms[i], "cccd": cccd_number(i), "phone": ""})

    with ThreadPoolExecutor(200) as pool:
        answers = list(pool.map(book, range(200)))

    booked = [(wanted[i], loc) for i, (status, _, loc) in enumerate(answers) if status == 302]
    full = [(wanted[i], html) for i, (status, html, _) in enumerate(answers) if status == 409]
    assert len(booked) == 10 and len(full) == 190, sorted({status for status, _, _ in answers})
    assert sorted(slot for slot, _ in booked) == targets            # one in each slot
    codes = {re.fullmatch(r"/b/demo-district/([0-9A-Z]{8})\?done=booked", loc).group(1) for _, loc in booked}
    assert len(codes) == 10
    later = [s["slot"] for s in slots]
    for asked, html in full:
        vi, en = alert(html)
        # the next free time when the answer was made: a later slot that had a place then
        offered = re.search(r'name="slot" value="([^"]+)"', html).group(1)
        assert offered in later and offered > asked, (asked, offered)
        assert en == f"This time is fully booked. The next free time is {shown(offered)}."
        assert vi == booking_texts.text("booking_full", "vi", slot=shown(offered)) and shown(offered) in vi
    # exactly the room was booked: nothing twice, nothing lost (read back from SQLite)
    after = {t: sum(e.data["slot"] == t for e in site.events("booking.created")) for t in targets}
    assert after == {t: before[t] + 1 for t in targets}
    assert tomorrows_slots(site, PROCEDURE)[0]["slot"] == slots[10]["slot"]


def test_book_see_move_and_cancel_with_the_same_number(site):
    me = Citizen(site.http_url)
    slots = tomorrows_slots(site, PROCEDURE)
    first, other = slots[-1]["slot"], slots[-2]["slot"]
    status, _, loc = me.post(CONFIRM, {**me.form(f"{CONFIRM}?slot={first}"), "cccd": "079 190 000 777",
                                       "phone": "0912 345 678"})
    assert status == 302, status
    page = loc.split("?")[0]
    status, html, _ = me.get(loc)
    assert status == 200 and "Đã đặt lịch. Hãy giữ trang này" in html
    code = page.rsplit("/", 1)[1]
    assert f"{code[:4]}-{code[4:]}" in html and f'{page}/qr.svg' in html
    status, svg, _ = me.get(page + "/qr.svg")
    assert status == 200 and svg.startswith("<svg")
    status, ics, _ = me.get(page + "/booking.ics")
    assert status == 200 and "BEGIN:VEVENT" in ics and f"UID:{code}-demo-district@motcua" in ics
    # the code typed by a person (small letters, a dash) finds the same page
    status, _, found = me.post("/b", {"code": f"{code[:4].lower()}-{code[4:].lower()}"})
    assert (status, found) == (302, page)

    # moving asks the number again; another card's number is refused, and so is a guess at the code
    move = me.form(f"{page}/move?slot={other}")
    status, html, _ = me.post(f"{page}/move", {**move, "cccd": "079190000778"})
    assert status == 403
    assert alert(html) == ("Mã lịch hẹn và số căn cước này không khớp nhau. Vui lòng kiểm tra lại số.",
                           "This booking code and this ID card number do not go together. Please check the number.")
    status, _, loc = me.post(f"{page}/move", {**move, "cccd": "079190000777"})
    assert (status, loc) == (302, f"{page}?done=moved")
    with site.service.lock:
        b = site.service.state.bookings[code]
        assert (b.slot, b.status) == (other, "booked")
    status, _, loc = me.post(f"{page}/cancel", {**me.form(f"{page}/cancel"), "cccd": "079190000777"})
    assert (status, loc) == (302, f"{page}?done=cancelled")
    status, html, _ = me.get(page)
    assert status == 200 and "Đã hủy" in html and "qr.svg" not in html


def test_wrong_numbers_for_one_code_are_slowed_down(site):
    me = Citizen(site.http_url)
    slot = tomorrows_slots(site, PROCEDURE)[-1]["slot"]
    _, _, loc = me.post(CONFIRM, {**me.form(f"{CONFIRM}?slot={slot}"), "cccd": "001190000555"})
    page = loc.split("?")[0]
    form = me.form(f"{page}/cancel")
    for i in range(5):
        status, _, _ = me.post(f"{page}/cancel", {**form, "cccd": f"00119000060{i}"})
        assert status == 403
    status, html, _ = me.post(f"{page}/cancel", {**form, "cccd": "001190000555"})   # even the right one, for now
    assert status == 403 and alert(html)[1] == "Too many wrong numbers. Please wait 30 seconds and try again."


def said(reason: str) -> tuple[str, str]:
    """A CCCD refusal's words (protocol/cccd.py), Vietnamese and English."""
    err = cccd.CccdError(reason, "")
    return err.text("vi"), err.text("en")


@pytest.mark.parametrize("typed,phone,words", [
    ("12345", "", said("number")),
    ("00109012345a", "", said("number")),
    # century digit 2 (born in the 2000s) with 90: born 2090, no age a card holder can have
    ("001290123456", "", said("age")),
    ("001090123456", "12345", ("Số điện thoại chưa đúng. Hãy nhập như 0912 345 678, hoặc để trống.",
                               "This phone number is not right. Type it like 0912 345 678, or leave it empty.")),
])
def test_bad_input_is_said_in_plain_words(site, typed, phone, words):
    me = Citizen(site.http_url)
    slot = tomorrows_slots(site, PROCEDURE)[-1]["slot"]
    status, html, _ = me.post(CONFIRM, {**me.form(f"{CONFIRM}?slot={slot}"), "cccd": typed, "phone": phone})
    assert status == 400
    assert alert(html) == words
    assert words[0] != words[1]                     # Vietnamese, not the English msgid again
    assert 'aria-invalid="true"' in html


def test_pages_that_cannot_be_are_bilingual_not_crashes(site):
    me = Citizen(site.http_url)
    status, html, _ = me.post(CONFIRM, {"slot": tomorrows_slots(site, PROCEDURE)[-1]["slot"], "cccd": "001090123456"})
    assert status == 400 and alert(html)[1] == "The page was open too long. Please press the button again."
    for path in ("/book/khong-co-thu-tuc-nay", "/b/demo-district/K7Q4MZ2X", "/b/other-site/K7Q4MZ20",
                 "/b/demo-district/K7Q4MZ20/cancel"):
        status, html, _ = me.get(path)
        assert status == 404, path
        assert "Không tìm thấy" in html and "not found" in html.lower(), path
        assert "Traceback" not in html
    status, _, loc = me.get(f"{CONFIRM}?slot=2026-02-30T08:00")        # not a slot: back to choosing one
    assert (status, loc) == (302, f"/book/{PROCEDURE}")
    status, html, _ = me.post("/b", {"code": "K7Q4-MZ2X"})
    assert status == 400 and alert(html)[1] == "This booking code is not right: please check each character."
    status, html, _ = me.post("/b", {"code": "K7Q4-MZ20"})
    assert status == 404 and alert(html)[1].startswith("No booking of this centre has this code.")
    # the search reads a phone's unmarked letters: "dang ky khai sinh" finds "Đăng ký khai sinh"
    status, html, _ = me.get("/book?q=dang+ky+khai+sinh")
    assert status == 200 and f'href="/book/{PROCEDURE}"' in html.split('id="found"')[1].split("</ul>")[0]


def test_guessing_codes_is_slowed_down(site, monkeypatch):
    """20 codes of no booking from one address, then even a right one waits a minute."""
    me = Citizen(site.http_url)
    status, _, loc = me.post(CONFIRM, {**me.form(f"{CONFIRM}?slot={tomorrows_slots(site, PROCEDURE)[-1]['slot']}"),
                                       "cccd": "001190000444"})
    page = loc.split("?")[0]
    throttle = site.server.app.extensions["motcua_booking_lookups"]
    monkeypatch.setattr(throttle, "_fails", {})            # the other tests' misses do not count here
    for i in range(20):
        assert me.get(f"/b/demo-district/{booking_code.make_code(i)}")[0] == 404
    status, html, _ = me.get(page)
    assert status == 429 and "Đã thử quá nhiều mã" in html and "Too many codes tried" in html
    status, html, _ = me.post("/b", {"code": page.rsplit("/", 1)[1]})
    assert status == 429 and alert(html)[1] == "Too many codes tried. Please wait a minute and try again."


def test_the_slots_page_shows_the_earliest_twelve_then_later_ones(site):
    me = Citizen(site.http_url)
    status, html, _ = me.get(f"/book/{PROCEDURE}")
    first = re.findall(r'data-slot="([^"]+)"', html)
    assert status == 200 and 0 < len(first) <= 12
    later = re.search(r'<a href="([^"]+)" id="later">', html).group(1).replace("&amp;", "&")
    status, html, _ = me.get(later)
    more = re.findall(r'data-slot="([^"]+)"', html)
    assert status == 200 and more and min(more) > max(first)


def test_a_second_booking_of_the_same_procedure_is_refused_in_plain_words(site):
    me = Citizen(site.http_url)
    slots = tomorrows_slots(site, PROCEDURE)
    status, _, _ = me.post(CONFIRM, {**me.form(f"{CONFIRM}?slot={slots[-1]['slot']}"), "cccd": "036085000321"})
    assert status == 302
    status, html, _ = me.post(CONFIRM, {**me.form(f"{CONFIRM}?slot={slots[-2]['slot']}"), "cccd": "036 085 000 321"})
    assert status == 409
    assert alert(html) == (booking_texts.text("booking_limit", "vi"), booking_texts.text("booking_limit", "en"))
    assert 'aria-invalid="true"' in html


def test_a_time_that_has_begun_is_refused_in_both_languages(site):
    """A page left open until its time began: the domain's bad_request, worded for the citizen."""
    me = Citizen(site.http_url)
    svc = site.service
    with svc.lock:
        today = svc.clock().astimezone(svc.config.site.tz).date()
    past = bookings.slots_of_day(svc.config, today - timedelta(days=1))[0][0]
    status, html, _ = me.post(CONFIRM, {**me.form(f"{CONFIRM}?slot={past}"), "cccd": "001090777111"})
    assert status == 400
    assert alert(html) == ("Giờ này không còn đặt được nữa. Vui lòng chọn giờ khác.",
                           "This time can no longer be booked. Please choose another time.")
