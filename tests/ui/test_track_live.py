"""The citizen's tracking page `/t/<token>` follows every change of its ticket without a reload, and
says "Đang kết nối lại… / Reconnecting…" while the server cannot be reached (issue #14).

A real site (mosquitto, the queue server on SQLite, the web app) in headless Chromium; the ticket is
driven by the counters' MQTT commands, as a keypad sends them.
"""
from __future__ import annotations

import pytest

from tests.support.browser import page_errors, shows
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(120)

KD, LAND = "kinh-doanh", "dat-dai"      # q7 serves kinh-doanh; q4 serves dat-dai first


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("track-site")) as s:
        yield s


def open_page(browser, url):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    errors = page_errors(page)
    page.goto(url)
    page.wait_for_selector("body[data-stream=open]")
    return page, errors


def test_the_page_follows_transfer_call_recall_and_service(browser, site):
    names = {s.id: s.name for s in site.site.sectors}
    kiosk = site.device("kiosk", "k1")
    q7, q4 = site.device("counter", "q7"), site.device("counter", "q4")
    first = kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"]
    t = kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"]
    page, errors = open_page(browser, t["track_url"])
    assert page.locator("#number").inner_text() == t["number"]
    assert page.locator("#sector-vi").inner_text() == names[KD].vi
    assert page.locator("#headline-vi").inner_text() == "Đang chờ"
    assert page.locator("#ahead").inner_text() == "1"
    assert page.locator("#cancel").is_visible()

    # the citizen ahead is called: one fewer ahead
    assert q7.request("call.next")["result"]["ticket"]["number"] == first["number"]
    shows(page, "#ahead", "0")
    assert q7.request("serve.done")["ok"]

    # called: the counter in big type, no cancel button
    assert q7.request("call.next")["result"]["ticket"]["number"] == t["number"]
    shows(page, "#headline-vi", "Mời đến quầy số 7")
    assert page.locator("#headline-en").inner_text() == "Go to counter 7"
    assert page.locator("#headline.called").count() == 1
    assert page.locator("#cancel").is_hidden() and page.locator("#facts").is_hidden()
    assert page.locator("#notes li").count() == 0

    # recalled: said so
    assert q7.request("call.recall")["ok"]
    shows(page, "#notes", "Bạn đang được gọi lại")
    assert "called again" in page.locator("#notes").inner_text()

    # transferred: the new sector's name, waiting again, the cancel button back
    assert q7.request("serve.transfer", {"to_sector": LAND})["ok"]
    shows(page, "#sector-vi", names[LAND].vi)
    assert page.locator("#sector-en").inner_text() == names[LAND].en
    shows(page, "#headline-vi", "Đang chờ")
    assert page.locator("#headline.called").count() == 0
    assert "chuyển sang lĩnh vực này" in page.locator("#notes").inner_text()
    assert page.locator("#cancel").is_visible() and page.locator("#ahead").inner_text() == "0"

    # called at the other sector's counter, then served: the page ends and stops listening
    assert q4.request("call.next")["result"]["ticket"]["number"] == t["number"]
    shows(page, "#headline-vi", "Mời đến quầy số 4")
    assert page.locator("#notes li").count() == 0
    assert q4.request("serve.done")["ok"]
    shows(page, "#headline-vi", "Bạn đã được phục vụ xong")
    assert "You have been served" in page.locator("#headline-en").inner_text()
    assert page.locator("#cancel").is_hidden()
    page.wait_for_selector("body[data-stream=closed]")
    # and what the live page shows is what a fresh load of the page shows
    live = page.locator("#main").inner_text()
    page.reload()
    assert page.locator("#main").inner_text() == live
    assert errors == []
    page.context.close()


def test_no_show_and_a_cancelled_ticket_end_the_page(browser, site):
    kiosk = site.device("kiosk", "k1")
    t = kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"]
    page, errors = open_page(browser, t["track_url"])
    q7 = site.device("counter", "q7")
    assert q7.request("call.next")["result"]["ticket"]["number"] == t["number"]
    shows(page, "#headline-vi", "Mời đến quầy số 7")
    assert q7.request("serve.no_show")["ok"]
    shows(page, "#headline-vi", "Bạn đã được gọi nhưng không đến quầy")
    page.wait_for_selector("body[data-stream=closed]")
    assert errors == []
    page.context.close()

    t2 = kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"]
    page, errors = open_page(browser, t2["track_url"])
    page.once("dialog", lambda d: d.accept())
    page.click("#cancel")
    shows(page, "#headline-vi", "Số này đã bị hủy")
    assert page.locator("#cancel").is_hidden()
    assert errors == []
    page.context.close()


def test_reconnecting_banner_while_the_server_is_down(browser, site):
    kiosk = site.device("kiosk", "k1")
    t = kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"]
    page, errors = open_page(browser, t["track_url"])
    assert page.locator("#offline").is_hidden()
    site.stop_server()
    try:
        page.wait_for_selector("#offline", state="visible")
        assert page.locator("#offline").inner_text() == "Đang kết nối lại… / Reconnecting…"
        assert page.locator("body").get_attribute("data-stream") == "down"
    finally:
        site.start_server()
    # back: the banner goes, and the page follows the ticket again
    page.wait_for_selector("#offline", state="hidden")
    page.wait_for_selector("body[data-stream=open]")
    outage = list(errors)     # the browser logs the refused connections while the server is down
    errors.clear()
    assert outage and all("ERR_CONNECTION_REFUSED" in e or "Failed to load resource" in e for e in outage), outage
    assert site.device("counter", "q7").request("call.next")["result"]["ticket"]["number"] == t["number"]
    shows(page, "#headline-vi", "Mời đến quầy số 7")
    assert errors == []
    page.context.close()
