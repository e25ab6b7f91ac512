"""The webhook notifier: each notification is POSTed as JSON to the province's SMS/Zalo gateway,
signed, and retried until the gateway takes it.

One rule for both ends: `sign` makes the signature and `verify` checks it (a gateway written in
Python imports this module; another reads docs/protocol.md, "Bookings and remote tickets"). The headers:

- `X-Motcua-Timestamp`: the Unix time of the attempt, in whole seconds;
- `X-Motcua-Signature`: `v1=` and the lower-case hex HMAC-SHA256, under the shared secret, of the
  timestamp, a dot, and the body's bytes (so a body replayed with another time fails);
- `X-Motcua-Delivery`: the notification's id, the same on every retry (a gateway drops repeats).

A receiver refuses a timestamp more than TOLERANCE_S from its own clock.

Delivery (`DeliveryLoop`): the loop asks an `Outbox` for what is pending, sends what is due, and
tells the outbox what was delivered or given up; retries wait BACKOFF_BASE_S doubling up to
BACKOFF_MAX_S, each less up to JITTER at random (so a gateway back after an outage is not hit by
every site at once), for at most MAX_ATTEMPTS attempts. A 2xx answer is delivered; 408, 429, a
5xx answer or no answer is retried (a Retry-After of seconds is honoured up to BACKOFF_MAX_S);
another 4xx is given up at once (the gateway refuses it; retrying would not change that). The
outbox is durable (`notifier.LogOutbox`: the event log, domain/notices.py), so a restart loses
nothing; its retry counts start again.

Phone numbers go to the gateway (it must text them) and are never logged: logs show
`mask_phone(...)`, the notification id and the HTTP status, never the body.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

VERSION = 1                 # the body's "v"
SIGNATURE_SCHEME = "v1"
TIMESTAMP_HEADER = "X-Motcua-Timestamp"
SIGNATURE_HEADER = "X-Motcua-Signature"
DELIVERY_HEADER = "X-Motcua-Delivery"
TOLERANCE_S = 300           # how far a receiver accepts a timestamp from its clock
MIN_SECRET_BYTES = 32
TIMEOUT_S = 10.0            # one attempt's HTTP timeout
BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 600.0
MAX_ATTEMPTS = 10           # about 40 minutes of retrying at most
JITTER = 0.5                # each wait is 50-100 % of its exponential step
RETRIED_STATUSES = frozenset({408, 429})


class SignatureError(ValueError):
    """A request whose signature does not check; the message says why (never the body)."""


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The X-Motcua-Signature value: `v1=` + hex HMAC-SHA256(secret, b"<timestamp>." + body)."""
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"a webhook secret is at least {MIN_SECRET_BYTES} bytes")
    mac = hmac.new(bytes(secret), f"{int(timestamp)}.".encode("ascii") + body, hashlib.sha256)
    return f"{SIGNATURE_SCHEME}={mac.hexdigest()}"


def verify(secret: bytes, headers: Mapping[str, str], body: bytes, now: float,
           tolerance_s: float = TOLERANCE_S) -> None:
    """For the receiver: returns when `body` with these headers was signed with `secret` within
    tolerance_s of `now` (Unix seconds); SignatureError otherwise. Header names are case-blind."""
    lower = {k.lower(): v for k, v in headers.items()}
    stamp = lower.get(TIMESTAMP_HEADER.lower())
    given = lower.get(SIGNATURE_HEADER.lower())
    if stamp is None or given is None:
        raise SignatureError(f"{TIMESTAMP_HEADER} or {SIGNATURE_HEADER} is missing")
    if not stamp.isascii() or not stamp.isdigit():
        raise SignatureError(f"{TIMESTAMP_HEADER} is not whole seconds")
    if abs(now - int(stamp)) > tolerance_s:
        raise SignatureError(f"{TIMESTAMP_HEADER} is more than {tolerance_s:g} s from now")
    if not hmac.compare_digest(sign(secret, int(stamp), body).encode(), given.strip().encode()):
        raise SignatureError("the signature does not match")


