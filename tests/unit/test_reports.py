"""Reports from a known event sequence, produced by the real domain core with a fixed clock."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from protocol.messages import parse_command, dumps
from queue_server.domain.commands import CancelTicket
from queue_server.domain.core import Context, QueueCore, execute, fold_in
from queue_server.domain.events import Event
from queue_server.domain.stats import percentile_nearest_rank as percentile
from queue_server.reports import build_report
from queue_server.reports.export import to_csv, to_xlsx

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = "2026-03-02"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)


class Driver:
    """Runs commands through QueueCore and keeps the events with sequence numbers, like the service."""

    def __init__(self, config):
        self.core = QueueCore(config)
        self.events: list[Event] = []
        self.n = 0

    def run(self, kind, device, minutes, type_, **fields):
        now = T0 + timedelta(minutes=minutes)
        fold_in(self.core.state, self.core.rollover(now), "system/clock", out=self.events)
        if kind == "citizen":
            cmd = CancelTicket(**fields)
        else:
            self.n += 1
            cmd = parse_command(kind, dumps({"v": 1, "type": type_, "req_id": f"r{self.n}", **fields}))
        d = execute(self.core, kind, cmd, Context(now=now, device=device, token=f"tok{self.n}"),
                    f"{kind}/{device}", out=self.events)
        assert d.error is None, d.error
        return d.result


@pytest.fixture
def day(site_config):
    """A morning at the demo site, numbers chosen to check by hand.

    Justice (target 15 min): A001 at 8:00 called 8:10 by q1 (wait 10 min), done 8:16 (6 min), rated 4.
                             A002 at 8:02 called 8:22 by q2 (wait 20 min > target), done 8:30 (8 min), rated 2.
                             A003 at 8:05 called 8:30 by q1 (wait 25 min), no-show.
                             A004 at 8:06 cancelled at 8:07.
    Land (target 20 min):    C001 at 8:10 called 8:15 by q4 (wait 5 min), done 8:25 (10 min), outcome guided_online, rated 3.
    Kiosk guidance online: 2 (khai-sinh, ho-kinh-doanh).
    """
    d = Driver(site_config)
    d.run("kiosk", "k1", 0, "ticket.issue", sector="tu-phap-ho-tich", procedure="khai-sinh")
    d.run("kiosk", "k1", 2, "ticket.issue", sector="tu-phap-ho-tich", procedure="ket-hon")
    d.run("kiosk", "k1", 5, "ticket.issue", sector="tu-phap-ho-tich")
    a4 = d.run("kiosk", "k1", 6, "ticket.issue", sector="tu-phap-ho-tich")["ticket"]
    d.run("citizen", "web", 7, "", token=a4["token"])
    d.run("kiosk", "k2", 1, "guidance.online", procedure="khai-sinh")
    d.run("kiosk", "k2", 3, "guidance.online", procedure="ho-kinh-doanh")
    # q1 serves only justice + results; q4 land
    d.run("kiosk", "k1", 10, "ticket.issue", sector="dat-dai", procedure="dang-ky-bien-dong")
    t1 = d.run("counter", "q1", 10, "call.next")["ticket"]
    d.run("counter", "q4", 15, "call.next")
    d.run("counter", "q1", 16, "serve.done")
    d.run("counter", "q1", 17, "rating.submit", ticket_id=t1["id"], score=4)
    t2 = d.run("counter", "q2", 22, "call.next")["ticket"]
    d.run("counter", "q4", 25, "serve.done", outcome="guided_online")
    d.run("counter", "q4", 26, "rating.submit", ticket_id=f"{DAY.replace('-', '')}-C001", score=3)
    d.run("counter", "q2", 30, "serve.done")
    d.run("counter", "q2", 31, "rating.submit", ticket_id=t2["id"], score=2)
    d.run("counter", "q1", 30, "call.next")
    d.run("counter", "q1", 33, "serve.no_show")
    return d


def test_percentile_nearest_rank():
    assert percentile([], 90) is None
    assert percentile([5], 90) == 5
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile([10, 20, 25], 90) == 25


def test_sector_numbers_match_the_known_day(day, site_config):
    r = build_report(day.events, site_config, DAY, DAY)
    justice = next(x for x in r.by_sector if x.key == "tu-phap-ho-tich")
    assert (justice.tickets, justice.served, justice.no_show, justice.cancelled, justice.called) == (4, 2, 1, 1, 3)
    assert justice.mean_wait_s == pytest.approx((10 + 20 + 25) * 60 / 3)
    assert justice.p90_wait_s == pytest.approx(25 * 60)
    assert justice.within_target == 1 and justice.within_target_pct == pytest.approx(100 / 3)
    assert justice.mean_service_s == pytest.approx((6 + 8) * 60 / 2)
    assert justice.ratings == {4: 1, 3: 0, 2: 1, 1: 0}
    assert justice.satisfied_pct == pytest.approx(50.0)
    land = next(x for x in r.by_sector if x.key == "dat-dai")
    assert (land.tickets, land.served, land.mean_wait_s, land.within_target) == (1, 1, 300.0, 1)
    assert r.total.tickets == 5 and r.total.served == 3


def test_counter_procedure_and_hourly(day, site_config):
    r = build_report(day.events, site_config, DAY, DAY)
    q1 = next(x for x in r.by_counter if x.key == "q1")
    assert (q1.called, q1.served, q1.no_show) == (2, 1, 1)
    assert q1.mean_service_s == pytest.approx(360.0)
    khai_sinh = next(x for x in r.by_procedure if x.key == "khai-sinh")
    assert (khai_sinh.tickets, khai_sinh.served) == (1, 1)
    assert next(x for x in r.by_procedure if x.key == "-").tickets == 2
    hours = r.hourly["hours"]
    assert r.hourly["arrivals"]["tu-phap-ho-tich"][hours.index(8)] == 4
    assert r.hourly["arrivals"]["dat-dai"][hours.index(8)] == 1
    util = {u["counter"]: u for u in r.utilisation}
    assert util["q1"]["busy_s"] == pytest.approx(360.0)   # the no-show visit is not service time


def test_766_indicators_with_their_numbers(day, site_config):
    r = build_report(day.events, site_config, DAY, DAY)
    ind = {i["id"]: i for i in r.indicators}
    sat = ind["satisfaction"]
    assert (sat["numerator"], sat["denominator"], sat["value"]) == (2, 3, 66.7)
    assert "÷" in sat["formula"]["vi"] and sat["formula"]["en"]
    assert ind["very_satisfied"]["value"] == 33.3
    assert ind["rating_coverage"]["value"] == 100.0
    # 2 at the kiosk + 1 at a counter, against 2 handled in person
    online = ind["online_share"]
    assert (online["numerator"], online["denominator"], online["value"]) == (3, 5, 60.0)
    assert ind["in_person"]["value"] == 2
    assert (ind["wait_within_target"]["numerator"], ind["wait_within_target"]["denominator"]) == (2, 4)
    assert ind["mean_wait"]["value"] == pytest.approx(round((10 + 20 + 25 + 5) / 4, 1))
    assert ind["no_show_rate"]["value"] == 25.0


def test_period_filter_and_clerks(day, site_config):
    assert build_report(day.events, site_config, "2026-03-03", "2026-03-09").total.tickets == 0
    sessions = [SimpleNamespace(username="lan", counter="q1", started=(T0).isoformat(),
                                ended=(T0 + timedelta(minutes=20)).isoformat())]
    r = build_report(day.events, site_config, DAY, DAY, clerk_sessions=sessions)
    lan = next(x for x in r.by_clerk if x.key == "lan")
    assert (lan.called, lan.served) == (1, 1)          # the 8:30 no-show was after lan signed out
    assert next(x for x in r.by_clerk if x.key == "-").called == 3


def test_exports_read_back(day, site_config):
    from openpyxl import load_workbook
    r = build_report(day.events, site_config, DAY, DAY)
    text = to_csv(r).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    justice = next(x for x in rows if x[:2] == ["sector", "tu-phap-ho-tich"])
    assert justice[header.index("tickets")] == "4" and justice[2] == "Tư pháp – Hộ tịch"
    assert any(x[:2] == ["indicator_766", "satisfaction"] for x in rows)
    wb = load_workbook(io.BytesIO(to_xlsx(r)))
    ws = wb["Lĩnh vực"]
    head = [c.value for c in ws[1]]
    row = next(r_ for r_ in ws.iter_rows(values_only=True) if r_[0] == "tu-phap-ho-tich")
    assert row[head.index("served")] == 2
    assert "Chỉ số 766" in wb.sheetnames


def test_garbage_events_are_ignored(site_config):
    events = [Event(1, "ticket.called", T0.isoformat(), {"ticket_id": "nope", "counter": "q1"}),
              Event(2, "something.else", T0.isoformat(), {})]
    r = build_report(events, site_config, DAY, DAY)
    assert r.total.tickets == 0 and r.indicators[0]["value"] is None
