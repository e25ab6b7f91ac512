"""The dashboard's what-if endpoints (queue_server/web/whatif_desk.py) on a whole real site: a
manager's proposed change, auto mode's moves as they happen, and the predictions of the day."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.site import RunningSite
from tests.support.wait import until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("whatif-site")) as s:
        yield s


def test_a_proposed_change_is_predicted_for_the_sectors_it_touches_and_kept(site):
    kiosk = site.device("kiosk", "k1")
    for _ in range(6):
        assert kiosk.request("ticket.issue", {"sector": "xay-dung"})["ok"]
    status, body = site.http_post("/dashboard/api/whatif", {"counter": "q5", "sectors": ["tra-ket-qua", "dat-dai", "xay-dung"]},
                                  site.api_token)
    assert status == 200, body
    w = body["whatif"]
    assert w["move"] == {"counter": "q5", "sectors": ["tra-ket-qua", "dat-dai", "xay-dung"]}
    assert w["previous"] == ["tra-ket-qua", "dat-dai"] and w["reps"] >= 1
    rows = {r["sector"]: r for r in w["sectors"]}
    assert set(rows) == {"tra-ket-qua", "dat-dai", "xay-dung"}
    # six waiting for permits: a third counter on them shortens their predicted wait
    assert rows["xay-dung"]["after_s"] < rows["xay-dung"]["before_s"]
    with site.service.lock:
        assert site.service.state.counters["q5"].sectors == ["tra-ket-qua", "dat-dai"]   # only predicted
    history = site.http_get("/dashboard/api/whatif/history", token=site.api_token)["predictions"]
    assert history[0]["id"] == w["id"] and history[0]["kind"] == "manager" and not history[0]["done"]
    assert not history[0]["applied"]
    # applied through the API: the prediction knows it
    status, _ = site.http_post("/api/v1/counters/q5/sectors", {"sectors": ["tra-ket-qua", "dat-dai", "xay-dung"]},
                               site.api_token)
    assert status == 200
    until(lambda: site.http_get("/dashboard/api/whatif/history", token=site.api_token)["predictions"][0]["applied"],
          timeout=10)


@pytest.mark.parametrize("body", [{"counter": "q99", "sectors": ["dat-dai"]}, {"counter": "q1", "sectors": []},
                                  {"counter": "q1", "sectors": ["no-such-sector"]}, {"counter": "q1"},
                                  {"counter": 5, "sectors": ["dat-dai"]}, ["q1"]])
def test_a_bad_proposal_is_a_clear_json_error(site, body):
    status, reply = site.http_post("/dashboard/api/whatif", body, site.api_token)
    assert status == 400 and reply["ok"] is False and reply["error"]["message_vi"]


def test_the_what_if_needs_a_manager(site):
    status, reply = site.http_post("/dashboard/api/whatif", {"counter": "q1", "sectors": ["dat-dai"]})
    assert status == 401 and reply["error"]["code"] == "unauthorized"


def test_auto_mode_s_move_gets_its_what_if_when_it_happens(site):
    kiosk = site.device("kiosk", "k1")
    assert kiosk.request("ticket.issue", {"sector": "ly-lich-tu-phap"})["ok"]
    # what auto mode would do if it looked now: nobody has waited 30 s yet, so nothing
    assert site.http_get("/dashboard/api/whatif/auto", token=site.api_token)["moves"] == []
    status, _ = site.http_post("/api/v1/site/auto", {"on": True}, site.api_token)
    assert status == 200
    real = site.service.clock
    # 45 s later (the service's clock, which it reads through itself): the ticket has waited past
    # the idle rule's 30 s, so auto mode gives idle q1 its trained judicial records
    site.service.clock = lambda: real() + timedelta(seconds=45)
    try:
        def auto_kept():
            h = site.http_get("/dashboard/api/whatif/history", token=site.api_token)["predictions"]
            return [p for p in h if p["kind"] == "auto" and p["move"]["counter"] == "q1"]
        until(auto_kept, timeout=15)
        p = auto_kept()[0]
        assert p["applied"] and p["by"] == "auto" and "ly-lich-tu-phap" in p["move"]["sectors"]
        assert p["previous"] == ["tu-phap-ho-tich", "tra-ket-qua"]
        assert {r["sector"] for r in p["sectors"]} >= {"ly-lich-tu-phap", "tu-phap-ho-tich", "tra-ket-qua"}
    finally:
        site.service.clock = real
        site.http_post("/api/v1/site/auto", {"on": False}, site.api_token)
