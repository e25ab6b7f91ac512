"""Device status, one model (protocol.messages.DeviceStatus): what the devices build, what the server
parses, and the dashboard's alert rule over the whole class of printer states (issue #14)."""
from __future__ import annotations

import json

import jsonschema
import pytest

from kiosk import printing
from protocol.client import DeviceClient
from protocol.messages import PRINTER_STATES, DeviceStatus, ProtocolError, dumps, parse_device_status
from protocol.schema import all_schemas
from queue_server.web.dashboard_bp import ALERT_TEXTS, alert_text, device_alerts
from queue_server.web.pages import T

KIOSK_PRINTER_WORDS = {printing.OK, printing.PAPER_OUT, printing.COVER_OPEN, printing.OFFLINE}


def status(**fields) -> DeviceStatus:
    return DeviceStatus(kind="kiosk", id="k1", online=True, **fields)


def test_every_word_the_kiosk_printer_can_report_is_a_printer_state_of_the_model():
    assert KIOSK_PRINTER_WORDS <= set(PRINTER_STATES)


@pytest.mark.parametrize("state", [s for s in PRINTER_STATES if s != "ok"])
def test_every_printer_state_but_ok_raises_an_alert_worded_in_both_languages(state):
    alerts = device_alerts({("kiosk", "k1"): status(printer=state)})
    assert [a["kind"] for a in alerts] == [f"printer_{state}"]
    vi, en = alert_text(alerts[0], "vi"), alert_text(alerts[0], "en")
    assert "kiosk k1" in vi and "kiosk k1" in en and vi != en    # translated, not the English msgid


def test_ok_printer_raises_nothing_and_paper_low_raises_its_own_alert():
    assert device_alerts({("kiosk", "k1"): status(printer="ok")}) == []
    low = device_alerts({("kiosk", "k1"): status(printer="ok", paper_low=True)})
    assert [a["kind"] for a in low] == ["paper_low"]
    assert alert_text(low[0], "vi") == "kiosk k1: máy in sắp hết giấy"
    # paper out says it all: no second "low" line
    out = device_alerts({("kiosk", "k1"): status(printer="paper_out", paper_low=True)})
    assert [a["kind"] for a in out] == ["printer_paper_out"]


def test_offline_and_help_alerts():
    alerts = device_alerts({("counter", "q1"): DeviceStatus(kind="counter", id="q1", online=False),
                            ("kiosk", "k2"): status(help_requested=True, help_requested_at="2026-11-25T08:00:00+07:00")})
    assert [(a["kind"], a["device"]) for a in alerts] == [("offline", "q1"), ("help", "k2")]


def test_a_kiosk_without_its_id_card_key_is_an_alert_where_the_site_takes_bookings():
    devices = {("kiosk", "k1"): status(id_key_missing=True)}
    alerts = device_alerts(devices)
    assert [a["kind"] for a in alerts] == ["id_key_missing"]
    assert alert_text(alerts[0], "vi").startswith("kiosk k1: chưa xác nhận lịch hẹn bằng căn cước được")
    # a site without bookings gives its kiosks no key: nothing to act on
    assert device_alerts(devices, bookings=False) == []


def test_every_alert_text_is_in_the_catalogue_with_its_placeholder():
    for kind, msgid in ALERT_TEXTS.items():
        assert T.missing([msgid]) == [], kind
        assert "{device}" in T(msgid, "vi")


def test_the_kiosks_own_client_builds_its_status_through_the_model():
    c = DeviceClient("mqtt://127.0.0.1:1", "demo-district", "kiosk", "k1",
                     status_extra={"printer": "ok", "help_requested": False})
    c.set_status(printer="cover_open", printer_detail="cover open", paper_low=True)
    payload = json.loads(dumps(c._status_payload(online=True)))
    parsed = parse_device_status("kiosk", "k1", dumps(payload))
    assert parsed.printer == "cover_open" and parsed.paper_low and parsed.online
    jsonschema.validate(payload, all_schemas()["device.status"])
    with pytest.raises(ValueError):
        c.set_status(prnter="ok")                 # a misspelt field is refused on the device
    with pytest.raises(ValueError):
        c.set_status(paper_low="yes")
    assert DeviceClient("mqtt://127.0.0.1:1", "demo-district", "display", "d1").status is None


def test_old_payloads_are_still_read():
    # a kiosk from before the model: no ts, help_requested_at null, a field the model does not know
    old = {"v": 1, "type": "device.status", "kind": "kiosk", "id": "k1", "online": True, "printer": "ok",
           "help_requested": False, "help_requested_at": None, "firmware": "0.9"}
    st = parse_device_status("kiosk", "k1", json.dumps(old))
    assert st.printer == "ok" and not st.paper_low and st.ts is None
    # a word this contract does not know is still trouble a manager hears about
    odd = parse_device_status("kiosk", "k1", json.dumps({**old, "printer": "jammed"}))
    assert odd.printer == "error"
    assert [a["kind"] for a in device_alerts({("kiosk", "k1"): odd})] == ["printer_error"]


def test_the_topic_names_the_device_not_the_payload():
    st = parse_device_status("kiosk", "k3", json.dumps({"v": 1, "kind": "counter", "id": "q1", "online": True}))
    assert (st.kind, st.id) == ("kiosk", "k3")


@pytest.mark.parametrize("payload", [b"not json", b"[1]", b'{"online": "no"}', b'{"online": true, "printer": 3}',
                                     b'{"online": true, "paper_low": 1}', b"[" * 100_000, b"{}"])
def test_a_bad_status_is_a_protocol_error(payload):
    with pytest.raises(ProtocolError):
        parse_device_status("kiosk", "k1", payload)


def test_an_empty_payload_clears_the_status():
    assert parse_device_status("kiosk", "k1", b"") is None


def test_the_schema_lists_the_printer_states():
    schema = all_schemas()["device.status"]
    jsonschema.Draft202012Validator.check_schema(schema)
    text = json.dumps(schema)
    assert all(f'"{s}"' in text for s in PRINTER_STATES)
