"""The 766 indicators' "numbers used": every indicator with a denominator has its numerator, and the
numbers give the value back by the formula (issue #14: mean service time showed " / 3", p90 " / 5")."""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from protocol.messages import dumps, parse_command
from queue_server.domain.core import Context, QueueCore, execute, fold_in
from queue_server.reports import build_report

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = "2026-03-02"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)


@pytest.fixture
def report(site_config):
    """Justice: A001 08:00 called 08:10 (wait 10), done 08:16 (6); A002 08:02 called 08:22 (20), done 08:30 (8);
    A003 08:05 called 08:33 (28), done 08:40 (7); A004 08:06 called 08:41 (35), no-show. Waits 10, 20, 28, 35:
    p90 is rank ceil(0.9 × 4) = 4, 35 min; services 6, 8, 7: mean 7 min from 21 min over 3."""
    core, events, n = QueueCore(site_config), [], [0]

    def run(device, minute, type_, **fields):
        kind = "kiosk" if device.startswith("k") else "counter"
        now = T0 + timedelta(minutes=minute)
        fold_in(core.state, core.rollover(now), "system/clock", out=events)
        n[0] += 1
        cmd = parse_command(kind, dumps({"v": 1, "type": type_, "req_id": f"r{n[0]}", **fields}))
        d = execute(core, kind, cmd, Context(now=now, device=device, token=f"t{n[0]}"), f"{kind}/{device}", out=events)
        assert d.error is None, d.error

    for minute in (0, 2, 5, 6):
        run("k1", minute, "ticket.issue", sector="tu-phap-ho-tich")
    run("q1", 10, "call.next"), run("q1", 16, "serve.done")
    run("q1", 22, "call.next"), run("q1", 30, "serve.done")
    run("q1", 33, "call.next"), run("q1", 40, "serve.done")
    run("q1", 41, "call.next"), run("q1", 42, "serve.no_show")
    return build_report(events, site_config, DAY, DAY)


def test_every_indicator_with_a_denominator_has_its_numerator(report):
    for ind in report.indicators:
        if ind["denominator"] is not None:
            assert ind["numerator"] is not None, ind["id"]


def test_mean_and_p90_figures_used(report):
    ind = {i["id"]: i for i in report.indicators}
    assert (ind["mean_service"]["numerator"], ind["mean_service"]["denominator"]) == (21.0, 3)
    assert ind["mean_service"]["value"] == pytest.approx(21.0 / 3)
    assert (ind["mean_wait"]["numerator"], ind["mean_wait"]["denominator"]) == (93.0, 4)
    assert ind["mean_wait"]["value"] == pytest.approx(round(93.0 / 4, 1))
    p90 = ind["p90_wait"]
    assert (p90["numerator"], p90["denominator"]) == (math.ceil(0.9 * 4), 4) == (4, 4)
    assert p90["value"] == 35.0
    assert "k / n" in p90["formula"]["en"] and "k / n" in p90["formula"]["vi"]


def test_an_empty_period_still_shows_both_numbers(site_config):
    r = build_report([], site_config, DAY, DAY)
    ind = {i["id"]: i for i in r.indicators}
    for name in ("mean_wait", "p90_wait", "mean_service"):
        assert ind[name]["value"] is None
        assert (ind[name]["numerator"], ind[name]["denominator"]) in ((0, 0), (0.0, 0)), name
