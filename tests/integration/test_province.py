"""The province consumer against a real mosquitto and a real PostgreSQL."""
from __future__ import annotations

import json

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from province.consumer import ProvinceService, parse_event
from province.store import Store
from province.web import create_app
from protocol import messages as m
from protocol.topics import ProvinceTopics, Topics
from tests.support.postgres import pg_url  # noqa: F401  (fixture)
from tests.support.province import CONFIG, DAY, board, day_events, event
from tests.support.wait import until


class Pub:
    def __init__(self, port: int):
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fake-servers")
        self.got: list[tuple[str, dict]] = []
        self.c.on_message = lambda c, u, m: self.got.append((m.topic, json.loads(m.payload)))
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def send(self, topic: str, payloads: list[str], retain: bool = False) -> None:
        infos = [self.c.publish(topic, p, qos=1, retain=retain) for p in payloads]
        for i in infos:
            i.wait_for_publish(5)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def test_parse_event_refuses_bad_messages():
    t = Topics("site-a").events_log
    assert parse_event(t, b"{").endswith("not JSON")
    assert "envelope" in parse_event(t, b'{"v":2}')
    assert "seq" in parse_event(t, json.dumps({"v": 1, "type": "event", "seq": 0, "event": "x",
                                               "ts": DAY.isoformat()}).encode())
    assert "offset" in parse_event(t, json.dumps({"v": 1, "type": "event", "seq": 1, "event": "x",
                                                  "ts": "2026-11-24T07:30:00"}).encode())
    assert "site" in parse_event(t, event("site-b", 1, "x", DAY, {}).encode())
    row = parse_event(t, event("site-a", 7, "ticket.issued", DAY, {"a": 1}).encode())
    assert (row.site, row.seq, row.type) == ("site-a", 7, "ticket.issued")


def test_events_into_postgres_idempotent_and_restartable(mosquitto, pg_url):
    svc = ProvinceService(mosquitto.url, pg_url, CONFIG, publish_advice=False).start()
    pub = Pub(mosquitto.port)
    try:
        assert svc.connected.wait(5)
        a, b = Topics("site-a").events_log, Topics("site-b").events_log
        evs_a = day_events("site-a", 20)          # 60 events
        pub.send(a, evs_a)
        pub.send(a, evs_a[:10])                   # redelivered: must not double
        pub.send(b, day_events("site-b", 5))      # 15 events
        pub.send(a, ["not json", json.dumps({"v": 1, "type": "event", "seq": -1})])
        assert until(lambda: svc.counters.received >= 87, timeout=10)
        store = Store(pg_url)
        assert store.count() == 75
        assert [s for s, _ in store.events("site-a")] == list(range(1, 61))
        assert svc.counters.duplicates == 10 and svc.counters.rejected == 2

        # the consumer goes away; the province broker keeps its session; it comes back and catches up
        svc.stop()
        pub.send(a, day_events("site-a", 10, start_seq=61))
        svc = ProvinceService(mosquitto.url, pg_url, CONFIG, publish_advice=False).start()
        assert until(lambda: store.count() == 105, timeout=15)
        assert [s for s, _ in store.events("site-a")] == list(range(1, 91))
        sites = {s["site"]: s for s in store.sites()}
        assert sites["site-a"]["missing"] == 0 and sites["site-a"]["last_seq"] == 90

        hours = store.day(DAY.date(), "Asia/Ho_Chi_Minh")
        h7 = next(h for h in hours if h["site"] == "site-a" and h["hour"] == 7)
        assert h7["issued"] == 30 and h7["mean_wait_s"] == pytest.approx(600)
        store.close()
    finally:
        pub.close()
        svc.stop()


