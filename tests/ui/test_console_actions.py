"""The web counter console (issue #14), in Chromium against a real site:

* every action says what happened, in the keypad's words (motcua/clerk_texts), never a bare "Xong";
* the citizen rates the service on four large buttons, sent as the rating pad sends it;
* a clerk who opens `/console/<counter>` straight from its URL is recorded at that counter, so the
  per-clerk report and the XLSX clerk sheet name them.
"""
from __future__ import annotations

import io
import pytest

from queue_server.users import Users
from tests.support.browser import axe_check, logged_in_page
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(120)

CLERK = ("mai.clerk", "clerk-pass-5678")
JUSTICE, RECORDS = "tu-phap-ho-tich", "ly-lich-tu-phap"     # q1 serves justice


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("console-site")) as s:
        Users(s.service.store.engine).add(*CLERK, "clerk", "Phạm Thị Mai")
        yield s


def console(browser, site, counter: str):
    """Log in and go straight to the counter's URL, as docs/counter.md says a clerk may."""
    page, errors = logged_in_page(browser, site, CLERK, viewport=(1280, 900), bypass_csp=True)  # axe needs eval
    page.goto(f"{site.http_url}/console/{counter}")
    page.wait_for_selector("#live.on")
    return page, errors


def said(page, text: str) -> None:
    page.wait_for_function("t => document.querySelector('#msg').textContent === t", arg=text)


def test_each_action_says_what_happened_and_the_citizen_rates(browser, site):
    kiosk = site.device("kiosk", "k1")
    numbers = [kiosk.request("ticket.issue", {"sector": JUSTICE})["result"]["ticket"]["number"] for _ in range(4)]
    page, errors = console(browser, site, "q1")
    assert page.locator("#rating").is_hidden()          # nobody served here yet

    page.click("#btn-next")
    said(page, f"Đã gọi số {numbers[0]}")
    page.click("#btn-recall")
    said(page, f"Đã gọi lại số {numbers[0]}")
    page.click("#btn-done")
    said(page, f"Đã xong số {numbers[0]}")

    # the service ended: the citizen's rating panel, both languages, four large buttons
    page.wait_for_selector("#rating", state="visible")
    assert page.locator("#rating-number").inner_text() == numbers[0]
    assert page.locator("#rating button[data-score]").count() == 4
    assert page.locator("#rate-4").inner_text().split("\n")[0].strip() == "Rất hài lòng"
    assert "Very satisfied" in page.locator("#rate-4").inner_text()
    assert "Không hài lòng" in page.locator("#rate-1").inner_text()
    box = page.locator("#rate-3").bounding_box()
    assert box["height"] >= 60 and box["width"] >= 120       # large enough to press across the desk
    assert axe_check(page) == []
    page.click("#rate-4")
    said(page, f"Đã ghi nhận đánh giá cho số {numbers[0]}")
    assert page.locator("#rating-thanks").inner_text() == "Cảm ơn ông/bà đã đánh giá / Thank you for your rating"
    page.wait_for_selector("#rating", state="hidden")
    with site.service.lock:
        assert site.service.state.ticket_by_number(numbers[0]).rating == 4
    events = site.http_get("/api/v1/events?limit=5000", token=site.api_token)["events"]
    rated = [e for e in events if e["type"] == "rating.submitted"]
    assert rated[-1]["data"]["score"] == 4 and rated[-1]["device"] == "counter/q1"   # as the rating pad sends it

    page.click("#btn-next")
    said(page, f"Đã gọi số {numbers[1]}")
    page.click("#btn-no-show")
    said(page, f"Số {numbers[1]} vắng mặt")
    assert page.locator("#rating").is_hidden()          # a no-show is not rated; the last service was

    page.click("#btn-next")
    said(page, f"Đã gọi số {numbers[2]}")
    page.select_option("#to-sector", RECORDS)
    page.click("#btn-transfer")
    said(page, f"Đã chuyển số {numbers[2]} sang Lý lịch tư pháp")

    page.click("#btn-pause")
    said(page, "Tạm nghỉ: Nghỉ trưa")         # the reason list's first, lunch, unless the clerk picks another
    page.click("#btn-open")
    said(page, "Quầy đã mở")

    # an error is worded as an error, not as success
    assert errors == []
    page.click("#btn-done")
    page.wait_for_selector("#msg.error")
    assert len(errors) == 1 and "409" in errors[0]      # Chromium logs the refused request itself
    errors.clear()

    # in English, the same texts' English side
    page.goto(f"{site.http_url}/lang/en?next=/console/q1")
    page.wait_for_selector("#live.on")
    page.click("#btn-next")
    said(page, f"Called {numbers[3]}")
    page.click("#btn-no-show")
    said(page, f"{numbers[3]} did not come")
    assert errors == []
    page.context.close()


def test_a_clerk_who_opens_the_counter_url_is_in_the_per_clerk_report(browser, site):
    from openpyxl import load_workbook
    kiosk = site.device("kiosk", "k1")
    number = kiosk.request("ticket.issue", {"sector": "kinh-doanh"})["result"]["ticket"]["number"]
    page, errors = console(browser, site, "q7")
    page.click("#btn-next")
    said(page, f"Đã gọi số {number}")
    page.click("#btn-done")
    said(page, f"Đã xong số {number}")
    page.context.close()

    today = site.service.clock().astimezone(site.site.site.tz).date().isoformat()
    report = site.http_get(f"/api/v1/reports?from={today}&to={today}", token=site.api_token)["report"]
    rows = {r["key"]: r for r in report["tables"]["clerk"]}
    assert CLERK[0] in rows, rows
    assert rows[CLERK[0]]["served"] >= 1 and rows[CLERK[0]]["called"] >= 1

    import urllib.request
    req = urllib.request.Request(f"{site.http_url}/reports/export.xlsx?from={today}&to={today}",
                                 headers={"Authorization": f"Bearer {site.api_token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        wb = load_workbook(io.BytesIO(resp.read()))
    sheet = wb["Cán bộ"]
    head = [c.value for c in sheet[1]]
    keys = [row[head.index("key")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert CLERK[0] in keys
    assert errors == []
