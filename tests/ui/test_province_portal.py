"""The province's booking portal (issue #16, "Across a province") in headless Chromium, end to end
over real parts (tests/support/booking_fleet.py): a provisioned centre's real server and broker,
the generated bridge to the province broker, the province's booking relay, consumer (PostgreSQL)
and web app. A citizen books on a 360x640 phone and at a desktop (procedure -> centre with its
earliest free time and live wait -> time -> ID card -> code and QR), a second booking with the
same card is refused in words, the booking's page is read back from the province's copy of the
centre's log and cancelled from it, and a centre that goes offline is shown as offline and not
bookable. Every page axe-clean (no serious or critical violation), Vietnamese first, nothing wider
than the phone, no console error; the nearby advice carries the centre's earliest slot.
MOTCUA_SCREENSHOTS=docs/screenshots refreshes web-portal*.png."""
from __future__ import annotations

import os
import re
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from protocol import booking_code
from province import nearby, portal
from province.config import parse_province_config
from province.store import Store
from queue_server.store import EventStore
from tests.support.booking_fleet import EXAMPLE, SITE, STARTUP_S, BookingFleet
from tests.support.browser import CHROMIUM, axe_check
from tests.support.postgres import shared_server
from tests.support.wait import until

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
              pytest.mark.timeout(300)]

PHONE = (360, 640)
DESKTOP = (1366, 900)
PROC = "phieu-lltp-1"
SECTOR = "ly-lich-tu-phap"
PUBLIC = "https://datlich.example.vn"
CARDS = {"phone": "001090012345", "desktop": "079185001234"}   # plausible CCCD numbers (born 1990, 1985)
CONFIG = parse_province_config({
    "name": {"vi": "Tỉnh mẫu", "en": "Sample province"},
    "sites": [{"id": SITE, "lat": 10.80, "lon": 106.70, "address": {"vi": "12 Lê Lợi", "en": "12 Le Loi St"}},
              {"id": "site-x", "lat": 10.83, "lon": 106.72}],
    "nearby": {"max_km": 20, "min_gain_s": 600, "interval_s": 60},
    "portal": {"public_url": PUBLIC}})


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with BookingFleet(tmp_path_factory.mktemp("portal"), shared_server().create_database(), CONFIG) as f:
        assert f.online(), f.relay.offers()
        yield f


def citizen(browser, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=size == PHONE,
                              has_touch=size == PHONE, bypass_csp=True)   # axe is injected as a script
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []

    def console(m):
        # a refused form answers 4xx/503 with its page (the error in words): Chromium logs the
        # document's status, which is the answer, not a fault; anything else is one
        if m.type in ("error", "warning") and not (m.text.startswith("Failed to load resource: the server responded")
                                                   and m.location.get("url") == page.url):
            errors.append(f"{m.text} ({m.location.get('url')})")
    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return ctx, page, errors


def check(page, size) -> None:
    """axe-clean, Vietnamese first, and on a phone nothing wider than the screen."""
    assert axe_check(page) == [], page.url
    assert page.evaluate("document.documentElement.lang") == "vi"
    if size == PHONE:
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE[0], page.url


