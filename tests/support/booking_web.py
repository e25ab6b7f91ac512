"""A citizen's phone on the booking pages (queue_server/web/booking_bp.py) over real HTTP: its own
cookies (the session that carries the form's CSRF token), no redirects followed, and the page's
error read back. Shared by the booking page tests and the SIGKILL booking test."""
from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta

from queue_server.domain import bookings


def tomorrows_slots(site, procedure: str) -> list[dict]:
    """Tomorrow's free slots for `procedure` at a RunningSite, as the domain counts them."""
    svc = site.service
    with svc.lock:
        now = svc.clock()
        day = now.astimezone(svc.config.site.tz).date() + timedelta(days=1)
        return bookings.free_slots(svc.state, svc.config, procedure, day, now)


def cccd_number(i: int) -> str:
    """A valid 12-digit number (born in 1990), a different one for each i."""
    return f"001090{i:06d}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Citizen:
    """One phone: its own cookies (the session that carries the form's CSRF token)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def _open(self, req) -> tuple[int, str, str | None]:
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.read().decode(), resp.headers.get("Location")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.headers.get("Location")

    def get(self, path: str) -> tuple[int, str, str | None]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str, str | None]:
        return self._open(urllib.request.Request(self.base + path, data=urllib.parse.urlencode(fields).encode(),
                                                 method="POST"))

    def cookie_header(self) -> str:
        """The phone's cookies as a Cookie header, for a request sent without the opener."""
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def form(self, path: str) -> dict[str, str]:
        """The hidden fields of the page's form (its CSRF token, the chosen slot, its request id)."""
        status, html, _ = self.get(path)
        assert status == 200, (path, status)
        return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def alert(html: str) -> tuple[str, str]:
    """The page's error, (Vietnamese, English)."""
    box = re.search(r'<div class="error" role="alert" id="error"><p lang="vi">(.*?)</p><p lang="en">(.*?)</p>', html, re.S)
    assert box, html[:2000]
    return box.group(1), box.group(2)


def shown(slot: str) -> str:
    """A slot as the pages write it: "HH:MM dd/mm/YYYY"."""
    return datetime.strptime(slot, "%Y-%m-%dT%H:%M").strftime("%H:%M %d/%m/%Y")
