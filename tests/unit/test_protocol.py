import json

import pytest

from protocol.errors import ErrorCode
from protocol.messages import MAX_PAYLOAD_BYTES, ProtocolError, parse_command
from protocol.topics import Topics, site_of


def test_topics_follow_the_contract():
    t = Topics("demo-district")
    assert t.kiosk_cmd("k1") == "motcua/v1/demo-district/kiosk/k1/cmd"
    assert t.counter_state("q5") == "motcua/v1/demo-district/counter/q5/state"
    assert t.sector_stats("tu-phap") == "motcua/v1/demo-district/sector/tu-phap/stats"
    assert t.device_status("kiosk", "k1") == "motcua/v1/demo-district/device/kiosk/k1/status"
    assert t.board == "motcua/v1/demo-district/board"
    assert t.events_call.endswith("/events/call") and t.events_log.endswith("/events/log")
    assert t.server_status == "motcua/v1/demo-district/server/status"
    assert t.parse_cmd("motcua/v1/demo-district/counter/q5/cmd") == ("counter", "q5")
    assert t.parse_cmd("motcua/v1/demo-district/display/d1/cmd") is None
    assert t.parse_cmd("motcua/v1/other/counter/q5/cmd") is None
    assert site_of("motcua/v1/demo-district/board") == "demo-district"


@pytest.mark.parametrize("bad", ["Demo", "a" * 41, "", "a/b", "a+b", "#"])
def test_ids_must_be_slugs(bad):
    with pytest.raises(ValueError):
        Topics(bad)
    with pytest.raises(ValueError):
        Topics("ok").kiosk_cmd(bad)


def cmd(**fields):
    return json.dumps({"v": 1, "req_id": "r1", **fields}).encode()


def test_valid_commands_parse():
    c = parse_command("kiosk", cmd(type="ticket.issue", sector="tu-phap-ho-tich", priority="elderly"))
    assert c.sector == "tu-phap-ho-tich" and c.priority == "elderly" and c.lang == "vi"
    c = parse_command("counter", cmd(type="serve.transfer", to_sector="dat-dai", note="hồ sơ đất"))
    assert c.to_sector == "dat-dai"
    c = parse_command("counter", cmd(type="rating.submit", ticket_id="x", score=4, extra="ignored"))
    assert c.score == 4


@pytest.mark.parametrize("payload, code", [
    (b"not json", ErrorCode.BAD_REQUEST),
    (b"\xff\xfe", ErrorCode.BAD_REQUEST),
    (b"[1,2]", ErrorCode.BAD_REQUEST),
    (cmd(type="ticket.issue"), ErrorCode.BAD_REQUEST),                      # missing sector
    (cmd(type="ticket.issue", sector=5), ErrorCode.BAD_REQUEST),            # wrong type
    (cmd(type="ticket.issue", sector="x", priority="vip"), ErrorCode.BAD_REQUEST),
    (cmd(type="call.next"), ErrorCode.BAD_REQUEST),                          # a counter command from a kiosk
    (cmd(type="rating.submit", ticket_id="x", score="4"), ErrorCode.BAD_REQUEST),
    (json.dumps({"v": 2, "type": "ticket.issue", "req_id": "r", "sector": "a"}).encode(), ErrorCode.BAD_REQUEST),
    (b"[" * 100000 + b"]" * 100000, ErrorCode.TOO_LARGE),
    (b"[" * 8000 + b"]" * 8000, ErrorCode.BAD_REQUEST),                     # deep nesting within 16 KiB
])
def test_bad_payloads_get_the_contract_error(payload, code):
    with pytest.raises(ProtocolError) as err:
        parse_command("kiosk", payload)
    assert err.value.code == code


def test_req_id_is_kept_for_the_error_reply():
    with pytest.raises(ProtocolError) as err:
        parse_command("counter", cmd(type="rating.submit", ticket_id="x", score=9))
    assert err.value.req_id == "r1"


def test_size_limit_is_16_kib():
    assert MAX_PAYLOAD_BYTES == 16384
    big = cmd(type="serve.transfer", to_sector="a", note="x" * 400, pad="y" * 17000)
    with pytest.raises(ProtocolError) as err:
        parse_command("counter", big)
    assert err.value.code == ErrorCode.TOO_LARGE