def big_enough(page, selector: str, minimum: int = 44) -> None:
    heights = page.eval_on_selector_all(selector, "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= minimum, (selector, heights)


def shot(page, size, name: str) -> None:
    target = os.environ.get("MOTCUA_SCREENSHOTS")
    if target and size == PHONE:
        page.screenshot(path=str(Path(target) / name), full_page=True)


def roomy(fleet, but: str | None = None) -> str:
    """A free slot that starts a while from now (the earliest may begin while the test runs), from
    an offer that has caught up with the bookings made so far (a slot may take one booking)."""
    assert fleet.settled()
    soon = datetime.now(timezone.utc) + timedelta(minutes=10)
    return next(s.slot for s in fleet.relay.offers()[SITE].procedure(PROC).slots
                if s.slot != but and datetime.fromisoformat(s.slot_start) > soon)


def documents(procedure: str) -> list[dict]:
    """The procedure's documents as the centre's site config (the example inventory) lists them."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    docs = next(p.get("documents", []) for s in data["sectors"] for p in s["procedures"] if p["id"] == procedure)
    assert docs
    return docs


def site_events(fleet, kind: str) -> list[dict]:
    store = EventStore(str(fleet.server.db))
    try:
        return [e.data for e in store.read() if e.type == kind]
    finally:
        store.close()


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_citizen_books_at_a_centre_of_the_province(browser, fleet, size):
    which = "phone" if size == PHONE else "desktop"
    ctx, page, errors = citizen(browser, size)
    try:
        slot = roomy(fleet)                         # before the pages read the offer
        page.goto(fleet.http_url + "/book")
        assert "Đặt lịch hẹn tại một điểm tiếp nhận trong tỉnh" in page.inner_text("h1")
        check(page, size)
        page.fill("#q", "ly lich")                 # typed without the Vietnamese marks
        page.click("form[role=search] button")
        page.wait_for_selector("#found")
        page.click(f"#found a[href='/book/{PROC}']")

        # the centres that take it: earliest free time, the wait there now (the board, bridged)
        page.wait_for_selector(f"#centres li[data-site='{SITE}'] a")
        assert until(lambda: any(r["site"] == SITE for r in Store(fleet.pg_url).now()), timeout=20)
        page.reload()
        row = page.inner_text(f"#centres li[data-site='{SITE}']")
        assert "Giờ trống sớm nhất" in row and "Earliest free time" in row and "12 Lê Lợi" in row
        assert "người đang chờ" in row, row
        check(page, size)
        big_enough(page, "#centres a", 56)
        shot(page, size, "web-portal-centres.png")
        page.click(f"#centres li[data-site='{SITE}'] a")

        # the time, then the card
        page.wait_for_selector(".bk-slots a")
        check(page, size)
        big_enough(page, ".bk-slots a", 48)
        page.click(f".bk-slots a[data-slot='{slot}']")
        page.wait_for_selector("#cccd")
        assert "Trung tâm" in page.inner_text("#where")
        check(page, size)
        page.fill("#cccd", CARDS[which])
        page.fill("#phone", "0912 345 678")
        page.click("#submit")

        # booked: the code, its QR (the same URL format as the centre's own), what to bring
        page.wait_for_selector("#code")
        shown = page.inner_text("#code").strip()
        code = booking_code.normalise(shown)
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", shown)
        assert page.url.endswith(f"/b/{SITE}/{code}?done=booked")
        assert page.inner_text("#link") == booking_code.qr_payload(PUBLIC, SITE, code)
        assert booking_code.parse_qr(page.inner_text("#link")) == (SITE, code)
        page.wait_for_function("() => { const i = document.querySelector('.bk-qr img');"
                               " return i && i.complete && i.naturalWidth > 0; }")
        assert "Đã đặt lịch" in page.inner_text("#status") and page.inner_text("#h-bring")
        # what to bring: the procedure's documents from the centre's site config, carried in its offer
        assert page.eval_on_selector_all(".bring li", "els => els.map(e => e.innerText)") == [
            f"{d['vi']}\n{d['en']}" for d in documents(PROC)]
        check(page, size)
        shot(page, size, "web-portal-booked.png")

        # the centre decided it: in its own log, by the province, the card only as its hash
        made = [d for d in site_events(fleet, "booking.created") if d["code"] == code]
        assert len(made) == 1 and made[0]["by"] == "province" and made[0]["slot"] == slot
        assert re.fullmatch(r"[0-9a-f]{64}", made[0]["id_hash"]) and CARDS[which] not in str(made[0])

        # the same card again for the same procedure: refused in the contract's words
        again = roomy(fleet)
        page.goto(f"{fleet.http_url}/book/{PROC}/{SITE}")
        page.click(f".bk-slots a[data-slot='{again}']")
        page.wait_for_selector("#cccd")
        page.fill("#cccd", CARDS[which])
        page.click("#submit")
        page.wait_for_selector("#error")
        words = page.inner_text("#error")
        assert "Số căn cước này đã có lịch hẹn" in words and "This ID card already has a booking" in words
        assert page.get_attribute("#cccd", "aria-invalid") == "true"
        check(page, size)
        assert errors == []
    finally:
        ctx.close()


def test_the_booking_page_from_the_provinces_log_and_cancelling(browser, fleet):
    ctx, page, errors = citizen(browser, PHONE)
    try:
        slot = roomy(fleet)
        page.goto(f"{fleet.http_url}/book/{PROC}/{SITE}/confirm?slot={slot}")
        page.fill("#cccd", "001095004321")
        page.click("#submit")
        page.wait_for_selector("#code")
        code = booking_code.normalise(page.inner_text("#code"))

        # the page without "done": read from the province's copy of the centre's event log
        assert until(lambda: Store(fleet.pg_url).booking(SITE, code) is not None, timeout=20)
        page.goto(f"{fleet.http_url}/b/{SITE}/{code}")
        assert "Đã đặt lịch" in page.inner_text("#status")

        # another time: the centre's free times, then the card again; the code stays
        page.click("#move")
        page.wait_for_selector(".bk-slots a")
        check(page, PHONE)
        new_slot = roomy(fleet, but=slot)
        page.click(f".bk-slots a[data-slot='{new_slot}']")
        page.wait_for_selector("#cccd")
        assert page.locator("#phone").count() == 0
        page.fill("#cccd", "001095004321")
        page.click("#submit")
        page.wait_for_selector("#done")
        assert "Mã vẫn giữ nguyên" in page.inner_text("#done") and page.url.endswith("done=moved")
        assert booking_code.normalise(page.inner_text("#code")) == code
        assert [(d["code"], d["slot"]) for d in site_events(fleet, "booking.moved")] == [(code, new_slot)]
        check(page, PHONE)

        page.click("#cancel")
        page.wait_for_selector("#cccd")
        check(page, PHONE)
        page.fill("#cccd", "001095004322")          # another card's number: refused
        page.click("#submit")
        page.wait_for_selector("#error")
        page.fill("#cccd", "001095004321")
        page.click("#submit")
        page.wait_for_selector("#done")
        assert "Đã hủy" in page.inner_text("#status")
        check(page, PHONE)
        assert [d["code"] for d in site_events(fleet, "booking.cancelled")].count(code) == 1
        assert until(lambda: Store(fleet.pg_url).booking(SITE, code)["status"] == "cancelled", timeout=20)
        assert errors == []
    finally:
        ctx.close()


def test_the_nearby_advice_carries_the_centres_earliest_slot(fleet):
    """A centre near site-a with a long wait for the same field is advised site-a, with site-a's
    earliest free booking (from its real offer) and the portal's page for it."""
    first = min((p.slots[0] for p in fleet.relay.offers()[SITE].procedures if p.sector == SECTOR and p.slots),
                key=lambda s: s.slot_start)
    assert until(lambda: (SITE, SECTOR) in fleet.service.now, timeout=20)
    now = dict(fleet.service.now)
    now[("site-x", SECTOR)] = nearby.SectorNow("site-x", SECTOR, waiting=30, est_wait_s=now[(SITE, SECTOR)].est_wait_s
                                               + 3600, at=time.time())
    slots = portal.nearby_bookings(CONFIG, portal.from_offers(fleet.relay.offers()), now.keys(),
                                   datetime.now(timezone.utc))
    advice = nearby.compute(now, CONFIG, time.time(), "2026-12-02T10:00:00+07:00", slots)
    option = advice[("site-x", SECTOR)]["nearby"][0]
    assert option["site"] == SITE
    assert datetime.fromisoformat(option["next_booking"]) == datetime.fromisoformat(first.slot_start)
    procedure = next(p.procedure for p in fleet.relay.offers()[SITE].procedures
                     if p.sector == SECTOR and p.slots and p.slots[0].slot == first.slot)
    assert option["book_url"] == f"{PUBLIC}/book/{procedure}/{SITE}"
    # and per procedure of the field: each one's earliest slot and its own page
    offered = {p.procedure: p.slots[0] for p in fleet.relay.offers()[SITE].procedures if p.sector == SECTOR and p.slots}
    assert set(option["bookings"]) == set(offered)
    for pid, b in option["bookings"].items():
        assert b["url"] == f"{PUBLIC}/book/{pid}/{SITE}"


def test_a_time_taken_meanwhile_offers_the_next_free_one_on_the_same_form(browser, fleet):
    """The citizen opens the form for a time; others fill it meanwhile (through the relay, as
    other citizens on the portal would); the centre refuses 'full' and names its next free time,
    which the same form then books with one press."""
    ctx, page, errors = citizen(browser, DESKTOP)
    try:
        assert fleet.settled()
        slot = fleet.relay.offers()[SITE].procedure(PROC).slots[-2].slot
        page.goto(f"{fleet.http_url}/book/{PROC}/{SITE}/confirm?slot={slot}")
        page.fill("#cccd", "001092003333")
        for i in range(60):                      # fill it with other cards
            reply = fleet.relay.create(SITE, procedure=PROC, slot=slot, id_hash=f"{i + 500:064x}", req_id=f"fill-{i}")
            if not reply["ok"]:
                assert reply["error"]["code"] == "booking_full", reply
                break
        else:
            raise AssertionError("the slot never filled")
        page.click("#submit")
        page.wait_for_selector("#offer")
        words = page.inner_text("#error")
        assert "Khung giờ này đã kín lịch" in words and "This time is fully booked" in words
        nxt = page.get_attribute("input[name=slot]", "value")
        assert nxt != slot and nxt == reply["error"]["detail"]["next_free"]
        assert page.input_value("#cccd") == "001092003333"          # the number kept in the field
        check(page, DESKTOP)
        page.click("#submit")
        page.wait_for_selector("#code")
        code = booking_code.normalise(page.inner_text("#code"))
        assert [d["slot"] for d in site_events(fleet, "booking.created") if d["code"] == code] == [nxt]
        assert errors == []
    finally:
        ctx.close()


def test_a_centre_that_does_not_answer_in_time_then_pressing_again_books_once(browser, fleet):
    """The centre's server hangs (SIGSTOP): its status stays 'online', the command goes out and no
    reply comes: the portal says so in words. The server comes back; the late command has expired
    there and is not applied; pressing again (the same form, the same request id) books once."""
    ctx, page, errors = citizen(browser, PHONE)
    assert fleet.settled()
    slot = fleet.relay.offers()[SITE].procedure(PROC).slots[-1].slot
    page.goto(f"{fleet.http_url}/book/{PROC}/{SITE}/confirm?slot={slot}")
    page.fill("#cccd", "001088007777")
    os.kill(fleet.server.proc.pid, signal.SIGSTOP)
    try:
        page.click("#submit")
        page.wait_for_selector("#error")
        words = page.inner_text("#error")
        assert "chưa trả lời kịp" in words and "did not answer in time" in words
        check(page, PHONE)
    finally:
        os.kill(fleet.server.proc.pid, signal.SIGCONT)
    try:
        page.click("#submit")                     # the same form: its request id kept
        page.wait_for_selector("#code")
        code = booking_code.normalise(page.inner_text("#code"))
        made = [d for d in site_events(fleet, "booking.created") if d["slot"] == slot and d["by"] == "province"
                and d["code"] == code]
        assert len(made) == 1
        assert len([d for d in site_events(fleet, "booking.created") if d["id_hash"] == made[0]["id_hash"]]) == 1
        assert errors == []
    finally:
        ctx.close()


def test_an_offline_centre_is_shown_and_not_bookable(browser, fleet):
    ctx, page, errors = citizen(browser, PHONE)
    try:
        slot = fleet.relay.offers()[SITE].procedure(PROC).slots[0].slot
        page.goto(f"{fleet.http_url}/book/{PROC}/{SITE}/confirm?slot={slot}")    # the form open
        fleet.server.stop()
        assert until(lambda: not fleet.relay.offers()[SITE].online, timeout=15)
        page.fill("#cccd", "001093006666")
        page.click("#submit")                     # sent while the centre is away: nothing is sent
        page.wait_for_selector("#error")
        words = page.inner_text("#error")
        assert "Hiện không liên lạc được với điểm tiếp nhận này" in words and "cannot be reached now" in words
        check(page, PHONE)
        page.goto(f"{fleet.http_url}/book/{PROC}")
        row = page.locator(f"#centres li[data-site='{SITE}']")
        assert "Đang mất kết nối" in row.inner_text() and "Offline now" in row.inner_text()
        assert row.locator("a").count() == 0
        check(page, PHONE)
        shot(page, PHONE, "web-portal-offline.png")
        page.goto(f"{fleet.http_url}/book/{PROC}/{SITE}")
        assert "không đặt lịch được" in page.inner_text("#offline")
        check(page, PHONE)
        assert errors == []
    finally:
        ctx.close()
        fleet.server.start(wait=STARTUP_S)