def mask_phone(phone: str) -> str:
    """"+84912345678" -> "+84******678": what a log may show of a phone number."""
    phone = str(phone)
    keep = 3 if len(phone) > 6 else 0
    head = 3 if phone.startswith("+") and len(phone) > 9 else 0
    return phone[:head] + "*" * (len(phone) - head - keep) + phone[len(phone) - keep:]


@dataclass(frozen=True)
class Notification:
    """One message for one citizen. `kind` says what it is ("reminder", "turn_near", ...: the
    booking step names them); `text` is what the gateway sends, {"vi": ..., "en": ...};
    `data` the facts it is made of (site, code, slot, ticket number...), for a gateway that
    writes its own words. `expires_at` (Unix seconds): after it, sending is pointless."""

    id: str
    kind: str
    phone: str = field(repr=False)
    text: Mapping[str, str]
    data: Mapping[str, Any] = field(default_factory=dict)
    expires_at: float | None = None

    def __repr__(self) -> str:
        return f"Notification({self.id!r}, {self.kind!r}, phone={mask_phone(self.phone)!r})"

    def body(self) -> bytes:
        """The JSON body (UTF-8, keys sorted: the same bytes every retry)."""
        return json.dumps({"v": VERSION, "id": self.id, "kind": self.kind, "phone": self.phone,
                           "text": dict(self.text), "data": dict(self.data)},
                          ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


class Outbox(Protocol):
    """Where notifications wait until they are delivered or given up (durable: the event log)."""

    def pending(self) -> list[Notification]:
        """Every notification neither delivered nor given up, oldest first."""

    def delivered(self, notification_id: str, at: float, *, attempts: int) -> None:
        """The gateway took it (2xx) at `at` (Unix seconds), at the `attempts`-th attempt."""

    def given_up(self, notification_id: str, at: float, reason: str, *, attempts: int,
                 last_error: str | None) -> None:
        """No more attempts: `reason` is "refused <status>", "attempts" or "expired"; `last_error`
        the last attempt's status or "no answer" (None: never tried). No personal data."""


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: `ok`, or `retry` (with the gateway's Retry-After, if any), or neither (refused)."""

    ok: bool
    retry: bool
    status: int | None
    retry_after_s: float | None = None


class WebhookSender:
    """POSTs one notification, signed, to the gateway's URL (http or https)."""

    def __init__(self, url: str, secret: bytes, *, timeout_s: float = TIMEOUT_S,
                 clock: Callable[[], float] = time.time):
        if not url.startswith(("https://", "http://")):
            raise ValueError("the webhook URL must be http:// or https://")
        sign(secret, 0, b"")     # checks the secret now rather than at the first notification
        self.url = url
        self.secret = bytes(secret)
        self.timeout_s = timeout_s
        self.clock = clock

    def headers(self, n: Notification, body: bytes) -> dict[str, str]:
        stamp = int(self.clock())
        return {"Content-Type": "application/json; charset=utf-8", TIMESTAMP_HEADER: str(stamp),
                SIGNATURE_HEADER: sign(self.secret, stamp, body), DELIVERY_HEADER: n.id,
                "User-Agent": "motcua-notifier/1"}

    def send(self, n: Notification) -> Attempt:
        body = n.body()
        request = urllib.request.Request(self.url, data=body, headers=self.headers(n, body), method="POST")
        try:
            with _OPENER.open(request, timeout=self.timeout_s) as response:
                response.read()
                return Attempt(True, False, response.status)
        except urllib.error.HTTPError as err:
            status = err.code
            err.close()
            retry = status in RETRIED_STATUSES or status >= 500
            return Attempt(False, retry, status, _seconds(err.headers.get("Retry-After")) if retry else None)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:   # refused, reset, timed out, garbled
            log.info("webhook %s: no answer (%s)", n.id, type(getattr(err, "reason", err)).__name__)
            return Attempt(False, True, None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: urllib would follow a 302 with a GET and could
    take the page it lands on for the gateway's 2xx. The 3xx comes back as an HTTPError (a refusal)."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None and float(value) >= 0 else None
    except ValueError:
        return None        # an HTTP date: the backoff stands


def backoff_s(attempts: int, rng: Callable[[], float], base_s: float = BACKOFF_BASE_S,
              max_s: float = BACKOFF_MAX_S, jitter: float = JITTER) -> float:
    """The wait after the `attempts`-th failed attempt (1, 2, ...): base_s * 2**(attempts-1),
    capped at max_s, less up to `jitter` of it at random (rng() in [0, 1))."""
    step = min(max_s, base_s * 2 ** (attempts - 1))
    return step * (1 - jitter * rng())


class DeliveryLoop:
    """Delivers an outbox's notifications through a sender, one at a time, retrying with backoff.

    `clock` (Unix seconds), `wait(timeout or None)` and `rng` are passed in so that tests need no
    sleep; by default `wait` blocks until the timeout, `wake()` or `stop()`. Retry counts are
    kept here; the outbox is told only the outcome."""

    def __init__(self, outbox: Outbox, sender: WebhookSender, *, clock: Callable[[], float] = time.time,
                 wait: Callable[[float | None], None] | None = None, rng: Callable[[], float] | None = None,
                 max_attempts: int = MAX_ATTEMPTS, base_s: float = BACKOFF_BASE_S, max_s: float = BACKOFF_MAX_S):
        self.outbox = outbox
        self.sender = sender
        self.clock = clock
        self.rng = rng or random.SystemRandom().random
        self.max_attempts = max_attempts
        self.base_s = base_s
        self.max_s = max_s
        self._event = threading.Event()
        self._stopped = threading.Event()
        self.wait = wait or self._wait
        self.attempts: dict[str, int] = {}
        self.next_at: dict[str, float] = {}
        self.last_error: dict[str, str] = {}

    def wake(self) -> None:
        """A new notification is in the outbox: look now."""
        self._event.set()

    def stop(self) -> None:
        self._stopped.set()
        self._event.set()

    def _wait(self, timeout: float | None) -> None:
        self._event.wait(timeout)
        self._event.clear()

    def run(self) -> None:
        while not self._stopped.is_set():
            due = self.step()
            if self._stopped.is_set():
                break
            self.wait(None if due is None else max(0.0, due - self.clock()))

    def step(self) -> float | None:
        """Send every pending notification that is due; the time the next one is due (None: none)."""
        pending = self.outbox.pending()
        ids = {n.id for n in pending}
        for gone in set(self.attempts) - ids:      # delivered or given up elsewhere (another process, a restart)
            self.attempts.pop(gone, None)
            self.next_at.pop(gone, None)
            self.last_error.pop(gone, None)
        for n in pending:
            if self._stopped.is_set():
                return None
            now = self.clock()
            if self.next_at.get(n.id, now) > now:
                continue
            if n.expires_at is not None and now >= n.expires_at:
                self._give_up(n, now, "expired")
                continue
            result = self.sender.send(n)
            tries = self.attempts[n.id] = self.attempts.get(n.id, 0) + 1
            now = self.clock()
            if result.ok:
                log.info("webhook %s (%s, %s) delivered: %s after %d attempt(s)", n.id, n.kind,
                         mask_phone(n.phone), result.status, tries)
                self.attempts.pop(n.id, None)
                self.next_at.pop(n.id, None)
                self.last_error.pop(n.id, None)
                self.outbox.delivered(n.id, now, attempts=tries)
                continue
            self.last_error[n.id] = str(result.status or "no answer")
            if not result.retry:
                self._give_up(n, now, f"refused {result.status}")
            elif tries >= self.max_attempts:
                self._give_up(n, now, "attempts")
            else:
                delay = backoff_s(tries, self.rng, self.base_s, self.max_s)
                if result.retry_after_s is not None:
                    delay = max(delay, min(result.retry_after_s, self.max_s))
                self.next_at[n.id] = now + delay
                log.info("webhook %s (%s): attempt %d failed (%s); again in %.1f s", n.id, mask_phone(n.phone),
                         tries, result.status or "no answer", delay)
        return min(self.next_at.values(), default=None)

    def _give_up(self, n: Notification, now: float, reason: str) -> None:
        log.warning("webhook %s (%s, %s) given up: %s", n.id, n.kind, mask_phone(n.phone), reason)
        attempts = self.attempts.pop(n.id, 0)
        self.next_at.pop(n.id, None)
        self.outbox.given_up(n.id, now, reason, attempts=attempts, last_error=self.last_error.pop(n.id, None))
