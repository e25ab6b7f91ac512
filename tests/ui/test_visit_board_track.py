"""The browser board and the citizen's tracking page follow a visit of several procedures (issue #18),
in Chromium against a real site (mosquitto, the queue server, the web app). The counters send their
MQTT commands as a keypad does: q1 (justice and results) serves the first procedure, continues here
with results and sends the citizen on to land, which q4 serves; q2 goes on a break with a reason.
Both pages change without a reload, with zero console errors; the tracking page is axe-clean."""
from __future__ import annotations

import pytest

from tests.support.browser import axe_check, page_errors, shows
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(120)

JUSTICE, RESULTS, LAND = "tu-phap-ho-tich", "tra-ket-qua", "dat-dai"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("visit-board-track")) as s:
        yield s


def open_page(browser, url, viewport, **context_args):
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **context_args)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    errors = page_errors(page)
    page.goto(url)
    return page, errors


def step_lines(page) -> list[str]:
    return [t.strip() for t in page.locator("#visit-steps li span[lang=vi]").all_inner_texts()]


def test_board_and_tracking_page_follow_a_visit_and_a_break(browser, site):
    kiosk = site.device("kiosk", "k1")
    q1, q2, q4 = (site.device("counter", c) for c in ("q1", "q2", "q4"))
    t = kiosk.request("ticket.issue", {"procedures": [{"sector": JUSTICE}, {"sector": RESULTS},
                                                      {"sector": LAND}]})["result"]["ticket"]
    number = t["number"]

    board, board_errors = open_page(browser, site.http_url + "/display?sound=off", (1280, 720))
    board.wait_for_selector('.tile[data-counter="q1"]')
    track, track_errors = open_page(browser, t["track_url"], (360, 740), is_mobile=True, bypass_csp=True)  # axe needs eval
    track.wait_for_selector("body[data-stream=open]")

    # the tracking page: where the visit stands, each procedure, the next, the visit's end
    assert track.locator("#where-vi").inner_text() == "1/3: Tư pháp – Hộ tịch"
    assert track.locator("#where-en").inner_text() == "1/3: Justice and civil status"
    assert step_lines(track) == ["1/3: Tư pháp – Hộ tịch · Đang làm", "2/3: Trả kết quả · Chờ làm",
                                 "3/3: Đất đai · Chờ làm"]
    assert track.locator("#next-vi").inner_text() == "Tiếp theo: 2/3: Trả kết quả"
    assert track.locator("#end-vi").inner_text().startswith("Dự kiến hoàn tất các thủ tục lúc khoảng ")
    assert axe_check(track) == []

    # a break with its reason: "Tạm nghỉ" on the tile, the reason under it
    assert q2.request("counter.open")["ok"]
    assert q2.request("counter.pause", {"reason": "meeting"})["ok"]
    board.wait_for_selector('.tile.paused[data-counter="q2"] .detail')
    assert board.locator('.tile[data-counter="q2"] .number').inner_text() == "Tạm nghỉ"
    assert board.locator('.tile[data-counter="q2"] .detail').inner_text() == "Họp"

    # called for the first procedure: the tile says which of the three
    assert q1.request("call.next")["result"]["ticket"]["number"] == number
    board.wait_for_selector(f'.tile[data-counter="q1"][data-number="{number}"] .detail')
    assert board.locator('.tile[data-counter="q1"] .detail').inner_text() == "1/3: Tư pháp – Hộ tịch"
    shows(track, "#headline-vi", "Mời đến quầy số 1")

    # continue here: called again at once for results, the banner and the tile say 2/3
    assert q1.request("serve.done", {"continue_here": True})["result"]["ticket"]["status"] == "called"
    shows(board, '.tile[data-counter="q1"] .detail', "2/3: Trả kết quả")
    shows(board, f'#recent li[data-number="{number}"] .step', "· 2/3: Trả kết quả")   # the recent calls too
    shows(board, "#banner-vi", f"Mời số {number} đến Quầy 1 · 2/3: Trả kết quả")
    assert "· 2/3: Collecting results" in board.locator("#banner-en").inner_text()
    shows(track, "#where-vi", "2/3: Trả kết quả")
    assert step_lines(track)[0] == "1/3: Tư pháp – Hộ tịch · Xong"

    # sent on: waiting in the land queue; the last procedure has no "next"
    assert q1.request("serve.done")["result"]["ticket"]["status"] == "waiting"
    shows(track, "#where-vi", "3/3: Đất đai")
    shows(track, "#headline-vi", "Đang chờ")
    assert track.locator("#visit-next").is_hidden()
    assert q4.request("call.next")["result"]["ticket"]["number"] == number
    shows(board, "#banner-vi", f"Mời số {number} đến Quầy 4 · 3/3: Đất đai")
    shows(track, "#headline-vi", "Mời đến quầy số 4")

    # the visit ends: the tracking page says served and drops the visit's list
    assert q4.request("serve.done")["ok"]
    track.wait_for_selector("#visit", state="hidden")
    assert track.locator("#headline-vi").inner_text() == "Bạn đã được phục vụ xong. Xin cảm ơn!"
    assert board_errors == [] and track_errors == []
    board.context.close()
    track.context.close()
