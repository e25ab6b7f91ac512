"""The report page and its exports with the booking figures (issue #16): a real site open now, a
booked citizen checking in at the kiosk, a walk-in and a ticket from a phone called by counter
7; the page in Chromium (axe-clean, no console error), the CSV and the XLSX read back."""
from __future__ import annotations

import csv
import io
import urllib.request
from pathlib import Path

import pytest

from queue_server.domain import bookings
from queue_server.domain.commands import CreateBooking, RemoteTicket
from queue_server.users import Users
from tests.support.browser import CHROMIUM, axe_check, logged_in_page
from tests.support.open_site import open_now
from tests.support.site import RunningSite

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
              pytest.mark.timeout(240)]

SITE = Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml"
MANAGER = ("hoa.manager", "manager-pass-456")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("booking-report")
    with RunningSite(d / "run", open_now(SITE, d)) as s:
        Users(s.service.store.engine).add(*MANAGER, "manager", "Hoa")
        svc = s.service
        with svc.lock:
            now = svc.clock()
            slot = bookings.free_slots(svc.state, svc.config, "ho-kinh-doanh",
                                       now.astimezone(svc.config.site.tz).date(), now)[0]
        code = svc.execute("citizen", "web", CreateBooking(procedure="ho-kinh-doanh", slot=slot["slot"],
                                                           id_hash="b" * 64))["result"]["booking"]["code"]
        kiosk, q7 = s.device("kiosk", "k1"), s.device("counter", "q7")
        assert kiosk.request("booking.check_in", {"code": code})["result"]["check_in"]["outcome"] == "early"
        assert kiosk.request("ticket.issue", {"sector": "kinh-doanh"})["ok"]          # the walk-in
        assert q7.request("call.next")["ok"] and q7.request("serve.done")["ok"]
        remote = svc.execute("citizen", "web", RemoteTicket(procedure="ho-kinh-doanh", id_hash="c" * 64))
        assert kiosk.request("booking.check_in", {"code": remote["result"]["booking"]["code"]})["ok"]
        assert q7.request("call.next")["ok"]                                           # the phone's ticket
        yield s


def _get(site, path: str) -> bytes:
    req = urllib.request.Request(site.http_url + path, headers={"Authorization": f"Bearer {site.api_token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()


def test_the_report_page_shows_the_booking_figures_vietnamese_first(browser, site):
    page, errors = logged_in_page(browser, site, MANAGER, bypass_csp=True)   # axe needs eval
    page.goto(site.http_url + "/reports")
    assert page.inner_text("#h-bookings") == "Đặt lịch hẹn và lấy số qua điện thoại"
    assert (page.inner_text("#bk-came-booking"), page.inner_text("#bk-came-remote")) == ("1", "1")
    assert page.inner_text("#bk-share") == "66,7 %"           # 2 of 3 citizens' visits
    row = page.locator('#t-bk-sector tr[data-sector="kinh-doanh"] td')
    assert [row.nth(i).inner_text() for i in range(4)] == ["1", "1", "2", "0"]    # booked, phone, came, late
    walk_in = page.locator('#t-bk-waits tr[data-group="walk_in"] td')
    assert walk_in.nth(0).inner_text() == "1"
    assert page.locator('#t-bk-waits tr[data-group="remote"] td').nth(0).inner_text() == "1"
    online = page.locator('#t-766 tr[data-indicator="online_booking_share"]')
    assert "Tỷ lệ công dân đăng ký trực tuyến" in online.inner_text()
    assert online.locator("td.used").inner_text().strip() == "2 / 3"
    assert axe_check(page) == []
    page.goto(site.http_url + "/lang/en?next=/reports")
    assert page.inner_text("#h-bookings") == "Bookings and tickets from phones"
    assert axe_check(page) == []
    assert errors == []
    page.context.close()


def test_the_exports_carry_the_booking_tables(site):
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(_get(site, "/reports/export.xlsx")))
    summary = {r[0]: r[1] for r in wb["Đặt lịch"].iter_rows(values_only=True) if r[0]}
    assert summary["Đến theo lịch hẹn / Came by a booking"] == 1
    assert summary["Tỷ lệ đã đặt lịch (%) / Share who booked (%)"] == 66.7
    rows = list(wb["Đặt lịch"].iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "sector")
    by_sector = {r[0]: dict(zip(header, r)) for r in rows[rows.index(header) + 1:] if r[0]}
    assert (by_sector["kinh-doanh"]["booked"], by_sector["kinh-doanh"]["remote"]) == (1, 1)
    assert by_sector["all"]["came"] == 2
    waits_header = next(r for r in rows if r[0] == "group")
    assert [r[0] for r in rows[rows.index(waits_header) + 1:rows.index(waits_header) + 4]] == [
        "walk_in", "booked", "remote"]
    slots = list(wb["Đặt lịch theo khung giờ"].iter_rows(values_only=True))
    assert slots[0][:4] == ("day", "slot", "sector", "booked") and slots[1][2:4] == ("kinh-doanh", 1)
    indicators = [r[0] for r in wb["Chỉ số 766"].iter_rows(values_only=True)]
    assert {"online_booking_share", "booking_kept", "booking_called_in_slot"} <= set(indicators)
    text = _get(site, "/reports/export.csv").decode("utf-8-sig")
    table = [r for r in csv.reader(io.StringIO(text)) if r and r[0].startswith("booking")]
    assert ["booking_sector", "kinh-doanh", "1", "1", "2"] == next(r for r in table if r[1] == "kinh-doanh")[:5]
    assert any(r[0] == "booking_slot" and r[3] == "kinh-doanh" for r in table)


def test_the_managers_day_shows_the_same_figures_per_sector(browser, site):
    """/bookings takes its per-sector figures, punctuality and waits from the report's (one source)."""
    page, errors = logged_in_page(browser, site, MANAGER, bypass_csp=True)   # axe needs eval
    page.goto(site.http_url + "/bookings")
    row = page.locator('#t-bk-sector tr[data-sector="kinh-doanh"] td')
    assert [row.nth(i).inner_text() for i in range(5)] == ["1", "1", "2", "0", "0"]   # booked, phone, came, late, no-show
    assert page.locator('#t-bk-sector tr[data-sector="all"] th').inner_text() == "Toàn trung tâm"
    assert page.inner_text("#bk-remote") == "Số lấy qua điện thoại: 1 số, 1 đã xác nhận tại ki-ốt, 0 hết hạn."
    assert page.inner_text("#f-punct").startswith("-") and page.inner_text("#f-ontime") == "100,0 %"
    punct = row.nth(8).inner_text()
    assert punct == page.inner_text("#f-punct")              # the centre's one booking: the same figure
    assert page.locator('#t-bk-waits tr[data-group="walk_in"] td').nth(0).inner_text() == "1"
    assert axe_check(page) == []
    assert errors == []
    page.context.close()
