"""The web counter console and a visit of several procedures (issue #18), in Chromium against a real
site: where the visit stands, drop and add a procedure, "continue here" when this counter serves the
next sector, Done sends the citizen on to the next sector's queue, a break with its reason; every
action worded as the keypad words it (motcua/clerk_texts), zero console errors, axe-clean."""
from __future__ import annotations

import pytest

from queue_server.users import Users
from tests.support.browser import axe_check, logged_in_page
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(120)

CLERK = ("lan.clerk", "clerk-pass-9012")
JUSTICE, RESULTS, LAND = "tu-phap-ho-tich", "tra-ket-qua", "dat-dai"     # q1 serves justice and results


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("console-visit")) as s:
        Users(s.service.store.engine).add(*CLERK, "clerk", "Nguyễn Thị Lan")
        yield s


def said(page, text: str) -> None:
    page.wait_for_function("t => document.querySelector('#msg').textContent === t", arg=text)


def steps(page) -> list[str]:
    return [t.strip() for t in page.locator("#visit-steps li span").all_inner_texts()]


def test_a_visit_at_the_console_continue_here_drop_add_send_on_and_a_break(browser, site):
    kiosk = site.device("kiosk", "k1")
    reply = kiosk.request("ticket.issue", {"procedures": [{"sector": JUSTICE, "procedure": "khai-sinh"},
                                                          {"sector": RESULTS}, {"sector": LAND}]})
    ticket = reply["result"]["ticket"]
    number = ticket["number"]
    assert [p["sector"] for p in ticket["visit"]["procedures"]] == [JUSTICE, RESULTS, LAND]

    page, errors = logged_in_page(browser, site, CLERK, viewport=(1280, 900), bypass_csp=True)  # axe needs eval
    page.goto(f"{site.http_url}/console/q1")
    page.wait_for_selector("#live.on")
    assert page.locator("#visit").is_hidden()          # nobody served yet

    page.click("#btn-next")
    said(page, f"Đã gọi số {number}")
    page.wait_for_selector("#visit", state="visible")
    assert page.locator("#where").inner_text() == "1/3: Tư pháp – Hộ tịch"
    assert steps(page) == ["1/3: Tư pháp – Hộ tịch — Đăng ký khai sinh · Đang làm",
                           "2/3: Trả kết quả · Chờ làm", "3/3: Đất đai · Chờ làm"], steps(page)
    # the next procedure (results) is served here too: "continue here" is offered; Done sends on
    assert page.locator("#btn-continue").is_visible()
    assert page.locator("#done-next").inner_text().strip() == "· Mời sang Trả kết quả"
    assert axe_check(page) == []

    # drop the land procedure, then add it back from the list
    page.click("#visit-steps li:nth-child(3) button.drop")
    said(page, f"Đã bỏ Đất đai khỏi lượt của số {number}")
    page.wait_for_function("() => document.querySelectorAll('#visit-steps li').length === 2")
    assert page.locator("#where").inner_text() == "1/2: Tư pháp – Hộ tịch"
    page.select_option("#add-what", label="Đất đai (mọi thủ tục)")
    page.click("#btn-add")
    said(page, f"Đã thêm Đất đai vào lượt của số {number}")
    page.wait_for_function("() => document.querySelectorAll('#visit-steps li').length === 3")

    # continue here: the same counter serves the citizen's next procedure at once
    page.click("#btn-continue")
    said(page, f"Đã xong số {number}: tiếp tục tại quầy với Trả kết quả")
    page.wait_for_function("() => document.querySelector('#where').textContent === '2/3: Trả kết quả'")
    assert page.locator("#now").inner_text() == number
    # land is not served here: no "continue here"; Done sends the citizen on to its queue
    page.wait_for_selector("#btn-continue", state="hidden")
    page.click("#btn-done")
    said(page, f"Đã xong số {number}: mời sang hàng chờ Đất đai")
    page.wait_for_selector("#visit", state="hidden")
    assert page.locator("#now").inner_text() == "—"
    with site.service.lock:
        t = site.service.state.ticket_by_number(number)
        assert (t.status, t.sector) == ("waiting", LAND)

    # a break with its reason
    page.select_option("#pause-reason", "meeting")
    page.click("#btn-pause")
    said(page, "Tạm nghỉ: Họp")
    page.wait_for_function("() => document.querySelector('#status').textContent === 'Tạm nghỉ: Họp'")
    status = [e for e in site.events("counter.status_changed") if e.data.get("counter") == "q1"]
    assert status[-1].data["status"] == "paused" and status[-1].data["reason"] == "meeting"
    assert axe_check(page) == []
    page.click("#btn-open")
    said(page, "Quầy đã mở")
    assert errors == []
    page.context.close()


def test_the_console_api_refuses_bad_visit_and_break_fields(site):
    import json
    import urllib.error
    import urllib.request

    def post(action, body):
        req = urllib.request.Request(f"{site.http_url}/console/api/q2/{action}", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {site.api_token}",
                                              "Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    assert post("pause", {"reason": "nap"})[0] == 400
    assert post("done", {"continue_here": "yes"})[0] == 400
    code, body = post("add", {})
    assert code == 400 and body["error"]["message_vi"] == "Thiếu lĩnh vực của thủ tục"
    assert post("add", {"sector": LAND, "procedure": "khai-sinh"})[0] == 400     # not a land procedure
    code, body = post("add", {"sector": LAND})
    assert code == 409 and body["error"]["code"] == "no_current_ticket"
