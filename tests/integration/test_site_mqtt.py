"""The MQTT contract of docs/protocol.md answered by the real server through a real mosquitto (with ACL)."""
from __future__ import annotations

import json

import pytest

from protocol.topics import Topics
from tests.support.mqtt_peer import Peer
from tests.support.site import RunningSite

A, B = "tu-phap-ho-tich", "ly-lich-tu-phap"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("site")) as s:
        yield s


def test_ticket_issue_reply_has_every_contract_field(site):
    kiosk = site.device("kiosk", "k1")
    reply = kiosk.request("ticket.issue", {"sector": A, "procedure": "khai-sinh", "priority": "normal", "lang": "vi"})
    assert reply["v"] == 1 and reply["type"] == "reply" and reply["ok"] is True
    t = reply["result"]["ticket"]
    for field in ("id", "number", "sector", "procedure", "priority", "issued_at", "position", "est_wait_s", "track_url"):
        assert field in t, field
    assert t["number"][0] == "A" and len(t["number"]) == 4 and t["sector"] == A
    assert t["track_url"].startswith(site.http_url + "/t/") and t["number"] not in t["track_url"]
    assert reply["ts"][-6] in "+-"  # ISO-8601 with offset


def test_a_device_listening_to_its_own_reply_topic_keeps_request_replies(site):
    """A second handler on the reply topic (a kiosk logging every reply, say) is added beside
    request()'s own, not put in its place: both see the reply and request() still returns it."""
    kiosk = site.device("kiosk", "k2", client_id="k2-listening")
    seen: list[dict] = []
    kiosk.subscribe(kiosk.topics.reply("kiosk", "k2"), lambda t, p: seen.append(json.loads(p)))
    reply = kiosk.request("ticket.issue", {"sector": A}, timeout=5)
    assert reply["ok"]
    assert [r["req_id"] for r in seen] == [reply["req_id"]]


def test_two_counters_call_and_the_retained_board_shows_them(site):
    kiosk = site.device("kiosk", "k2")
    numbers = [kiosk.request("ticket.issue", {"sector": B})["result"]["ticket"]["number"] for _ in range(2)]
    calls = Peer.device(site, "display", "d1", [Topics(site.site.id).events_call])
    q2, q3 = site.device("counter", "q2"), site.device("counter", "q3")
    got = [q2.request("call.next")["result"]["ticket"]["number"], q3.request("call.next")["result"]["ticket"]["number"]]
    assert len(set(got)) == 2 and set(numbers) & set(got)
    call = calls.wait_for(lambda m: m[1]["number"] == got[0])[1]
    assert call["type"] == "call" and call["counter"] == "q2" and call["counter_label"] == "Quầy 2"
    assert call["recall"] is False and call["announce"]["vi"] == f"Mời công dân có số thứ tự {got[0]} đến quầy số 2"
    calls.close()
    # A display that connects now gets the whole board at once (retained); the newest board may
    # follow live within BOARD_WINDOW_S if the last call was within the window.
    display = Peer.device(site, "display", "d1", [Topics(site.site.id).board])
    board = display.wait_for(lambda m: any(c["serving"] and c["serving"]["number"] == got[1]
                                           for c in m[1]["counters"]))[1]
    assert display.messages[0][2], "the first board a new display gets is the retained one"
    display.close()
    assert board["type"] == "board" and board["seq"] >= 1
    serving = {c["id"]: c["serving"]["number"] for c in board["counters"] if c["serving"]}
    assert serving["q2"] == got[0] and serving["q3"] == got[1]
    q2c = next(c for c in board["counters"] if c["id"] == "q2")
    assert q2c["status"] == "serving" and q2c["label"] == "Quầy 2" and q2c["sectors"] == [A, B]
    assert {"number", "counter", "counter_label", "at"} <= set(board["recent_calls"][0])
    sec = next(s for s in board["sectors"] if s["id"] == B)
    assert sec["name"] == {"vi": "Lý lịch tư pháp", "en": "Judicial record certificate"} and sec["prefix"] == "B"
    assert {"waiting", "est_wait_s"} <= set(sec)


