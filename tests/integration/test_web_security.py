"""Web security, swept over every route the app has (new routes are covered as they land):

- anonymous visitors reach only the public pages; everything else is a 401 (JSON) or a redirect
  to /login (pages); every protected route is checked against every role (viewer < clerk < manager)
- state-changing form posts need the session's CSRF token
- security headers on every page, session cookie HttpOnly + SameSite
- login is rate limited over HTTP, kiosk ticket issuing is rate limited per kiosk
- tracking tokens are unguessable (>= 128 bits) and guessing finds nothing

Gaps found are marked xfail(strict=True) with the reason, so they show in every run and the
marker must go when the gap is closed.
"""
from __future__ import annotations

import re
import secrets
import time
from concurrent.futures import Future

import pytest

from queue_server.loop import Item as _Item
from queue_server.users import Users
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(120)

# Reachable without logging in, on purpose: the citizens' and the wall display's pages, the public
# read-only API the kiosks and displays use, and the login itself.
PUBLIC = {"auth.root", "auth.login", "auth.set_lang", "api.board", "api.catalogue", "api.counters", "api.sectors",
          "api.health", "api.stream", "api.ticket", "api.cancel_ticket", "openapi.openapi_json",
          "display.display_page", "display.static", "display.announce_wav", "static", "track.ticket", "track.live", "track.cancel",
          "track.waits",
          "auth.logout", "favicon",
          # the citizens' booking pages (acting on a booking asks for its ID card number again)
          "booking.start", "booking.slots", "booking.confirm", "booking.booking_page", "booking.qr", "booking.ics",
          "booking.move", "booking.cancel", "booking.find", "booking.queue_start", "booking.queue_confirm"}
MIN_ROLE = {"api.set_sectors": "manager", "api.set_status": "manager", "api.set_auto": "manager",
            "api.events": "manager", "api.devices": "viewer", "dashboard.index": "viewer",
            "dashboard.state": "viewer", "dashboard.today": "viewer", "reports.index": "viewer",
            "reports.print_page": "viewer", "reports.export_csv": "viewer", "reports.export_xlsx": "viewer",
            "reports.report_json": "viewer", "console.index": "clerk", "console.start": "clerk",
            "console.counter": "clerk", "console.waiting": "clerk", "console.act": "clerk",
            "dashboard.whatif": "manager", "dashboard.whatif_auto": "viewer", "dashboard.whatif_history": "viewer",
            "planning.index": "manager", "planning.again": "manager", "planning.status": "manager",
            "planning.image": "manager", "booking.manage": "manager", "booking.close": "manager"}
PASSWORDS = {"viewer1": "viewer-pass-123", "clerk1": "clerk-pass-1234", "boss1": "manager-pass-1"}


def fill(rule) -> str:
    url = rule.rule
    for name, conv in rule._converters.items():
        value = {"counter": "q1", "token": secrets.token_urlsafe(16), "code": "vi",
                 "filename": "nothing-here.txt"}.get(name, "x")
        if "any" in type(conv).__name__.lower() or hasattr(conv, "items"):
            value = sorted(getattr(conv, "items", ["next"]))[0] if getattr(conv, "items", None) else "next"
        url = re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
    return url


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with RunningSite(tmp_path_factory.mktemp("websec")) as s:
        users = Users(s.service.store.engine)
        users.add("viewer1", PASSWORDS["viewer1"], "viewer")
        users.add("clerk1", PASSWORDS["clerk1"], "clerk")
        users.add("boss1", PASSWORDS["boss1"], "manager")
        yield s


