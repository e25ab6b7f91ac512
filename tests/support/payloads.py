"""Bad command payloads as hypothesis strategies, each wrong in at least one way the contract
(docs/protocol.md) names, and the error codes a reply to one may carry: shared by the in-process
fuzz test and the one over the real broker."""
from __future__ import annotations

import json

from hypothesis import strategies as st

from protocol.errors import ErrorCode
from protocol.messages import COMMAND_TYPES
from protocol.version import MAX_PAYLOAD_BYTES

# the contract's error codes, less `internal` (that one would mean a bug: an exception in the loop)
CONTRACT_ERRORS = {c.value for c in ErrorCode} - {"internal"}

# --- payload strategies: every one is wrong in at least one way the contract names ---------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                            max_size=4), max_leaves=6)
UNICODE_EDGES = ["\ud800", "\udfff", "\x00", "\u202e", "\ufeff", "A\u0301", "Đ\u0323", "🧾", "\u200b", "ｓｅｃｔｏｒ",
                 "Hồ tịch", "Ho\u0302\u0300 ti\u0323ch", "\U0010ffff", "\\", '"', "\n"]
unicode_edge = st.sampled_from(UNICODE_EDGES) | st.text(alphabet=st.characters(codec="utf-8"), min_size=1,
                                                        max_size=20)


def valid_command(kind: str) -> st.SearchStrategy[dict]:
    fields = {"ticket.issue": {"sector": "dat-dai"}, "guidance.online": {"procedure": "x"},
              "call.number": {"number": "A001"}, "serve.transfer": {"to_sector": "dat-dai"},
              "rating.submit": {"ticket_id": "t", "score": 3}}
    return st.builds(lambda typ, rid: {"v": 1, "type": typ, "req_id": rid, **fields.get(typ, {})},
                     st.sampled_from(COMMAND_TYPES[kind]), st.uuids().map(str))


def wrong_type_for(key: str) -> st.SearchStrategy:
    """A value of the wrong type or shape for a field, never an acceptable one."""
    if key == "v":
        # `true` and `1.0` equal 1 and pydantic's Literal[1] takes them: see test_v_must_be_the_integer_1
        return json_values.filter(lambda x: not (isinstance(x, (int, float)) and x == 1))
    if key == "req_id":
        return json_values.filter(lambda x: not isinstance(x, str)) | st.just("") | st.text(min_size=129,
                                                                                            max_size=200)
    if key == "type":
        return json_values.filter(lambda x: x not in COMMAND_TYPES["kiosk"] + COMMAND_TYPES["counter"])
    return (json_values.filter(lambda x: not isinstance(x, str) and not (key == "score" and type(x) is int
                                                                          and 1 <= x <= 4))
            | unicode_edge.map(lambda s: s + " ")           # never a slug, a number or a ticket id alone
            if key != "score" else json_values.filter(lambda x: not (type(x) is int and 1 <= x <= 4)))


@st.composite
def broken_command(draw, kind: str) -> bytes:
    cmd = draw(valid_command(kind))
    how = draw(st.sampled_from(["wrong_type", "missing", "unknown_type_with_extras", "unicode_field", "unknown_sector",
                                "v_wrong"]))
    required = [k for k in cmd if k != "v"] if cmd["type"] != "ticket.issue" else ["type", "req_id", "sector"]
    if how == "wrong_type":
        key = draw(st.sampled_from(["v", *required]))
        cmd[key] = draw(wrong_type_for(key))
    elif how == "missing":
        del cmd[draw(st.sampled_from(["v", *required]))]
    elif how == "unknown_type_with_extras":
        cmd["type"] = draw(st.text(max_size=20).filter(lambda t: t not in COMMAND_TYPES[kind]))
        cmd.update(draw(st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda k: k not in cmd), json_values,
                                        max_size=5)))
    elif how == "unicode_field":
        key = draw(st.sampled_from([k for k in required if k != "req_id"]))   # any string is a req_id
        cmd[key] = draw(unicode_edge) + " "
    elif how == "unknown_sector":
        cmd["type"], cmd["sector"] = ("ticket.issue", draw(st.from_regex(r"zz[a-z0-9-]{1,30}", fullmatch=True))) \
            if kind == "kiosk" else ("serve.transfer", None)
        if kind == "counter":
            cmd["to_sector"] = ["not", "a", "slug"]
    else:
        cmd["v"] = draw(st.sampled_from([2, 0, "1", None, [1], {"v": 1}]))
    return json.dumps(cmd, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


def deep(n: int, open_: str, close: str) -> bytes:
    return (open_ * n + close * n).encode()


payloads = st.one_of(
    st.binary(max_size=300),                                              # not JSON at all, invalid UTF-8
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    json_values.filter(lambda x: not isinstance(x, dict)).map(lambda x: json.dumps(x).encode()),
    st.dictionaries(st.text(max_size=10), json_values, max_size=6).map(lambda d: json.dumps(d).encode()),
    st.integers(MAX_PAYLOAD_BYTES + 1, MAX_PAYLOAD_BYTES * 4).map(lambda n: b'{"v":1,"x":"' + b"a" * n + b'"}'),
    st.integers(10, 50_000).map(lambda n: deep(n, "[", "]")),           # deep nesting
    st.integers(10, 5_000).map(lambda n: b'{"v":1,"type":"ticket.issue","req_id":"d","sector":' +
                               deep(n, '{"a":', "}")[:-n] + b"1" + b"}" * n + b"}"),
    st.sampled_from([b"", b"\xef\xbb\xbf{}", b"null", b"{", b'{"v":1}', b"\x00" * 50, b"\xff\xfe{\x00}\x00",
                     b'{"v":1,"type":"ticket.issue","req_id":"\\ud800","sector":"dat-dai"}',
                     b'{"v":1,"type":"ticket.issue","req_id":"a","sector":"dat-dai","sector":1}']),
)


def command_payload(kind: str):
    return st.one_of(payloads, broken_command(kind))
