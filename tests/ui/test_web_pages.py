"""The managers' web, the citizens' pages and the web counter console in a real Chromium (Playwright),
against a whole real site (mosquitto + queue server + web) and real MQTT devices.

Screenshots go to a temp dir; set MOTCUA_SCREENSHOTS=docs/screenshots to refresh the committed ones.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from queue_server.users import Users
from tests.support.browser import axe_check, logged_in_page
from tests.support.site import RunningSite
from tests.support.wait import until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]   # seven pages driven in Chromium

MANAGER = ("lan.manager", "manager-pass-123")
CLERK = ("hung.clerk", "clerk-pass-1234")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("web-site")) as s:
        users = Users(s.service.store.engine)
        users.add(*MANAGER, "manager", "Nguyễn Thị Lan")
        users.add(*CLERK, "clerk", "Trần Văn Hùng")
        yield s


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    target = os.environ.get("MOTCUA_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def login(browser, site, who, viewport=None):
    size = (viewport["width"], viewport["height"]) if viewport else (1366, 900)
    return logged_in_page(browser, site, who, viewport=size, accept_downloads=True,
                          bypass_csp=True)[0]  # the pages forbid eval; Playwright and axe need it


def test_login_is_required_and_wrong_password_refused(browser, site):
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    page.goto(site.http_url + "/dashboard")
    assert "/login" in page.url
    page.fill("#username", MANAGER[0])
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("p.error").inner_text() == "Sai tên đăng nhập hoặc mật khẩu."
    page.fill("#username", MANAGER[0])
    page.fill("#password", MANAGER[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    ctx.close()


def test_rebalance_by_clicking_and_the_next_call_follows(browser, site, shots):
    page = login(browser, site, MANAGER)
    assert page.url.endswith("/dashboard")
    page.wait_for_selector("#live.on")
    q1 = page.locator('article[data-counter="q1"]')
    assert q1.locator('input[data-sector="tu-phap-ho-tich"]').is_checked()

    # q1 leaves justice and results, and takes judicial records (it is trained for it)
    q1.locator('input[data-sector="ly-lich-tu-phap"]').check()
    # nothing is sent yet: the card shows the change's what-if, the predicted wait of the sectors
    # it touches over the next hour without and with it
    ready = 'article[data-counter="q1"] .proposal[data-state="ready"] table.whatif'
    page.wait_for_selector(ready)
    rows = page.locator(ready + " tbody tr")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.getAttribute('data-sector'))")) == [
        "ly-lich-tu-phap", "tra-ket-qua", "tu-phap-ho-tich"]
    assert page.locator(ready + " caption").inner_text() == "Dự báo thời gian chờ trong 1 giờ tới (phút)"
    with site.service.lock:
        assert site.service.state.counters["q1"].sectors == ["tu-phap-ho-tich", "tra-ket-qua"]
    q1 = page.locator('article[data-counter="q1"]')
    q1.locator('input[data-sector="tu-phap-ho-tich"]').uncheck()
    page.wait_for_timeout(300)     # a person's pace between two clicks on the card
    page.locator('article[data-counter="q1"] input[data-sector="tra-ket-qua"]').uncheck()
    page.wait_for_function("""() => {
        const c = document.querySelector('article[data-counter="q1"]');
        return c && !c.querySelector('input[data-sector="tra-ket-qua"]').checked
                  && !c.querySelector('input[data-sector="tu-phap-ho-tich"]').checked; }""")
    page.wait_for_selector(ready)
    page.click("#apply-q1")
    # the change is sent once applied; wait until the server has it
    def applied() -> bool:
        with site.service.lock:
            return site.service.state.counters["q1"].sectors == ["ly-lich-tu-phap"]
    until(applied, timeout=10)
    with site.service.lock:
        assert site.service.state.counters["q1"].sectors == ["ly-lich-tu-phap"]
    # and the card still shows what was clicked after the live updates that follow
    page.wait_for_timeout(500)     # a negative check: live updates have had time to undo the clicks
    q1 = page.locator('article[data-counter="q1"]')
    assert q1.locator('input[data-sector="ly-lich-tu-phap"]').is_checked()
    assert not q1.locator('input[data-sector="tu-phap-ho-tich"]').is_checked()

    # an override outside `trained` needs a reason
    q1 = page.locator('article[data-counter="q1"]')
    q1.locator("summary").click()
    q1.locator('input[data-sector="dat-dai"]').click()
    assert q1.locator(".field-error").inner_text() == "Hãy nhập lý do ngoại lệ trước."   # beside the click
    assert not q1.locator('input[data-sector="dat-dai"]').is_checked()
    with site.service.lock:
        assert "dat-dai" not in site.service.state.counters["q1"].sectors

    # the next call at q1 follows the new sectors: an older justice ticket waits, q1 calls the records one
    kiosk = site.device("kiosk", "k1")
    older = kiosk.request("ticket.issue", {"sector": "tu-phap-ho-tich"})["result"]["ticket"]
    newer = kiosk.request("ticket.issue", {"sector": "ly-lich-tu-phap"})["result"]["ticket"]
    counter = site.device("counter", "q1")
    reply = counter.request("call.next")
    assert reply["ok"], reply
    assert reply["result"]["ticket"]["number"] == newer["number"] != older["number"]
    # ... and the dashboard shows it live
    try:
        page.wait_for_function(
            f"document.querySelector('article[data-counter=\"q1\"] .now-serving').textContent === '{newer['number']}'")
    except Exception:
        print("CARD", page.locator('article[data-counter="q1"]').inner_text(), page.locator("#live").inner_text())
        raise
    row = page.locator('#sectors tr[data-sector="tu-phap-ho-tich"] td.waiting')
    assert int(row.inner_text()) >= 1
    # the change is recorded in the log with who made it
    events = site.http_get("/api/v1/events?limit=5000", token=site.api_token)["events"]
    changes = [e for e in events if e["type"] == "counter.sectors_changed" and e["data"]["counter"] == "q1"]
    assert changes[-1]["data"]["by"] == MANAGER[0] and changes[-1]["data"]["sectors"] == ["ly-lich-tu-phap"]

    # with a reason, the override is accepted and recorded
    q1 = page.locator('article[data-counter="q1"]')
    q1.locator("input.reason").fill("Quầy 4 nghỉ ốm")
    q1.locator('input[data-sector="dat-dai"]').click()
    page.wait_for_selector('article[data-counter="q1"] .proposal[data-state="ready"]')
    page.click("#apply-q1")
    page.wait_for_function("""() => document.querySelector('article[data-counter="q1"] input[data-sector="dat-dai"]').checked
                                    && document.querySelector('#msg').textContent === 'Đã lưu'""")
    until(lambda: site.service.state.counters["q1"].sectors == ["ly-lich-tu-phap", "dat-dai"], timeout=10)
    with site.service.lock:
        assert site.service.state.counters["q1"].sectors == ["ly-lich-tu-phap", "dat-dai"]
        assert site.service.state.counters["q1"].sectors_override

    # pause a counter from the dashboard
    page.locator('article[data-counter="q8"] button[data-action="paused"]').click()
    page.wait_for_selector('article[data-counter="q8"] .badge.paused')
    page.wait_for_timeout(2500)   # let the charts draw
    page.screenshot(path=str(shots / "web-dashboard.png"), full_page=True)
    assert page.locator("#chart-arrivals svg").count() == 1
    assert axe_check(page) == []
    page.context.close()


def test_a_printer_running_out_of_paper_reaches_the_dashboard_at_once(browser, site):
    """Device health is pushed on the live stream (a "device" event), not left to a poll: the alert
    shows within seconds of the kiosk saying so, and goes when the paper is back."""
    page = login(browser, site, MANAGER)
    page.wait_for_selector("#live.on")
    kiosk = site.device("kiosk", "k2")
    kiosk.set_status(printer="paper_out")
    alert = "#alerts li.bad:has-text('kiosk k2')"
    page.wait_for_selector(alert, timeout=5_000)   # the dashboard's fallback poll is every 60 s
    assert "hết giấy" in page.inner_text(alert)
    kiosk.set_status(printer="ok")
    page.wait_for_selector(alert, state="detached", timeout=5_000)
    page.context.close()


def test_tracking_page_updates_live_and_cancels(browser, site, shots):
    kiosk = site.device("kiosk", "k2")
    t = kiosk.request("ticket.issue", {"sector": "kinh-doanh", "procedure": "ho-kinh-doanh"})["result"]["ticket"]
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, bypass_csp=True)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    page.goto(t["track_url"])
    assert page.locator("#number").inner_text() == t["number"]
    assert "Đang chờ" in page.locator("#live").inner_text()
    assert "people ahead of you" in page.locator("#live").inner_text()
    assert axe_check(page) == []
    page.wait_for_timeout(500)   # the stream is open
    reply = site.device("counter", "q7").request("call.next")
    assert reply["result"]["ticket"]["number"] == t["number"]
    page.wait_for_selector("#headline.called")
    assert page.locator("#headline .big").inner_text() == "Mời đến quầy số 7"
    assert page.locator("#headline .en").inner_text() == "Go to counter 7"
    assert page.locator("#cancel").is_hidden()
    page.screenshot(path=str(shots / "web-tracking.png"), full_page=True)

    # a second ticket, cancelled by the citizen
    t2 = kiosk.request("ticket.issue", {"sector": "kinh-doanh"})["result"]["ticket"]
    page.goto(t2["track_url"])
    page.once("dialog", lambda d: d.accept())
    page.click("#cancel")
    page.wait_for_function("document.querySelector('#live').textContent.indexOf('Số này đã bị hủy') >= 0")
    assert site.http_get(f"/api/v1/tickets/{t2['token']}")["ticket"]["status"] == "cancelled"
    page.goto(site.http_url + "/t/no-such-token")
    assert "Không tìm thấy số thứ tự" in page.content()
    page.goto(site.http_url + "/waits")
    assert page.locator('tr[data-sector="kinh-doanh"]').count() == 1
    # the minutes column is the board's shown wait (not its deprecated alias, which goes away)
    shown = {s["id"]: s["shown_wait_s"] for s in site.http_get("/api/v1/board")["sectors"]}
    assert abs(int(page.locator('tr[data-sector="kinh-doanh"] .est').inner_text()) * 60 - shown["kinh-doanh"]) <= 30
    assert axe_check(page) == []
    ctx.close()


def test_report_page_exports_and_prints(browser, site, shots):
    from openpyxl import load_workbook
    # a little more of a morning: served, rated, a no-show, a citizen guided online
    kiosk = site.device("kiosk", "k2")
    for sector in ("tu-phap-ho-tich", "tu-phap-ho-tich", "dat-dai", "dat-dai", "tra-ket-qua"):
        assert kiosk.request("ticket.issue", {"sector": sector})["ok"]
    assert kiosk.request("guidance.online", {"procedure": "khai-sinh"})["ok"]
    for cid, outcome, score in (("q2", "completed", 4), ("q3", "received_dossier", 3), ("q4", "guided_online", 4)):
        dev = site.device("counter", cid)
        ticket = dev.request("call.next")["result"]["ticket"]
        assert dev.request("serve.done", {"outcome": outcome})["ok"]
        assert dev.request("rating.submit", {"ticket_id": ticket["id"], "score": score})["ok"]
    q5 = site.device("counter", "q5")
    assert q5.request("call.next")["ok"] and q5.request("serve.no_show")["ok"]

    page = login(browser, site, MANAGER)
    page.goto(site.http_url + "/reports")
    issued = sum(s["issued_today"] for s in site.http_get("/api/v1/sectors")["sectors"])
    assert int(page.locator("#total-tickets").inner_text()) == issued > 0
    assert page.locator('#t-766 tr[data-indicator="satisfaction"]').count() == 1
    sat = page.locator('#t-766 tr[data-indicator="satisfaction"]').inner_text()
    assert "÷" in sat and "100,0 %" in sat and "3 / 3" in sat
    page.screenshot(path=str(shots / "web-report.png"), full_page=True)
    assert axe_check(page) == []

    with page.expect_download() as dl:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    total = next(r for r in rows if r[0] == "total")
    assert int(total[rows[0].index("tickets")]) == issued
    with page.expect_download() as dl:
        page.click("#export-xlsx")
    wb = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    head = [c.value for c in wb["Tổng"][1]]
    assert wb["Tổng"].cell(row=2, column=head.index("tickets") + 1).value == issued
    assert "Chỉ số 766" in wb.sheetnames

    page.click("#print")
    assert "/reports/print" in page.url
    assert page.locator("header.top").is_hidden()      # print.css applies on screen too
    # English
    page.goto(site.http_url + "/lang/en?next=/reports")
    assert page.locator("h1").inner_text().startswith("Reports")
    page.context.close()


def test_counter_console(browser, site, shots):
    kiosk = site.device("kiosk", "k1")
    t = kiosk.request("ticket.issue", {"sector": "xay-dung"})["result"]["ticket"]
    page = login(browser, site, CLERK)
    assert page.url.endswith("/console")
    page.click("#pick-q6")
    page.wait_for_url("**/console/q6")
    page.wait_for_selector("#live.on")
    assert t["number"] in page.locator("#queues").inner_text()
    page.click("#btn-next")
    page.wait_for_function(f"document.querySelector('#now').textContent === '{t['number']}'")
    page.click("#btn-recall")
    page.wait_for_function(f"document.querySelector('#msg').textContent === 'Đã gọi lại số {t['number']}'")
    # transfer to land: the ticket waits again there
    page.select_option("#to-sector", "dat-dai")
    page.click("#btn-transfer")
    page.wait_for_function("document.querySelector('#now').textContent === '—'")
    with site.service.lock:
        tk = site.service.state.ticket_by_number(t["number"])
        assert tk.sector == "dat-dai" and tk.status == "waiting"
    page.click("#btn-done")
    page.wait_for_function("document.querySelector('#msg').textContent.indexOf('không phục vụ') >= 0 "
                           "|| document.querySelector('#msg').className.indexOf('error') >= 0")
    page.click("#btn-pause")
    page.wait_for_selector("#status.paused")
    page.click("#btn-open")
    page.wait_for_selector("#status.open")
    page.screenshot(path=str(shots / "web-console.png"), full_page=True)
    assert axe_check(page) == []
    # a clerk cannot rebalance
    resp = page.request.post(site.http_url + "/api/v1/counters/q6/status", data={"status": "closed"})
    assert resp.status == 403
    page.goto(site.http_url + "/dashboard")     # a clerk may look, not change
    assert page.locator('article[data-counter="q6"] input[data-sector="xay-dung"]').is_disabled()
    assert page.locator('article[data-counter="q6"] button').count() == 0
    sessions = Users(site.service.store.engine).counter_sessions()
    assert sessions[-1].username == CLERK[0] and sessions[-1].counter == "q6"
    page.context.close()


def test_login_page_is_accessible(browser, site):
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    page.goto(site.http_url + "/login")
    assert axe_check(page) == []
    ctx.close()