def test_boards_dashboard_and_nearby_advice(mosquitto, pg_url):
    svc = ProvinceService(mosquitto.url, pg_url, CONFIG).start()
    pub = Pub(mosquitto.port)
    P = ProvinceTopics()
    try:
        assert svc.connected.wait(5)
        pub.c.subscribe(P.root + "/nearby/#", 1)
        pub.send(Topics("site-a").events_log, day_events("site-a", 3))
        pub.send(Topics("site-a").board, [board("site-a", "A", 14, 2400)], retain=True)
        pub.send(Topics("site-b").board, [board("site-b", "B", 2, 300)], retain=True)
        pub.send(Topics("site-far").board, [board("site-far", "Xa", 0, 0)], retain=True)
        stats = json.dumps({"v": 1, "type": "sector.stats", "ts": DAY.isoformat(), "sector": "dat-dai",
                            "waiting": 15, "est_wait_s": 2500, "served_today": 9})
        pub.send(Topics("site-a").sector_stats("dat-dai"), [stats])

        def advice_for_a():
            return [p for t, p in pub.got if t == P.nearby("site-a", "dat-dai") and p["nearby"]]
        assert until(advice_for_a, timeout=5)
        adv = advice_for_a()[-1]
        assert adv["own"] == {"waiting": 15, "shown_wait_s": 2500, "est_wait_s": 2500}
        assert m.check(m.ProvinceNearby, adv)   # built through its model
        assert [o["site"] for o in adv["nearby"]] == ["site-b"]          # site-far is 140 km away
        near = adv["nearby"][0]
        assert near["name"]["vi"] == "Trung tâm B" and near["address"]["en"] == "12 Le Loi St"
        assert 0 < near["distance_km"] < 5
        assert adv["title"] == {"vi": "Điểm tiếp nhận gần đây chờ ít hơn", "en": "Nearby centres with shorter waits"}
        # site-b has the shortest wait: its advice is an empty list (nothing shorter nearby)
        assert until(lambda: any(t == P.nearby("site-b", "dat-dai") and p["nearby"] == []
                                 for t, p in pub.got), timeout=10)

        store = Store(pg_url)
        assert until(lambda: svc.idle() and store.count() == 9, timeout=10)
        store.close()
        app = create_app({"DB_URL": pg_url, "PROVINCE": CONFIG, "SERVICE": svc})
        client = app.test_client()
        html = client.get("/?day=2026-11-24").get_data(as_text=True)
        assert "Thời gian chờ toàn tỉnh" in html and "Province waiting times" in html
        assert "Trung tâm B" in html and "Đất đai" in html
        now = client.get("/api/v1/province/now").get_json()["sectors"]
        a = next(r for r in now if r["site"] == "site-a")
        assert (a["waiting"], a["est_wait_s"], a["served_today"]) == (15, 2500, 9)
        day = client.get("/api/v1/province/day?day=2026-11-24").get_json()
        assert day["hours"][0]["issued"] == 3
        sites = client.get("/api/v1/province/sites").get_json()
        assert sites["sites"][0]["events"] == 9 and sites["consumer"]["connected"] is True
        bad = client.get("/?day=yesterday")
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_json()["error"]["message"]["vi"]
    finally:
        pub.close()
        svc.stop()


def test_cli_refuses_bad_arguments(tmp_path, capsys):
    import argparse
    from motcua.commands import province as province_cli
    parser = argparse.ArgumentParser()
    province_cli.add_arguments(parser)
    bad = tmp_path / "province.yaml"
    bad.write_text("sites:\n  - {id: a, lat: 200, lon: 1}\n")
    assert province_cli.run(parser.parse_args(["--broker", "mqtt://127.0.0.1:1", "--db", "postgresql://x/y",
                                               "--config", str(bad)])) == 2
    assert "sites[0].lat" in capsys.readouterr().err
    assert province_cli.run(parser.parse_args(["--broker", "mqtt://127.0.0.1:1", "--db", "sqlite:///x"])) == 2


def test_cli_runs_consumer_and_dashboard(mosquitto, pg_url, tmp_path):
    """`motcua province` as a process: stores events, serves the dashboard, stops on SIGTERM."""
    import signal
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from tests.support.broker import free_port, wait_port
    root = Path(__file__).resolve().parents[2]
    http = free_port()
    conf = tmp_path / "province.yaml"
    conf.write_text("name: {vi: Tỉnh mẫu, en: Sample province}\nsites:\n  - {id: site-a, lat: 10.8, lon: 106.7}\n",
                    encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "province", "--broker", mosquitto.url, "--db", pg_url,
                             "--config", str(conf), "--http", f"127.0.0.1:{http}"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    pub = Pub(mosquitto.port)
    try:
        wait_port(http, 15)
        pub.send(Topics("site-a").events_log, day_events("site-a", 2))
        store = Store(pg_url)
        assert until(lambda: store.count() == 6, timeout=10)
        store.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/?day=2026-11-24", timeout=5) as r:
            html = r.read().decode()
        assert "Tỉnh mẫu" in html and "Nhật ký sự kiện theo điểm" in html
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/api/v1/province/sites", timeout=5) as r:
            assert json.loads(r.read())["sites"][0]["events"] == 6
    finally:
        pub.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
