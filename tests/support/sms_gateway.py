"""A province's SMS/Zalo gateway for the notifier's tests: a real HTTP server (http.server) on a
loopback port that checks each request's signature with webhook.verify, answers what the test
says, and records every request. It can be stopped and started again on the same port (the
gateway down, then back).

    gw = SmsGateway(secret).start()
    ... gw.wait(lambda g: len(g.accepted()) == 3)

And the site those tests run: the demo site open now (open_site.py) with a `notify:` section.
"""
from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from queue_server.config import DEMO_SITE
from queue_server.notify import webhook as wh
from tests.support.open_site import open_now

PHONE = "+84912345678"
PROCEDURE, SECTOR = "khai-sinh", "tu-phap-ho-tich"      # the demo site's


def notify_site(directory: Path, **notify) -> Path:
    """The demo site, open now, with `notify:` set to `notify`; its path."""
    path = open_now(DEMO_SITE, directory)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["notify"] = notify
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def local_slot(site, now: datetime, hhmm: str) -> str:
    """Today's slot id at `hhmm` in the site's zone."""
    return f"{now.astimezone(site.site.tz).date().isoformat()}T{hhmm}"


def id_hash(i: int) -> str:
    """A card's keyed hash, for the i-th citizen (the domain sees only the hash)."""
    return f"{i:064x}"


@dataclass
class Request:
    delivery: str
    body: dict
    verified: bool
    status: int
    content_type: str = ""


def answers(*statuses: int, headers: dict[str, str] | None = None) -> Callable[[dict], tuple[int, dict]]:
    """An `answer` that gives these statuses in turn (each with `headers`), then 200."""
    left = list(statuses)
    return lambda body: (left.pop(0), headers or {}) if left else (200, {})


class SmsGateway:
    """`answer(body)` -> a status, or (status, extra headers); `clock` is what the signature's
    timestamp is checked against (a test with a fake clock passes its own)."""

    def __init__(self, secret: bytes | None = None, port: int = 0,
                 answer: Callable[[dict], int | tuple[int, dict]] | None = None,
                 clock: Callable[[], float] = time.time):
        self.secret = secret          # may be set later (a secret the server made at its first start)
        self.port = port
        self.answer = answer or (lambda body: 200)
        self.clock = clock
        self.requests: list[Request] = []
        self.changed = threading.Condition()
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    def start(self) -> "SmsGateway":
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    wh.verify(gateway.secret, dict(self.headers), raw, now=gateway.clock())
                    verified = True
                except (wh.SignatureError, ValueError):
                    verified = False
                body = json.loads(raw)
                status, extra = gateway.answer(body) if verified else 401, {}
                if isinstance(status, tuple):
                    status, extra = status
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with gateway.changed:
                    gateway.requests.append(Request(self.headers[wh.DELIVERY_HEADER], body, verified, status,
                                                    self.headers["Content-Type"]))
                    gateway.changed.notify_all()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __enter__(self) -> "SmsGateway":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Request]:
        """The requests answered 2xx: what the gateway took."""
        with self.changed:
            return [r for r in self.requests if 200 <= r.status < 300]

    def wait(self, pred: Callable[["SmsGateway"], object], timeout: float = 20.0, what: str = "the gateway") -> None:
        """Until `pred(self)` holds (woken by each request), or fail the test after `timeout` s."""
        with self.changed:
            if not self.changed.wait_for(lambda: pred(self), timeout):
                raise AssertionError(f"timed out waiting for {what}; got {[(r.delivery, r.status) for r in self.requests]}")
