"""A booking form sent again (queue_server/web/booking_bp.py's request id, queue_server/idempotency.py):
the same form is applied once and answered the same; the form
of the next free time offered on a "full" page is a new request. Over real HTTP against a whole
real site (mosquitto, the command loop, SQLite, waitress). Across a SIGKILL of the server, with 200
citizens at once: tests/integration/test_booking_sigkill.py."""
from __future__ import annotations

import hashlib
import re

import pytest

from protocol import booking_texts
from queue_server.domain.commands import CreateBooking
from tests.support.booking_web import Citizen, alert, cccd_number, tomorrows_slots
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(120)

PROCEDURE = "khai-sinh"
CONFIRM = f"/book/{PROCEDURE}/confirm"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("booking-retry")) as s:
        yield s


def test_the_same_form_sent_again_books_once_and_is_answered_the_same(site):
    slot = tomorrows_slots(site, PROCEDURE)[0]["slot"]
    me = Citizen(site.http_url)
    form = {**me.form(f"{CONFIRM}?slot={slot}"), "cccd": cccd_number(1), "phone": ""}
    first = me.post(CONFIRM, form)
    assert first[0] == 302 and "done=booked" in first[2], first[:1]
    assert me.post(CONFIRM, form) == first
    code = re.search(r"/b/[^/]+/([0-9A-Z]{8})", first[2]).group(1)
    assert [e.data["code"] for e in site.events("booking.created")].count(code) == 1
    # a fresh form of the same citizen is a new request: refused as a second booking
    again = {**me.form(f"{CONFIRM}?slot={slot}"), "cccd": cccd_number(1), "phone": ""}
    assert again["request_id"] != form["request_id"]
    status, html, _ = me.post(CONFIRM, again)
    assert status == 409
    assert alert(html) == (booking_texts.text("booking_limit", "vi"), booking_texts.text("booking_limit", "en"))


def test_the_next_free_time_offered_on_a_full_page_is_a_new_request(site):
    slots = tomorrows_slots(site, PROCEDURE)
    full, after = slots[1], slots[2]
    for n in range(full["free"]):
        reply = site.service.execute("citizen", "web", CreateBooking(
            procedure=PROCEDURE, slot=full["slot"], id_hash=hashlib.sha256(f"retry {n}".encode()).hexdigest()))
        assert reply["ok"], reply
    me = Citizen(site.http_url)
    form = {**me.form(f"{CONFIRM}?slot={full['slot']}"), "cccd": cccd_number(2), "phone": ""}
    status, html, _ = me.post(CONFIRM, form)
    assert status == 409
    offer = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    assert offer["slot"] == after["slot"] and offer["request_id"] != form["request_id"]
    status, _, location = me.post(CONFIRM, {**offer, "cccd": cccd_number(2), "phone": ""})
    assert status == 302 and "done=booked" in location
    # the first form, sent again, still gets its own answer: full
    assert me.post(CONFIRM, form)[0] == 409


def test_a_move_form_sent_again_is_answered_the_same(site):
    slots = tomorrows_slots(site, PROCEDURE)
    me = Citizen(site.http_url)
    form = {**me.form(f"{CONFIRM}?slot={slots[3]['slot']}"), "cccd": cccd_number(3), "phone": ""}
    status, _, location = me.post(CONFIRM, form)
    assert status == 302
    page = location.split("?")[0]
    move = {**me.form(f"{page}/move?slot={slots[4]['slot']}"), "cccd": cccd_number(3)}
    first = me.post(f"{page}/move", move)
    assert first[0] == 302 and "done=moved" in first[2]
    assert me.post(f"{page}/move", move) == first
    code = page.rsplit("/", 1)[1]
    assert [e.data["slot"] for e in site.events("booking.moved") if e.data["code"] == code] == [slots[4]["slot"]]


def test_a_form_refused_then_sent_with_another_number_is_a_new_request(site):
    slots = tomorrows_slots(site, PROCEDURE)
    me = Citizen(site.http_url)
    assert me.post(CONFIRM, {**me.form(f"{CONFIRM}?slot={slots[5]['slot']}"), "cccd": cccd_number(6),
                             "phone": ""})[0] == 302
    # the same card again: refused by the server (one booking per procedure), that answer kept
    form = me.form(f"{CONFIRM}?slot={slots[6]['slot']}")
    status, html, _ = me.post(CONFIRM, {**form, "cccd": cccd_number(6), "phone": ""})
    assert status == 409 and alert(html)[1] == booking_texts.text("booking_limit", "en")
    # the same page, the number corrected (another member of the family): books
    status, _, location = me.post(CONFIRM, {**form, "cccd": cccd_number(7), "phone": ""})
    assert status == 302 and "done=booked" in location
