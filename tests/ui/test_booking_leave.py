"""A booking's page says when to leave home (issue #16): the slot's start less the travel time the
citizen picks (20 min unless picked; the choice kept in the phone's localStorage, shared with the
tracking page), with the day when the booking is not today. A real site open now; Chromium on a
360x640 phone: axe-clean, and under the pages' real CSP no console error."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from queue_server.domain import bookings
from queue_server.domain.commands import CreateBooking
from tests.support.browser import CHROMIUM, axe_check, page_errors
from tests.support.open_site import open_now
from tests.support.site import RunningSite

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
              pytest.mark.timeout(240)]

SITE = Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("booking-leave")
    with RunningSite(d / "run", open_now(SITE, d)) as s:
        yield s


def _book(site, day_offset: int, who: str) -> tuple[str, datetime]:
    svc = site.service
    with svc.lock:
        now = svc.clock()
        day = now.astimezone(svc.config.site.tz).date() + timedelta(days=day_offset)
        slot = bookings.free_slots(svc.state, svc.config, "ket-hon", day, now)[0]
    reply = svc.execute("citizen", "web", CreateBooking(procedure="ket-hon", slot=slot["slot"], id_hash=who * 64))
    return reply["result"]["booking"]["code"], datetime.fromisoformat(slot["slot_start"])


def _phone(browser, bypass_csp: bool):
    ctx = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True,
                              bypass_csp=bypass_csp)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    return ctx, page, page_errors(page)


def test_todays_booking_says_when_to_leave_and_keeps_the_travel_picked(browser, site):
    code, start = _book(site, 0, "a")
    url = f"{site.http_url}/b/demo-district/{code}"
    ctx, page, errors = _phone(browser, bypass_csp=True)      # axe is injected as a script
    page.goto(url)
    assert page.inner_text("#h-leave").startswith("Khi nào đi từ nhà")
    assert page.input_value("#travel") == "20"
    assert page.inner_text("#leave-vi") == f"Hãy đi lúc {start - timedelta(minutes=20):%H:%M}"
    assert page.inner_text("#leave-en") == f"Leave at {start - timedelta(minutes=20):%H:%M}"
    assert axe_check(page) == []
    page.select_option("#travel", "45")
    assert page.inner_text("#leave-vi") == f"Hãy đi lúc {start - timedelta(minutes=45):%H:%M}"
    page.reload()
    assert page.input_value("#travel") == "45"
    assert page.inner_text("#leave-en") == f"Leave at {start - timedelta(minutes=45):%H:%M}"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    assert errors == []
    ctx.close()


def test_a_booking_days_ahead_names_the_day_under_the_real_csp(browser, site):
    code, start = _book(site, 1, "b")
    ctx, page, errors = _phone(browser, bypass_csp=False)
    page.goto(f"{site.http_url}/b/demo-district/{code}")
    page.select_option("#travel", "10")                     # leave.js runs under the CSP
    leave = start - timedelta(minutes=10)
    assert page.inner_text("#leave-vi") == f"Hãy đi lúc {leave:%H:%M} ngày {leave:%d/%m/%Y}"
    assert errors == []
    ctx.close()


def test_a_cancelled_booking_has_no_leave_time(browser, site):
    from queue_server.domain.commands import CancelBooking
    code, _ = _book(site, 2, "c")
    assert site.service.execute("citizen", "web", CancelBooking(code=code, id_hash="c" * 64))["ok"]
    ctx, page, errors = _phone(browser, bypass_csp=False)
    page.goto(f"{site.http_url}/b/demo-district/{code}")
    assert page.locator("#leave").count() == 0 and page.locator("script[src$='leave.js']").count() == 0
    assert errors == []
    ctx.close()
