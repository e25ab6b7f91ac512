"""Every message a real site publishes during a scripted day is valid against its model in
protocol/messages.py, and declares no field the model does not (protocol.messages.check): the
models are the contract the server builds through and the devices parse through."""
from __future__ import annotations

import json

import pytest

from protocol import guidance
from protocol import messages as m
from protocol.topics import Topics
from tests.support.mqtt_peer import Peer
from tests.support.site import RunningSite

A, B = "tu-phap-ho-tich", "ly-lich-tu-phap"


def model_of(topics: Topics, topic: str) -> type | None:
    """The model of a server output topic; None for the devices' own topics (commands, statuses)."""
    exact = {topics.board: m.Board, topics.events_call: m.Call, topics.events_log: m.LogEvent,
             topics.server_status: m.ServerStatus}
    if topic in exact:
        return exact[topic]
    if topic.endswith("/reply"):
        return m.Reply
    if topic.endswith("/state") and "/counter/" in topic:
        return m.CounterState
    if topic.endswith("/stats") and "/sector/" in topic:
        return m.SectorStats
    return None


def test_every_message_of_a_scripted_day_matches_its_model(tmp_path):
    with RunningSite(tmp_path) as site:
        topics = Topics(site.site.id)
        user, password = site.creds["server"]["username"], site.creds["server"]["password"]   # reads every topic
        everything = Peer(site.mqtt_port, user, password, topics=[topics.everything])
        kiosk, q2, q3 = site.device("kiosk", "k1"), site.device("counter", "q2"), site.device("counter", "q3")

        issued = [kiosk.request("ticket.issue", {"sector": s, "lang": "vi"}) for s in (A, A, B, B)]
        assert all(r["ok"] for r in issued)
        assert kiosk.request("ticket.issue", {"sector": "no-such"})["ok"] is False
        guide = kiosk.request("guidance.online", {"procedure": "khai-sinh", "lang": "en"})["result"]["guidance"]
        # the steps written once (protocol.guidance), the same the kiosk shows when the server is silent
        assert guide["steps"] == guidance.steps(guide["portal_url"], guide["procedure_name"]["en"], guide["online"], "en")
        guide = kiosk.request("guidance.online", {"procedure": "khai-sinh", "lang": "vi"})["result"]["guidance"]
        assert guide["steps"][0].startswith("Mở trang ") and guide["procedure_name"]["vi"] in guide["steps"][2]
        first = q2.request("call.next")["result"]["ticket"]
        q2.request("call.recall")
        q2.request("serve.done", {"outcome": "completed"})
        q2.request("rating.submit", {"ticket_id": first["id"], "score": 4})
        q2.request("call.next")
        q2.request("serve.transfer", {"to_sector": B, "note": "hồ sơ đất"})
        q3.request("call.next")
        q3.request("serve.no_show")
        q3.request("counter.pause")
        q3.request("counter.open")
        q3.request("call.number", {"number": "Z999"})     # an error reply
        site.http_post("/api/v1/site/auto", {"on": False}, token=site.api_token)
        last = q3.request("counter.close")
        assert last["ok"]
        # the reply goes out after the state it caused: once it is here, so is every message before it
        everything.wait_for(lambda msg: isinstance(msg.data, dict) and msg.data.get("req_id") == last["req_id"])

        checked: dict[str, int] = {}
        with everything.cond:
            got = list(everything.got)
        for topic, raw in got:
            model = model_of(topics, topic)
            if model is None or not raw:
                continue
            m.check(model, json.loads(raw))
            checked[model.__name__] = checked.get(model.__name__, 0) + 1
        everything.close()
    assert set(checked) >= {"Board", "Call", "LogEvent", "ServerStatus", "Reply", "CounterState", "SectorStats"}, checked


def test_a_refused_payload_is_none_for_the_client():
    assert m.parse(m.Board, b"[[[") is None
    assert m.parse(m.Board, {"v": 1, "type": "board"}) is None
    assert m.parse(m.Call, b'{"v":1,"type":"call","ts":"t","number":7}') is None


def test_a_build_refuses_a_field_its_model_does_not_declare():
    with pytest.raises(TypeError):
        m.SectorStats.build(ts="t", sector="a", waiting=0, shown_wait_s=0, served_today=0, waiting_room=3)


def test_an_older_servers_deprecated_wait_still_reads():
    stats = m.parse(m.SectorStats, {"v": 1, "type": "sector.stats", "ts": "t", "sector": "a", "waiting": 2,
                                    "est_wait_s": 600, "served_today": 0})
    assert stats is not None and stats.shown_wait_s == 600


def test_a_capped_procedures_next_booking_round_trips_through_the_stats_model(tmp_path):
    from datetime import datetime

    from queue_server.config import load_site
    from queue_server.domain import views
    from queue_server.domain.state import SiteState
    from tests.support.kiosk_fakes import DEMO
    from tests.support.open_site import open_now
    site = load_site(open_now(DEMO, tmp_path, daily_caps={"phieu-lltp-1": 1, "phieu-lltp-2": 50}))
    now = datetime(2026, 12, 2, 7, 0, tzinfo=site.site.tz)          # before opening: today's slots are free
    built = views.sector_stats(SiteState.initial(site), site, B, now)
    start = built["procedures_next_booking"]["phieu-lltp-1"]
    # only the procedure near its cap (lltp-2 has more left than a visit can ask for)
    assert set(built["procedures_next_booking"]) == {"phieu-lltp-1"}
    assert datetime.fromisoformat(start).date() == now.date() and datetime.fromisoformat(start) > now
    m.check(m.SectorStats, json.loads(json.dumps(built)))
    back = m.parse(m.SectorStats, json.dumps(built).encode())
    assert back is not None and back.procedures_next_booking == {"phieu-lltp-1": start}
    assert "procedures_next_booking" not in views.sector_stats(SiteState.initial(site), site, A, now)   # no cap
    older = m.parse(m.SectorStats, {"v": 1, "type": "sector.stats", "ts": "t", "sector": "a", "waiting": 2,
                                    "shown_wait_s": 600, "served_today": 0})
    assert older is not None and older.procedures_next_booking is None
