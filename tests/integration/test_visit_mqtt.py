"""A visit of two procedures passed between two counters over MQTT (issue #18), the contract alone:
the real server and a real mosquitto with ACL, devices as plain protocol clients (docs/protocol.md,
"Visits, breaks..."). The keypad and terminal side of the same journey: test_counter_visit.py."""
from __future__ import annotations

import pytest

from protocol.topics import Topics
from tests.support.mqtt_peer import Peer
from tests.support.site import RunningSite

RECORDS, LAND = "ly-lich-tu-phap", "dat-dai"     # q3 serves records, q4 land


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("site")) as s:
        yield s


def test_a_visit_keeps_its_place_in_the_second_queue_and_says_where_it_stands(site):
    topics = Topics(site.site.id)
    watch = Peer.device(site, "display", "d1", [topics.events_call, topics.board])
    kiosk = site.device("kiosk", "k1")
    # more land tickets than land counters (q4, q5): land has a wait, records none
    before = [kiosk.request("ticket.issue", {"sector": LAND})["result"]["ticket"]["number"] for _ in range(3)]
    reply = kiosk.request("ticket.issue", {"procedures": [{"sector": LAND}, {"sector": RECORDS}]})
    assert reply["ok"], reply
    t = reply["result"]["ticket"]
    # records first; one number for both
    assert t["sector"] == RECORDS and t["number"].startswith("B")
    assert [p["sector"] for p in t["visit"]["procedures"]] == [RECORDS, LAND]
    assert (t["visit"]["step"], t["visit"]["steps"]) == (1, 2) and t["visit"]["end_s"] >= t["printed_wait_s"]
    later_land = kiosk.request("ticket.issue", {"sector": LAND})["result"]["ticket"]["number"]

    q3, q4 = site.device("counter", "q3"), site.device("counter", "q4")
    assert q3.request("call.next")["result"]["ticket"]["number"] == t["number"]
    done = q3.request("serve.done")["result"]["ticket"]
    assert done["status"] == "waiting" and done["sector"] == LAND and done["visit"]["step"] == 2
    for number in before:
        assert q4.request("call.next")["result"]["ticket"]["number"] == number
        q4.request("serve.done")
    # ahead of the land ticket printed after it: the place its ticket gave it
    assert q4.request("call.next")["result"]["ticket"]["number"] == t["number"]

    call = watch.wait_for(lambda m: m[0] == topics.events_call and m[1]["number"] == t["number"]
                          and m[1]["counter"] == "q4")[1]
    assert (call["step"], call["steps"], call["sector"]) == (2, 2, LAND)
    # the call's words say where the visit stands, as the board and the voice do
    assert call["announce"]["vi"].endswith(", thủ tục 2 trên 2, Đất đai")
    assert call["announce"]["en"].startswith(f"Ticket number {t['number']}") and ", procedure 2 of 2, " in call["announce"]["en"]
    board = watch.wait_for(lambda m: m[0] == topics.board and any(
        c["id"] == "q4" and c["serving"] and c["serving"]["number"] == t["number"] for c in m[1]["counters"]))[1]
    q4c = next(c for c in board["counters"] if c["id"] == "q4")
    assert (q4c["serving"]["step"], q4c["serving"]["steps"]) == (2, 2)
    assert board["recent_calls"][0]["step"] == 2
    watch.close()
    tracked = site.http_get(f"/api/v1/tickets/{t['token']}")["ticket"]
    assert tracked["status"] == "called" and tracked["visit"]["step"] == 2
    assert [p["status"] for p in tracked["visit"]["procedures"]] == ["done", "current"]

    q4.request("serve.done")
    assert q4.request("call.next")["result"]["ticket"]["number"] == later_land


def test_a_break_with_a_reason_reaches_the_counter_state(site):
    q5 = site.device("counter", "q5")
    state_topic = Topics(site.site.id).counter_state("q5")
    watch = Peer.device(site, "counter", "q5", [state_topic])
    r = q5.request("counter.pause", {"reason": "meeting"})
    assert r["ok"] and r["result"]["counter"]["break_reason"] == "meeting"
    state = watch.wait_for(lambda m: m[1].get("status") == "paused")[1]
    assert state["break_reason"] == "meeting"
    bad = q5.request("counter.pause", {"reason": "nap"})
    assert not bad["ok"] and bad["error"]["code"] == "bad_request"
    assert q5.request("counter.open")["result"]["counter"] == {"id": "q5", "status": "open",
                                                               "sectors": ["tra-ket-qua", "dat-dai"]}
    watch.close()