def test_recall_is_a_new_call_and_counter_state_is_retained(site):
    kiosk = site.device("kiosk", "k1")
    kiosk.request("ticket.issue", {"sector": "dat-dai"})
    q4 = site.device("counter", "q4")
    number = q4.request("call.next")["result"]["ticket"]["number"]
    calls = Peer.device(site, "counter", "q4", [Topics(site.site.id).events_call, Topics(site.site.id).counter_state("q4")])
    assert q4.request("call.recall")["ok"]
    call = calls.wait_for(lambda m: m[0].endswith("events/call") and m[1]["recall"])[1]
    assert call["number"] == number
    state = calls.wait_for(lambda m: m[0].endswith("/state") and m[1]["serving"])[1]
    assert state["serving"]["number"] == number and state["status"] == "serving"
    calls.close()
    done = q4.request("serve.done", {"outcome": "received_dossier"})
    assert done["ok"] and done["result"]["ticket"]["status"] == "served"
    tid = done["result"]["ticket"]["id"]
    assert q4.request("rating.submit", {"ticket_id": tid, "score": 4})["ok"]
    again = q4.request("rating.submit", {"ticket_id": tid, "score": 1})
    assert again["ok"] is False and again["error"]["code"] == "not_allowed"


def test_sector_stats_are_retained(site):
    site.device("kiosk", "k2").request("ticket.issue", {"sector": "kinh-doanh"})
    sub = Peer.device(site, "kiosk", "k2", [Topics(site.site.id).sector_stats("kinh-doanh")])
    stats = sub.wait_for(lambda m: m[2] and m[1]["waiting"] >= 1)[1]
    sub.close()
    assert stats["sector"] == "kinh-doanh" and stats["waiting"] >= 1 and "est_wait_s" in stats and "served_today" in stats


def test_repeated_req_id_returns_the_same_reply_and_changes_nothing(site):
    kiosk = site.device("kiosk", "k1")
    first = kiosk.request("ticket.issue", {"sector": "xay-dung"}, req_id="same-request-1")
    seq = site.service.state.last_seq
    second = kiosk.request("ticket.issue", {"sector": "xay-dung"}, req_id="same-request-1")
    assert second == first
    assert site.service.state.last_seq == seq


@pytest.mark.parametrize("payload, code", [
    (b"this is not json", "bad_request"),
    (b'{"v":1,"type":"ticket.issue","req_id":"x1"}', "bad_request"),
    (b'{"v":1,"type":"teleport","req_id":"x2"}', "bad_request"),
    (b'{"v":1,"type":"ticket.issue","req_id":"x3","sector":"no-such-sector"}', "unknown_sector"),
    (b'{"v":1,"type":"ticket.issue","req_id":"x4","sector":"dat-dai","procedure":"khai-sinh"}', "unknown_procedure"),
    (json.dumps({"v": 1, "type": "ticket.issue", "req_id": "x5", "sector": "dat-dai", "pad": "x" * 20000}).encode(),
     "too_large"),
])
def test_bad_input_gets_the_contract_error_and_the_server_keeps_running(site, payload, code):
    t = Topics(site.site.id)
    sub = Peer.device(site, "kiosk", "k2", [t.kiosk_reply("k2")])     # subscribed (SUBACK) before the command
    sub.pub(t.kiosk_cmd("k2"), payload)
    reply = sub.wait_for(lambda m: m[1].get("ok") is False and m[1]["error"]["code"] == code)[1]
    assert reply["type"] == "reply" and reply["error"]["message"]
    sub.close()
    assert site.device("kiosk", "k2").request("ticket.issue", {"sector": A})["ok"]


def test_unregistered_device_is_refused_by_the_server(site):
    reply = site.service.execute("kiosk", "k99", b'{"v":1,"type":"ticket.issue","req_id":"z","sector":"dat-dai"}')
    assert reply["ok"] is False and reply["error"]["code"] == "not_allowed"


def test_server_status_is_retained_with_a_last_will(tmp_path):
    with RunningSite(tmp_path) as s:
        sub = Peer.device(s, "display", "d1", [Topics(s.site.id).server_status])
        assert sub.wait_for(lambda m: m[1]["online"] is True)[1]["type"] == "server.status"
        s.stop_server()
        sub.wait_for(lambda m: m[1]["online"] is False)
        sub.close()


def test_http_catalogue_board_and_rebalancing(site):
    cat = site.http_get("/api/v1/catalogue")
    assert cat["site"]["id"] == "demo-district" and len(cat["sectors"]) == 7
    proc = cat["sectors"][0]["procedures"][0]
    assert {"id", "name", "fee_vnd", "days", "online", "documents"} <= set(proc)
    assert site.http_get("/api/v1/board")["type"] == "board"
    status, body = site.http_post("/api/v1/counters/q8/sectors", {"sectors": ["kinh-doanh"]})
    assert status == 401
    status, body = site.http_post("/api/v1/counters/q8/sectors", {"sectors": ["kinh-doanh"]}, token=site.api_token)
    assert status == 200 and body["result"]["counter"]["sectors"] == ["kinh-doanh"]
    site.device("kiosk", "k1").request("ticket.issue", {"sector": "kinh-doanh"})
    q8 = site.device("counter", "q8")
    assert q8.request("call.next")["result"]["ticket"]["sector"] == "kinh-doanh"
