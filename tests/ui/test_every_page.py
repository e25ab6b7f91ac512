"""Every HTML page of the web app, in a real Chromium under the pages' own Content-Security-Policy,
for each kind of visitor (nobody logged in, viewer, clerk, manager), and every error page a person
can meet: no console error (a CSP refusal is one), no page error, no failed request.

The pages come from the app's URL map, so a new page is covered the day it is added: a route
with a parameter this file has no sample value for fails the test until one is given in SAMPLE.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from queue_server.domain import bookings
from queue_server.domain.commands import CreateBooking
from queue_server.users import Users
from queue_server.web.errors import JSON_PREFIXES
from tests.support.browser import CHROMIUM
from tests.support.site import RunningSite

pytestmark = [pytest.mark.slow,      # every page of the site in Chromium, with axe
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
              pytest.mark.timeout(300)]

USERS = {"viewer": ("mai.viewer", "viewer-pass-123"), "clerk": ("hung.clerk", "clerk-pass-1234"),
         "manager": ("lan.manager", "manager-pass-123")}
VISITORS = ["anonymous", "viewer", "clerk", "manager"]
# The in-flight requests a page never finishes: its live streams.
ENDLESS = ("eventsource",)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("every-page")) as s:
        users = Users(s.service.store.engine)
        for role, (name, password) in USERS.items():
            users.add(name, password, role, name)
        kiosk = s.device("kiosk", "k1")
        ticket = kiosk.request("ticket.issue", {"sector": "tu-phap-ho-tich"})["result"]["ticket"]
        assert kiosk.request("ticket.issue", {"sector": "dat-dai"})["ok"]
        assert s.device("counter", "q4").request("call.next")["ok"]
        # a booking for its pages (/b/<site>/<booking>...): tomorrow's first free slot
        svc = s.service
        with svc.lock:
            now = svc.clock()
            slot = bookings.free_slots(svc.state, svc.config, "khai-sinh", now.astimezone(svc.config.site.tz).date()
                                       + timedelta(days=1), now)[0]["slot"]
        booked = svc.execute("citizen", "web", CreateBooking(procedure="khai-sinh", slot=slot, id_hash="a" * 64))
        s.sample = {"counter": "q1", "token": ticket["token"], "code": "en", "procedure": "khai-sinh",
                    "site": s.site.id, "booking": booked["result"]["booking"]["code"]}
        yield s


def html_routes(app) -> list[str]:
    """GET routes that answer a page: not the JSON routes, not static files, not downloads."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        if rule.rule.startswith(JSON_PREFIXES) or "." in rule.rule.rsplit("/", 1)[-1]:
            continue
        out.append(rule)
    return out


def page_urls(site) -> list[str]:
    adapter = site.server.app.url_map.bind("localhost")
    urls = []
    for rule in html_routes(site.server.app):
        missing = rule.arguments - site.sample.keys()
        if missing:
            pytest.fail(f"{rule.rule}: give a sample value for {sorted(missing)} in the site fixture")
        urls.append(adapter.build(rule.endpoint, {k: site.sample[k] for k in rule.arguments}))
    return sorted(set(urls))


class Watch:
    """Everything that goes wrong on one page while it loads and settles."""

    def __init__(self, page, *expected_statuses: int):
        self.page, self.problems, self.inflight = page, [], set()
        self.expected = expected_statuses
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("request", self._request)
        page.on("requestfinished", self._done)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, msg):
        if msg.type not in ("error", "warning"):
            return
        # the document itself answering an expected error status is what an error page is
        if (msg.text.startswith("Failed to load resource") and msg.location.get("url") == self.page.url
                and any(f"status of {s} " in msg.text for s in self.expected)):
            return
        self.problems.append(f"console {msg.type}: {msg.text} ({msg.location.get('url')})")

    def _request(self, request):
        if request.resource_type not in ENDLESS:
            self.inflight.add(request)

    def _done(self, request):
        self.inflight.discard(request)

    def _failed(self, request):
        self.inflight.discard(request)
        # Chromium itself cancels a favicon fetch when a form navigation replaces the page (seen in 2 of 3
        # fresh-clone runs); a missing or broken favicon still shows here as its 4xx/5xx response.
        if request.failure == "net::ERR_ABORTED" and request.url.endswith("/favicon.svg"):
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response):
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} for {response.request.method} {response.url}")

    def settle(self) -> list[str]:
        """Wait until the page has loaded and every request it started (but its streams) is done."""
        self.page.wait_for_load_state("load")
        while self.inflight:
            self.page.wait_for_event("requestfinished", timeout=10_000)
        self.page.evaluate("() => new Promise(r => setTimeout(r, 0))")   # let handlers of the last answers run
        return self.problems


def visitor(browser, site, who: str, viewport: tuple[int, int] = (1366, 900)):
    """A browser context under the pages' real CSP (never bypass_csp here), logged in as `who`."""
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    if who != "anonymous":
        page = ctx.new_page()
        page.goto(site.http_url + "/login")
        page.fill("#username", USERS[who][0])
        page.fill("#password", USERS[who][1])
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert "/login" not in page.url, f"{who} could not log in"
        page.close()
    return ctx


def test_the_url_map_yields_the_known_pages(site):
    urls = page_urls(site)
    for known in ("/login", "/dashboard", "/reports", "/reports/print", "/console", "/console/q1", "/waits",
                  "/display", f"/t/{site.sample['token']}", "/book", "/book/khai-sinh", "/queue", "/b", "/bookings",
                  f"/b/demo-district/{site.sample['booking']}"):
        assert known in urls, urls


