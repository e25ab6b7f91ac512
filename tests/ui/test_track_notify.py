"""The tracking page tells the citizen (issue #16, "Telling the citizen"): at N ahead (N picked on the
page, 3 by default, kept in localStorage) and when called, a banner in both languages and a browser
notification; for a ticket taken from a phone, when to leave home for the travel time picked.

A whole real site open now (tests/support/open_site.py) in headless Chromium: the ticket moves by a
counter's calls over MQTT, as a keypad sends them. The page is served from 127.0.0.1, a secure
context, so the Notification API is there; the context grants its permission, and an init script
wraps window.Notification to record what the page creates (nothing on the server is stubbed).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from protocol import cccd
from queue_server.domain.commands import RemoteTicket
from tests.support.browser import CHROMIUM, axe_check, page_errors, shows
from tests.support.open_site import open_now
from tests.support.site import RunningSite

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
              pytest.mark.timeout(180)]

SITE = Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml"
KD = "kinh-doanh"           # counter q7 serves it first

RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notified = [];
  function Recorded(title, options) {
    window.__notified.push({title: title, body: options && options.body});
    return new Real(title, options);
  }
  Object.defineProperty(Recorded, "permission", {get: () => Real.permission});
  Recorded.requestPermission = (cb) => Real.requestPermission(cb);
  window.Notification = Recorded;
  window.__tones = 0;               // the chime's notes (WebAudio oscillators)
  const osc = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.__tones++; return osc.call(this); };
})();
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("track-notify")
    with RunningSite(d / "run", open_now(SITE, d)) as s:
        yield s


def open_page(browser, url, *, context=None):
    # axe is injected as a script, which the pages' CSP forbids (test_every_page.py loads them under it)
    ctx = context or browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                         bypass_csp=True, permissions=["notifications"])
    if context is None:
        ctx.add_init_script(RECORD_NOTIFICATIONS)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    errors = page_errors(page)
    page.goto(url)
    page.wait_for_selector("body[data-stream=open]")
    return page, errors


def notified(page) -> list[dict]:
    return page.evaluate("window.__notified")


def test_near_and_called_show_the_banner_and_notify_once_each(browser, site):
    kiosk, q7 = site.device("kiosk", "k1"), site.device("counter", "q7")
    before = [kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"] for _ in range(4)]
    t = kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"]
    page, errors = open_page(browser, t["track_url"])
    assert page.locator("#ahead").inner_text() == "4"
    assert page.locator("#tell").is_visible() and page.locator("#near").input_value() == "3"
    assert page.locator("#notify").is_hidden()          # permission already granted: nothing to ask
    assert page.locator("#alert").is_hidden() and notified(page) == []
    assert axe_check(page) == []
    page.tap("#number")               # a tap lets the page play sound (browsers' rule)

    # one called: 3 ahead, the threshold is crossed
    assert q7.request("call.next")["result"]["ticket"]["number"] == before[0]["number"]
    shows(page, "#alert", "Sắp đến lượt bạn: còn 3 người trước bạn")
    assert page.locator("#alert-en").inner_text() == "Almost your turn: 3 ahead"
    page.wait_for_function("window.__notified.length === 1")
    assert notified(page) == [{"title": "Sắp đến lượt bạn: còn 3 người trước bạn", "body": "Almost your turn: 3 ahead"}]
    assert page.evaluate("window.__tones") == 2          # the two-note chime
    assert axe_check(page) == []

    # closer still: the banner follows, no second notification for the same crossing
    for prev in before[1:]:
        assert q7.request("serve.done")["ok"]
        assert q7.request("call.next")["result"]["ticket"]["number"] == prev["number"]
    shows(page, "#ahead", "0")
    shows(page, "#alert-vi", "còn 0 người trước bạn")
    assert len(notified(page)) == 1 and page.evaluate("window.__tones") == 2

    # called: "Mời bạn đến quầy 7", notified again
    assert q7.request("serve.done")["ok"]
    assert q7.request("call.next")["result"]["ticket"]["number"] == t["number"]
    shows(page, "#alert-vi", "Mời bạn đến quầy 7")
    assert page.locator("#alert-en").inner_text() == "Your turn: go to counter 7"
    page.wait_for_function("window.__notified.length === 2")
    assert notified(page)[1] == {"title": "Mời bạn đến quầy 7", "body": "Your turn: go to counter 7"}
    # a recall tells again
    assert q7.request("call.recall")["ok"]
    page.wait_for_function("window.__notified.length === 3")
    assert axe_check(page) == []
    # served: nothing to tell any more
    assert q7.request("serve.done")["ok"]
    page.wait_for_selector("#alert", state="hidden")
    assert len(notified(page)) == 3
    assert errors == []
    page.context.close()


def test_the_citizens_threshold_is_kept_on_the_phone(browser, site):
    kiosk, q7 = site.device("kiosk", "k1"), site.device("counter", "q7")
    first = kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"]
    for _ in range(4):
        kiosk.request("ticket.issue", {"sector": KD})
    t = kiosk.request("ticket.issue", {"sector": KD})["result"]["ticket"]
    page, errors = open_page(browser, t["track_url"])
    assert page.locator("#ahead").inner_text() == "5"
    page.select_option("#near", "5")         # already 5 ahead: the banner at once, no alarm for a choice
    shows(page, "#alert-vi", "còn 5 người trước bạn")
    assert notified(page) == []
    page.reload()
    page.wait_for_selector("body[data-stream=open]")
    assert page.locator("#near").input_value() == "5"
    page.select_option("#near", "4")         # above the threshold again: armed
    page.wait_for_selector("#alert", state="hidden")
    assert q7.request("call.next")["result"]["ticket"]["number"] == first["number"]
    shows(page, "#alert-vi", "còn 4 người trước bạn")
    page.wait_for_function("window.__notified.length === 1")
    # another ticket's page on the same phone starts from the same choice
    page2, errors2 = open_page(browser, first["track_url"], context=page.context)
    assert page2.locator("#near").input_value() == "4"
    assert errors == [] and errors2 == []
    page.context.close()


def test_a_ticket_from_a_phone_says_when_to_leave_home(browser, site):
    key = site.server.id_hash_key
    reply = site.service.execute("citizen", "web", RemoteTicket(procedure="khai-sinh",
                                                                 id_hash=cccd.id_hash(key, "001090666666")))
    assert reply["ok"], reply
    token = reply["result"]["ticket"]["token"]
    with site.service.lock:
        tk = site.service.state.tickets[site.service.state.by_token[token]]
        by = datetime.fromtimestamp(tk.arrive_by_epoch, site.service.config.site.tz)
    page, errors = open_page(browser, f"{site.http_url}/t/{token}")
    assert page.locator("#leave").is_visible()
    assert page.locator("#travel").input_value() == "20"
    assert page.locator("#leave-vi").inner_text() == f"Hãy đi lúc {by - timedelta(minutes=20):%H:%M}"
    assert page.locator("#leave-en").inner_text() == f"Leave at {by - timedelta(minutes=20):%H:%M}"
    assert axe_check(page) == []
    page.select_option("#travel", "45")
    shows(page, "#leave-vi", f"Hãy đi lúc {by - timedelta(minutes=45):%H:%M}")
    page.reload()
    page.wait_for_selector("body[data-stream=open]")
    assert page.locator("#travel").input_value() == "45"
    assert page.locator("#leave-vi").inner_text() == f"Hãy đi lúc {by - timedelta(minutes=45):%H:%M}"
    # checked in at the kiosk: the citizen is here, nothing more about leaving home
    check = site.device("kiosk", "k1").request("booking.check_in", {"id_hash": cccd.id_hash(key, "001090666666")})
    assert check["ok"], check
    page.wait_for_selector("#leave", state="hidden")
    assert errors == []
    page.context.close()
