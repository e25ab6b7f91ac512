"""The display's feed against a real mosquitto: retained board at start, calls, connection lost and back."""
from __future__ import annotations

import json

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from display.board_model import BoardView
from display.feed import attach_board
from protocol.client import DeviceClient
from protocol.topics import Topics
from tests.support.wait import until as wait_for

T = Topics("demo-district")
BOARD = {"v": 1, "type": "board", "ts": "2026-11-25T08:00:00+07:00", "seq": 7,
         "site": {"id": "demo-district", "name": {"vi": "Trung tâm mẫu", "en": "Sample centre"}},
         "counters": [{"id": "q5", "label": "Quầy 5", "label_en": "Counter 5", "status": "serving",
                       "sectors": ["tu-phap"], "serving": {"number": "A023", "sector": "tu-phap", "called_at": "x"}}],
         "recent_calls": [{"number": "A023", "counter": "q5", "counter_label": "Quầy 5", "at": "x"}],
         "sectors": [{"id": "tu-phap", "name": {"vi": "Tư pháp", "en": "Justice"}, "prefix": "A",
                      "waiting": 12, "est_wait_s": 840, "target_wait_s": 900}]}
CALL = {"v": 1, "type": "call", "ts": "2026-11-25T08:00:01+07:00", "number": "A024", "counter": "q5",
        "counter_label": "Quầy 5", "sector": "tu-phap", "recall": False,
        "announce": {"vi": "Mời công dân có số thứ tự A024 đến quầy số 5", "en": "..."}}


def server(url_port: int) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fake-server")
    c.connect("127.0.0.1", url_port)
    c.loop_start()
    return c


def test_retained_board_call_server_status_and_reconnect(mosquitto):
    srv = server(mosquitto.port)
    srv.publish(T.board, json.dumps(BOARD), qos=1, retain=True).wait_for_publish(2)
    srv.publish(T.server_status, json.dumps({"v": 1, "type": "server.status", "online": True}), qos=1,
                retain=True).wait_for_publish(2)
    view = BoardView()
    client = DeviceClient(mosquitto.url, "demo-district", "display", "d1")
    attach_board(client, view)
    assert client.start(5)
    try:
        # a display that (re)starts shows the truth at once: the retained board
        assert wait_for(lambda: view.board is not None)
        assert [t.number for t in view.tiles()] == ["A023"]
        assert not view.offline
        srv.publish(T.events_call, json.dumps(CALL), qos=1).wait_for_publish(2)
        assert wait_for(lambda: view.last_call is not None)
        assert view.call_banner()["vi"] == "Mời số A024 đến Quầy 5"

        # the server says it is gone (its last will): connection lost
        srv.publish(T.server_status, json.dumps({"v": 1, "type": "server.status", "online": False}), qos=1,
                    retain=True).wait_for_publish(2)
        assert wait_for(lambda: view.offline)
        assert view.status_line()["vi"].startswith("Mất kết nối")
        srv.publish(T.server_status, json.dumps({"v": 1, "type": "server.status", "online": True}), qos=1,
                    retain=True).wait_for_publish(2)
        assert wait_for(lambda: not view.offline)

        # the broker goes away: connection lost; it comes back: recovered without any help
        srv.loop_stop()
        mosquitto.stop()
        assert wait_for(lambda: view.offline, 5)
        mosquitto.start()
        assert wait_for(lambda: not view.offline, 10), "the display did not reconnect by itself"
    finally:
        client.stop()


def test_bad_payloads_never_break_the_display(mosquitto):
    srv = server(mosquitto.port)
    view = BoardView()
    client = DeviceClient(mosquitto.url, "demo-district", "display", "d1")
    attach_board(client, view)
    assert client.start(5)
    try:
        srv.publish(T.board, json.dumps(BOARD), qos=1, retain=True).wait_for_publish(2)  # retained: no race with SUBACK
        assert wait_for(lambda: view.board is not None)
        for junk in (b"not json", b"[]", b'{"type":"board"}', b"\xff\xfe", json.dumps({"number": 5}).encode()):
            srv.publish(T.board, junk, qos=1).wait_for_publish(2)
            srv.publish(T.events_call, junk, qos=1).wait_for_publish(2)
        srv.publish(T.events_call, json.dumps(CALL), qos=1).wait_for_publish(2)
        assert wait_for(lambda: view.last_call is not None)
        assert view.board.seq == 7          # the last good board stays
        assert view.tiles()[0].number == "A023"
    finally:
        client.stop()
        srv.loop_stop()