def csrf_of(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(site, user, csrf_header=False):
    client = site.server.app.test_client()
    resp = client.post("/login", data={"username": user, "password": PASSWORDS[user], "csrf": csrf_of(client)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    if not csrf_header:
        return client
    # Our own pages send the session's CSRF token with every fetch (meta csrf-token), so does this client.
    html = client.get("/dashboard").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    client.environ_base["HTTP_X_CSRF_TOKEN"] = token
    return client


def rules(site):
    for rule in site.server.app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_non_public_route_refuses_anonymous_visitors(site):
    client = site.server.app.test_client()
    checked = []
    for rule, method in rules(site):
        if rule.endpoint in PUBLIC:
            continue
        resp = client.open(fill(rule), method=method, json={} if method == "POST" else None)
        location = resp.headers.get("Location", "")
        assert resp.status_code in (401, 403) or (resp.status_code == 302 and "/login" in location), \
            f"{method} {rule.rule} answered {resp.status_code} to an anonymous visitor"
        checked.append(f"{method} {rule.rule}")
    assert len(checked) >= 10, checked
    print(f"anonymous refused on {len(checked)} routes")


def test_every_route_enforces_its_role(site):
    """Each protected route against each role (viewer < clerk < manager): below its role 403,
    at or above it never 401/403. A route missing from MIN_ROLE fails here until someone decides."""
    order = ["viewer1", "clerk1", "boss1"]
    level = {"viewer": 0, "clerk": 1, "manager": 2}
    clients = {user: login(site, user, csrf_header=True) for user in order}
    unknown = []
    for rule, method in rules(site):
        if rule.endpoint in PUBLIC:
            continue
        if rule.endpoint not in MIN_ROLE:
            unknown.append(f"{method} {rule.rule} ({rule.endpoint})")
            continue
        need = level[MIN_ROLE[rule.endpoint]]
        for i, user in enumerate(order):
            resp = clients[user].open(fill(rule), method=method, json={"x": 1} if method == "POST" else None)
            if i < need:
                assert resp.status_code == 403, f"{user}: {method} {rule.rule} -> {resp.status_code}, needs " \
                                                f"{MIN_ROLE[rule.endpoint]}"
            else:
                assert resp.status_code not in (401, 403), f"{user}: {method} {rule.rule} -> {resp.status_code}"
    assert not unknown, f"routes with no role decided (add them to PUBLIC or MIN_ROLE): {unknown}"
    # the bearer token is a manager; a wrong one is nobody
    assert site.server.app.test_client().get("/api/v1/events", headers={
        "Authorization": f"Bearer {site.api_token}"}).status_code == 200
    assert site.server.app.test_client().get("/api/v1/events", headers={
        "Authorization": "Bearer " + secrets.token_urlsafe(32)}).status_code == 401


def test_form_posts_need_the_csrf_token(site):
    # login itself
    anon = site.server.app.test_client()
    anon.get("/login")
    assert anon.post("/login", data={"username": "boss1", "password": PASSWORDS["boss1"]}).status_code == 400
    assert anon.post("/login", data={"username": "boss1", "password": PASSWORDS["boss1"],
                                     "csrf": "forged"}).status_code == 400
    # logout without the token leaves the session alone
    boss = login(site, "boss1")
    boss.post("/logout")
    assert boss.get("/api/v1/events").status_code == 200, "a forged logout logged the manager out"
    # a clerk's counter sign-in form
    clerk = login(site, "clerk1")
    assert clerk.post("/console/q1/start").status_code == 400
    token = csrf_of(clerk, "/console")
    assert clerk.post("/console/q1/start", data={"csrf": token}).status_code == 302


def test_manager_json_api_cannot_be_posted_by_a_cross_site_form(site):
    """A cross-site <form> can only send form/text bodies; the JSON API refuses them, so the
    session cookie alone cannot change anything (SameSite=Lax also keeps it off such posts)."""
    boss = login(site, "boss1")
    before = site.service.state.last_seq
    for path, body in (("/api/v1/site/auto", "on=true"), ("/api/v1/counters/q1/status", "status=closed")):
        resp = boss.post(path, data=body, content_type="text/plain")
        assert resp.status_code in (400, 403)     # no CSRF token (403), and not JSON anyway (400)
        resp = boss.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert resp.status_code in (400, 403)
    assert site.service.state.last_seq == before


def test_console_actions_need_the_csrf_token(site):
    clerk = login(site, "clerk1")
    resp = clerk.post("/console/api/q2/open")
    assert resp.status_code in (400, 403), resp.status_code


def test_security_headers_and_cookie_flags(site):
    boss = login(site, "boss1")
    pages = ["/login", "/waits", "/dashboard", "/console", "/reports", "/t/" + secrets.token_urlsafe(16)]
    for path in pages:
        resp = boss.get(path)
        assert resp.status_code in (200, 404), path
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors" in csp, f"{path}: CSP {csp!r}"
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", path
        assert resp.headers.get("Referrer-Policy"), path
    client = site.server.app.test_client()
    client.get("/login")
    resp = client.post("/login", data={"username": "boss1", "password": PASSWORDS["boss1"],
                                       "csrf": csrf_of(client)})
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_display_page_has_security_headers(site):
    resp = site.server.app.test_client().get("/display")
    assert resp.status_code == 200
    assert "default-src" in resp.headers.get("Content-Security-Policy", "")
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


def test_json_responses_are_nosniff(site):
    resp = site.server.app.test_client().get("/api/v1/board")
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


def test_login_is_rate_limited_over_http(site):
    import urllib.error
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def attempt(password):
        html = opener.open(site.http_url + "/login", timeout=5).read().decode()
        token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode({"username": "viewer1", "password": password, "csrf": token}).encode()
        try:
            return opener.open(site.http_url + "/login", data=data, timeout=5).status
        except urllib.error.HTTPError as exc:
            return exc.code
    codes = [attempt("wrong-password-%d" % i) for i in range(8)]
    assert 429 in codes, codes
    assert attempt(PASSWORDS["viewer1"]) == 429, "the right password got through a locked-out login"


def test_a_stuck_kiosk_button_cannot_empty_the_number_range(site):
    """The per-kiosk token bucket: a kiosk firing as fast as it can gets `rate_limited`, and other
    kiosks keep getting tickets."""
    svc = site.service
    limiter = svc.limiter
    items = [_Item("kiosk", "k2", ('{"v":1,"type":"ticket.issue","req_id":"stuck-%d","sector":"kinh-doanh"}' % i)
                   .encode(), Future()) for i in range(int(limiter.burst) + 300)]
    t0 = time.monotonic()
    for i in range(0, len(items), 100):
        svc.process(items[i:i + 100])
    elapsed = time.monotonic() - t0
    replies = [it.future.result(0) for it in items]
    issued = sum(1 for r in replies if r["ok"])
    limited = sum(1 for r in replies if not r["ok"] and r["error"]["code"] == "rate_limited")
    assert limited > 0 and issued + limited == len(items)
    assert issued <= limiter.burst + limiter.rate * elapsed + 1
    other = site.device("kiosk", "k1").request("ticket.issue", {"sector": "kinh-doanh"})
    assert other["ok"], "one stuck kiosk blocked the others"
    print(f"stuck button: {issued} issued, {limited} rate_limited in {elapsed:.2f} s "
          f"(burst {limiter.burst:g}, {limiter.rate:g}/s)")


def test_tracking_tokens_are_unguessable(site):
    kiosk = site.device("kiosk", "k1", client_id="token-kiosk")
    tokens = []
    for _ in range(40):
        reply = kiosk.request("ticket.issue", {"sector": "lao-dong-xa-hoi"})
        if reply["ok"]:
            tokens.append(reply["result"]["ticket"]["track_url"].rsplit("/", 1)[1])
    assert len(tokens) >= 20 and len(set(tokens)) == len(tokens)
    for t in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", t), t          # token_urlsafe(16): 128 random bits
    client = site.server.app.test_client()
    for _ in range(50):
        guess = secrets.token_urlsafe(16)
        assert client.get(f"/t/{guess}").status_code == 404
        assert client.post(f"/api/v1/tickets/{guess}/cancel").status_code == 404
    # the ticket number alone never finds a ticket
    number = kiosk.request("ticket.issue", {"sector": "lao-dong-xa-hoi"})["result"]["ticket"]["number"]
    assert client.get(f"/t/{number}").status_code == 404


def test_deep_nested_json_bodies_are_a_400_not_a_500(site):
    client = site.server.app.test_client()
    auth = {"Authorization": f"Bearer {site.api_token}"}
    for path in ("/api/v1/site/auto", "/api/v1/counters/q1/status", "/api/v1/counters/q1/sectors"):
        resp = client.post(path, data=b"[" * 60_000, content_type="application/json", headers=auth)
        assert resp.status_code == 400, (path, resp.status_code)


def test_a_stuck_kiosk_cannot_empty_a_sector_in_a_working_day(site):
    from queue_server.limits import RateLimiter
    svc = site.service
    limiter = RateLimiter(svc.ticket_limiter.rate, svc.ticket_limiter.burst)  # the same limits, simulated clock
    allowed = 0
    t = 0.0
    while t < 7.5 * 3600 and allowed < 10_000:                   # a button stuck all day, 20 presses a second
        allowed += limiter.allow("kiosk/k1", t)
        t += 0.05
    assert allowed < 9_999, f"a stuck kiosk got {allowed} tickets after {t:.0f} s"


def test_cookies_are_secure_behind_https(tmp_path):
    from queue_server.config import load_site
    from queue_server.service import QueueService
    from queue_server.store import EventStore
    from queue_server.web.app import WebSettings, create_app
    svc = QueueService(load_site(), EventStore(str(tmp_path / "db")))
    app = create_app(svc, WebSettings(secret_key="k" * 32, api_token="t" * 32, secure_cookies=True))
    resp = app.test_client().get("/login")      # the login form puts a CSRF token in the session
    cookie = resp.headers.get("Set-Cookie", "")
    assert "session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie, cookie
