"""queue_server/notify/webhook.py, the pure rules: the signature both ends use, the backoff, and
what a log may show of a phone number."""
from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.notify import webhook as wh

SECRET = b"k" * 32
NOW = 1_764_000_000


def headers(body: bytes, stamp: int = NOW, secret: bytes = SECRET) -> dict[str, str]:
    return {wh.TIMESTAMP_HEADER: str(stamp), wh.SIGNATURE_HEADER: wh.sign(secret, stamp, body)}


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = '{"phone":"+84912345678","text":{"vi":"Nhắc lịch"}}'.encode()
    expected = hmac.new(SECRET, f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert wh.sign(SECRET, NOW, body) == f"v1={expected}"


@given(body=st.binary(max_size=300), skew=st.integers(-wh.TOLERANCE_S, wh.TOLERANCE_S))
def test_what_is_signed_verifies(body, skew):
    wh.verify(SECRET, headers(body), body, now=NOW + skew)
    wh.verify(SECRET, {k.lower(): v for k, v in headers(body).items()}, body, now=NOW)


@given(body=st.binary(min_size=1, max_size=100), flip=st.integers(0, 99))
def test_a_changed_body_fails(body, flip):
    signed = headers(body)
    i = flip % len(body)
    changed = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]
    with pytest.raises(wh.SignatureError, match="does not match"):
        wh.verify(SECRET, signed, changed, now=NOW)


@pytest.mark.parametrize("change, why", [
    (lambda h: {**h, wh.TIMESTAMP_HEADER: str(NOW - 1)}, "does not match"),           # a replay with another time
    (lambda h: headers(b"{}", secret=b"x" * 32), "does not match"),
    (lambda h: {wh.SIGNATURE_HEADER: h[wh.SIGNATURE_HEADER]}, "missing"),
    (lambda h: {**h, wh.TIMESTAMP_HEADER: "12.5"}, "whole seconds"),
    (lambda h: {**h, wh.TIMESTAMP_HEADER: "١٢"}, "whole seconds"),
    (lambda h: headers(b"{}", stamp=NOW - wh.TOLERANCE_S - 1), "from now"),
    (lambda h: {**h, wh.SIGNATURE_HEADER: "v1=" + "0" * 64}, "does not match"),
])
def test_a_bad_request_is_refused_with_its_reason(change, why):
    with pytest.raises(wh.SignatureError, match=why):
        wh.verify(SECRET, change(headers(b"{}")), b"{}", now=NOW)


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError):
        wh.sign(b"short", NOW, b"")
    with pytest.raises(ValueError):
        wh.WebhookSender("https://gw.example/hook", b"short")
    with pytest.raises(ValueError):
        wh.WebhookSender("file:///etc/passwd", SECRET)


@given(attempts=st.integers(1, 30), r=st.floats(0, 1, exclude_max=True))
def test_backoff_doubles_to_its_cap_less_the_jitter(attempts, r):
    step = min(wh.BACKOFF_MAX_S, wh.BACKOFF_BASE_S * 2 ** (attempts - 1))
    delay = wh.backoff_s(attempts, lambda: r)
    assert step * (1 - wh.JITTER) < delay <= step or delay == step * (1 - wh.JITTER)


def test_backoff_without_jitter():
    assert [wh.backoff_s(n, lambda: 0.0) for n in (1, 2, 3, 8, 9)] == [5, 10, 20, 600, 600]


@pytest.mark.parametrize("phone, shown", [("+84912345678", "+84******678"), ("0912345678", "*******678"),
                                          ("12345", "*****"), ("", "")])
def test_a_phone_in_a_log(phone, shown):
    assert wh.mask_phone(phone) == shown


def test_a_notification_hides_its_phone_and_its_body_is_stable():
    n = wh.Notification("n1", "reminder", "+84912345678", {"vi": "Nhắc lịch", "en": "Reminder"}, {"code": "K7Q4MZ2X"})
    assert "912345" not in repr(n) and "912345" not in str(n)
    assert n.body() == wh.Notification("n1", "reminder", "+84912345678", {"en": "Reminder", "vi": "Nhắc lịch"},
                                       {"code": "K7Q4MZ2X"}).body()
    assert "Nhắc lịch".encode() in n.body()