@pytest.mark.parametrize("who,viewport", [(who, (1366, 900)) for who in VISITORS]
                         + [("manager", size) for size in ((1920, 1080), (1280, 720), (1080, 1920))],
                         ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else v)
def test_every_page_loads_without_an_error(browser, site, who, viewport):
    """Every role at a laptop's size, and the manager (who may open every page) at the wall
    display's sizes and in portrait: layout code that runs per size must not error either."""
    ctx = visitor(browser, site, who, viewport)
    failures = {}
    for url in page_urls(site):
        page = ctx.new_page()
        watch = Watch(page, 403)
        response = page.goto(site.http_url + url)
        problems = watch.settle()
        # a page a role may not see answers 403 with the app's bilingual page, not a broken one
        if response.status not in (200, 403):
            problems.append(f"status {response.status}")
        if problems:
            failures[url] = problems
        page.close()
    ctx.close()
    assert failures == {}


def post_form(page, action: str, fields: dict[str, str]) -> None:
    """Submit a real form from the page (CSP form-action 'self' allows it), as a person would."""
    page.evaluate("""([action, fields]) => {
        const f = document.createElement('form');
        f.method = 'post'; f.action = action;
        for (const [k, v] of Object.entries(fields)) {
            const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
        }
        document.body.appendChild(f); f.submit();
    }""", [action, fields])


def check_error_page(page, watch, status: int, title_vi: str, title_en: str) -> None:
    problems = watch.settle()
    assert problems == []
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert page.title() == f"{title_vi} / {title_en}"
    h1 = page.inner_text("h1")
    assert h1.index(title_vi) < h1.index(title_en)          # Vietnamese first
    assert f"Lỗi {status} / Error {status}" in page.inner_text("main")
    # styled by the app's stylesheet, not Werkzeug's bare page
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") == "8px"
    assert page.get_attribute('link[rel="icon"]', "href") == "/static/app/favicon.svg"


ERROR_PAGES = [("404 unknown address", "anonymous", "/khong-co-trang-nay", 404, "Không tìm thấy trang", "Page not found"),
               ("404 unknown counter", "clerk", "/console/q99", 404, "Không tìm thấy trang", "Page not found"),
               ("405 GET of a form target", "anonymous", "/logout", 405,
                "Không thể thực hiện thao tác này tại đây", "This action is not possible here")]


@pytest.mark.parametrize("name,who,url,status,title_vi,title_en", ERROR_PAGES, ids=[e[0] for e in ERROR_PAGES])
def test_error_pages_are_bilingual_and_styled(browser, site, name, who, url, status, title_vi, title_en):
    ctx = visitor(browser, site, who)
    page = ctx.new_page()
    watch = Watch(page, status)
    assert page.goto(site.http_url + url).status == status
    check_error_page(page, watch, status, title_vi, title_en)
    ctx.close()


def goto_settled(page, url: str) -> None:
    """Open the page a form is sent from and let all it loads finish (it must load cleanly too):
    a request still in flight when the form navigates away, the favicon say, is aborted by the
    browser, which is not the error page's fault."""
    first = Watch(page)
    page.goto(url)
    assert first.settle() == []


def test_a_100_kb_login_gets_the_413_page(browser, site):
    ctx = visitor(browser, site, "anonymous")
    page = ctx.new_page()
    goto_settled(page, site.http_url + "/login")
    watch = Watch(page, 413)
    with page.expect_navigation() as nav:
        post_form(page, "/login", {"username": "x" * 100_000, "password": "y"})
    assert nav.value.status == 413
    check_error_page(page, watch, 413, "Dữ liệu quá lớn", "Too much data")
    assert "64 KB" in page.inner_text("main")
    ctx.close()


def test_a_form_without_its_csrf_token_gets_the_400_page(browser, site):
    ctx = visitor(browser, site, "clerk")
    page = ctx.new_page()
    goto_settled(page, site.http_url + "/console")
    watch = Watch(page, 400)
    with page.expect_navigation() as nav:
        post_form(page, "/console/q1/start", {})
    assert nav.value.status == 400
    check_error_page(page, watch, 400, "Yêu cầu không hợp lệ", "Bad request")
    ctx.close()


def test_a_crash_in_a_page_gets_the_500_page_and_the_api_stays_json(browser, site):
    app = site.server.app
    real = app.view_functions["track.waits"]

    def broken():
        raise RuntimeError("a bug in the page")
    app.view_functions["track.waits"] = broken
    try:
        ctx = visitor(browser, site, "anonymous")
        page = ctx.new_page()
        watch = Watch(page, 500)
        assert page.goto(site.http_url + "/waits").status == 500
        check_error_page(page, watch, 500, "Đã xảy ra lỗi", "Something went wrong")
        assert "a bug in the page" not in page.content()       # no internals shown to a person
        ctx.close()
    finally:
        app.view_functions["track.waits"] = real
    # the JSON routes keep answering in JSON, in both languages
    client = app.test_client()
    for url, status in (("/api/v1/no-such-thing", 404), ("/console/api/q1/waiting?x", 401)):
        r = client.get(url)
        assert r.status_code == status and r.is_json and r.json["ok"] is False and r.json["error"]["message_vi"]
    r = client.post("/api/v1/board")
    assert r.status_code == 405 and r.is_json and "GET" in r.headers["Allow"]


def test_favicon_is_served(site):
    r = site.server.app.test_client().get("/favicon.ico")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
