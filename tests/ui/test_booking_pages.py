"""The booking pages (issue #16) in headless Chromium against a whole real site, open now
(tests/support/open_site.py): a citizen books on a 360x640 phone and at a desktop, moves and
cancels, joins today's queue and lands on the ticket's live page; a manager sees the day and
closes a slot. MOTCUA_SCREENSHOTS=docs/screenshots refreshes web-booking*.png. Every page axe-clean (no serious or critical violation), no console error (under
the pages' real CSP: tests/ui/test_every_page.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from protocol import cccd
from queue_server.domain import bookings
from queue_server.domain.commands import CreateBooking
from queue_server.users import Users
from tests.support.browser import CHROMIUM, axe_check, logged_in_page
from tests.support.open_site import open_now
from tests.support.site import RunningSite

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
              pytest.mark.timeout(240)]

SITE = Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml"
PHONE = (360, 640)
DESKTOP = (1366, 900)
MANAGER = ("lan.manager", "manager-pass-123")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("booking-pages")
    with RunningSite(d / "run", open_now(SITE, d)) as s:
        Users(s.service.store.engine).add(*MANAGER, "manager", "Lan")
        yield s


def citizen(browser, size):
    # axe is injected as a script, which the pages' CSP forbids (test_every_page.py runs them under it)
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=size == PHONE,
                              has_touch=size == PHONE, bypass_csp=True)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    def console(m):
        # a refused form answers 400/403/409 with its page (the error in words): Chromium logs the
        # document's status, which is the answer, not a fault; anything else is one
        if (m.type in ("error", "warning") and not (m.text.startswith("Failed to load resource: the server responded "
                                                                          "with a status of 4")
                                                     and m.location.get("url") == page.url)):
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


def shot(page, size, name: str) -> None:
    """MOTCUA_SCREENSHOTS=docs/screenshots refreshes the docs' pictures (the phone's, full page)."""
    target = os.environ.get("MOTCUA_SCREENSHOTS")
    if target and (size == PHONE or name == "web-bookings-manager.png"):
        page.screenshot(path=str(Path(target) / name), full_page=True)


def big_enough(page, selector: str, minimum: int = 44) -> None:
    """Every match is at least `minimum` CSS pixels high: a target an unsteady finger hits."""
    heights = page.eval_on_selector_all(selector, "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= minimum, (selector, heights)


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_citizen_books_a_time_and_gets_the_code_and_qr(browser, site, size):
    ctx, page, errors = citizen(browser, size)
    page.goto(site.http_url + "/book")
    assert page.inner_text("h1").startswith("Đặt lịch hẹn tại Trung tâm")
    check(page, size)
    # a word without the Vietnamese marks finds the procedure
    page.fill("#q", "khai sinh")
    page.click(".bk-search button")
    page.click("#found a")
    assert "Đăng ký khai sinh" in page.inner_text("h1")
    big_enough(page, ".bk-slots a")
    check(page, size)
    shot(page, size, "web-booking-slots.png")
    first = page.get_attribute(".bk-slots a", "data-slot")
    page.click(".bk-slots a")
    assert page.get_attribute("input[name=slot]", "value") == first
    check(page, size)
    # a number with a typo in the birth century: said plainly, the field marked
    page.fill("#cccd", "001290123456")
    page.click("#submit")
    alert = page.inner_text("#error")
    assert "không hợp lệ" in alert and "not valid" in alert
    assert page.get_attribute("#cccd", "aria-invalid") == "true"
    check(page, size)
    page.fill("#cccd", "001 090 12" + ("3456" if size == PHONE else "3457"))
    page.fill("#phone", "0912 345 678")
    big_enough(page, "#submit", 56)
    page.click("#submit")
    assert "/b/demo-district/" in page.url
    assert "Đã đặt lịch" in page.inner_text("#done")
    code = page.inner_text("#code")
    assert len(code) == 9 and code[4] == "-"
    page.wait_for_load_state("load")
    assert page.evaluate("document.querySelector('.bk-qr img').naturalWidth") > 0
    assert page.get_attribute("#ics", "href").endswith("/booking.ics")
    assert "Hãy đến trong khoảng" in page.inner_text("#arrive")
    check(page, size)
    shot(page, size, "web-booking.png")
    assert errors == []
    ctx.close()


def test_moving_and_cancelling_ask_the_number_again(browser, site):
    ctx, page, errors = citizen(browser, PHONE)
    page.goto(site.http_url + "/book/ket-hon")
    page.click(".bk-slots a")
    page.fill("#cccd", "079190000777")
    page.click("#submit")
    booking_url = page.url.split("?")[0]
    before = page.inner_text("#when")
    page.click("#move")
    check(page, PHONE)
    page.locator(".bk-slots a").nth(1).click()
    page.fill("#cccd", "079190000778")              # another card's number
    page.click("#submit")
    assert "không khớp" in page.inner_text("#error")
    check(page, PHONE)
    page.fill("#cccd", "079190000777")
    page.click("#submit")
    assert page.url.split("?")[0] == booking_url
    assert "Mã vẫn giữ nguyên" in page.inner_text("#done") and page.inner_text("#when") != before
    page.click("#cancel")
    check(page, PHONE)
    page.fill("#cccd", "079190000777")
    page.click("#submit")
    assert "Đã hủy" in page.inner_text("#status")
    assert page.locator(".bk-qr").count() == 0
    check(page, PHONE)
    assert errors == []
    ctx.close()


def test_joining_todays_queue_says_the_arrive_by_first_then_tracks_the_ticket(browser, site):
    ctx, page, errors = citizen(browser, PHONE)
    page.goto(site.http_url + "/book")
    page.click(".bk-note a")                      # the centre is open: the remote queue is offered
    assert page.url.endswith("/queue")
    check(page, PHONE)
    page.click("#sector-tu-phap-ho-tich summary")
    page.click("#sector-tu-phap-ho-tich a >> nth=0")
    arrive = page.inner_text("#arrive-by")
    assert "Chỗ của bạn được giữ đến" in arrive or "giữ" in arrive, arrive
    check(page, PHONE)
    page.fill("#cccd", "001090555555")
    page.fill("#phone", "+84 912 345 679")
    page.click("#submit")
    assert "/t/" in page.url
    track_url = page.url
    with site.service.lock:     # the remote ticket's booking page links back to the ticket
        code = next(b.code for b in site.service.state.bookings.values() if b.kind == "remote")
        assert site.service.state.bookings[code].phone == "+84912345679"
    page.goto(f"{site.http_url}/b/demo-district/{code}")
    assert page.locator("#move").count() == 0 and page.locator("#ics").count() == 0
    check(page, PHONE)
    page.click("#ticket")
    assert page.url == track_url
    assert page.inner_text("#number").startswith("A")
    assert "Chưa xác nhận tại ki-ốt" in page.inner_text("#notes")
    assert axe_check(page) == []
    # the citizen arrives and scans their ID card at the kiosk: the open page says so by itself
    key = site.server.id_hash_key
    reply = site.device("kiosk", "k1").request("booking.check_in", {"id_hash": cccd.id_hash(key, "001090555555")})
    assert reply["ok"] and reply["result"]["check_in"]["outcome"] == "remote", reply
    page.wait_for_function("document.getElementById('notes').textContent.indexOf('Đã xác nhận tại ki-ốt') >= 0")
    assert errors == []
    ctx.close()


def test_the_manager_sees_the_day_and_closes_a_slot_telling_its_citizens(browser, site):
    # a booking in a slot of tomorrow, made by a citizen
    ctx, page, errors = citizen(browser, DESKTOP)
    page.goto(site.http_url + "/book/cung-cap-thong-tin-dat")     # Đất đai: no other test books it
    slot = page.get_attribute(".bk-slots a", "data-slot")
    page.click(".bk-slots a")
    page.fill("#cccd", "001190000999")
    page.click("#submit")
    booking_url = page.url.split("?")[0]
    ctx.close()

    page, errors = logged_in_page(browser, site, MANAGER, bypass_csp=True)   # axe needs eval
    page.goto(f"{site.http_url}/bookings?day={slot[:10]}")
    cell = page.locator(f'tr[data-slot="{slot}"] td[data-sector="dat-dai"]')
    assert cell.locator(".cell-booked").inner_text().startswith("1/")
    assert axe_check(page) == []
    cell.locator("a").click()
    assert "1 người đã đặt lịch sẽ được báo" in page.inner_text("#told")
    assert axe_check(page) == []
    page.click("#confirm")
    assert "Đang báo cho 1 người" in page.inner_text("#message")
    shot(page, DESKTOP, "web-bookings-manager.png")
    assert page.locator(f'tr[data-slot="{slot}"] td[data-sector="dat-dai"]').inner_text() == "đóng"
    assert axe_check(page) == []
    page.goto(booking_url)
    assert "Trung tâm nghỉ vào giờ đó" in page.inner_text("#status")
    assert errors == []


def test_the_managers_day_counts_a_check_in_and_its_punctuality(browser, site):
    """Today's first free slot booked, its citizen checking in at the kiosk before it starts."""
    svc = site.service
    with svc.lock:
        now = svc.clock()
        slot = bookings.free_slots(svc.state, svc.config, "ho-kinh-doanh", now.astimezone(svc.config.site.tz).date(),
                                   now)[0]
    code = svc.execute("citizen", "web", CreateBooking(procedure="ho-kinh-doanh", slot=slot["slot"],
                                                       id_hash="b" * 64))["result"]["booking"]["code"]
    reply = site.device("kiosk", "k1").request("booking.check_in", {"code": code})
    assert reply["ok"] and reply["result"]["check_in"]["outcome"] == "early", reply
    page, errors = logged_in_page(browser, site, MANAGER, bypass_csp=True)   # axe needs eval
    page.goto(f"{site.http_url}/bookings")
    cell = page.locator(f'tr[data-slot="{slot["slot"]}"] td[data-sector="kinh-doanh"]')
    assert "1 đã đến, 0 vắng" in cell.inner_text()
    assert page.inner_text("#f-checked") == "1" and page.inner_text("#f-ontime") == "100,0 %"
    assert page.inner_text("#f-punct").startswith("-")          # early: before the slot's start
    assert axe_check(page) == []
    assert errors == []

