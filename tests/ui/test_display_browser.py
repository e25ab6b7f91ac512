"""The browser display /display in headless Chromium (Playwright), live from a real site's SSE stream:
a call made by a counter appears on the page; the network going away shows "Mất kết nối", and it recovers;
at every wall-display size the grid is on screen under the page's own CSP; the clock is the site's."""
from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.audio import wav_seconds
from tests.support.browser import CHROMIUM
from tests.support.site import RunningSite

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")

# TVs the display must fill: 16:9 at three resolutions, and one hung upright
SIZES = [(1920, 1080), (1366, 768), (1280, 720), (1080, 1920)]


@pytest.fixture(scope="module")
def busy_site(tmp_path_factory):
    """The demo site (8 counters, 7 sectors) with people waiting and two counters serving."""
    with RunningSite(tmp_path_factory.mktemp("display-site")) as site:
        kiosk = site.device("kiosk", "k1")
        for sector in ("tu-phap-ho-tich", "dat-dai", "tu-phap-ho-tich", "ly-lich-tu-phap"):
            assert kiosk.request("ticket.issue", {"sector": sector})["ok"]
        for counter in ("q4", "q2"):
            assert site.device("counter", counter).request("call.next")["ok"]
        yield site


def open_display(browser, site, width, height, **context_args):
    """/display in a fresh context, with every console message and page error collected (a CSP
    refusal is a console error)."""
    context = browser.new_context(viewport={"width": width, "height": height}, **context_args)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(site.http_url + "/display?sound=off")
    page.wait_for_selector('.tile[data-counter="q2"][data-number="A001"]', timeout=10_000)
    return context, page, problems


GEOMETRY = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const part = e => ({text: e.textContent, box: box(e), clipped: e.scrollWidth > e.clientWidth + 1});
  const card = (e, inner, parts) => ({id: e.getAttribute('data-counter') || e.getAttribute('data-sector'),
    box: box(e.querySelector(inner)), parts: Array.from(e.querySelectorAll(parts)).map(part)});
  return {
    tiles: Array.from(document.querySelectorAll('.tile')).map(e => card(e, '.tile-in', '.label, .number')),
    sectors: Array.from(document.querySelectorAll('.sector')).map(e => card(e, '.sector-in', '.name-vi, .name-en, .nums')),
    area: box(document.getElementById('tiles')),
    recent: box(document.getElementById('recent-box')),
  };
}"""


def inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (inner["l"] >= outer["l"] - slack and inner["t"] >= outer["t"] - slack
            and inner["r"] <= outer["r"] + slack and inner["b"] <= outer["b"] + slack)


def overlap(a: dict, b: dict) -> bool:
    return min(a["r"], b["r"]) - max(a["l"], b["l"]) > 0.5 and min(a["b"], b["b"]) - max(a["t"], b["t"]) > 0.5


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_tile_and_sector_card_is_on_screen(busy_site, browser, width, height):
    """Issue #14: under the page's CSP (style-src 'self') the tiles collapsed into a strip and the last
    sector card fell off a 720p screen. At each size: no console error, every tile and card inside the
    viewport, none overlapping, every label and number inside its tile, the tiles filling their area."""
    context, page, problems = open_display(browser, busy_site, width, height)
    g = page.evaluate(GEOMETRY)
    if os.environ.get("MOTCUA_SCREENSHOTS") and height > width:
        page.screenshot(path=str(DOCS / "display-browser-portrait.png"))
    context.close()
    screen = {"l": 0, "t": 0, "r": width, "b": height}
    assert len(g["tiles"]) == 8 and len(g["sectors"]) == 7
    cards = g["tiles"] + g["sectors"]
    for c in cards:
        assert inside(c["box"], screen), f"{c['id']} is off the screen: {c['box']}"
        for p in c["parts"]:
            assert inside(p["box"], c["box"]), f"{p['text']!r} sticks out of {c['id']}: {p['box']} vs {c['box']}"
    for c in g["tiles"]:
        for p in c["parts"]:
            assert not p["clipped"], f"{p['text']!r} is cut short in {c['id']}"
    for i, a in enumerate(cards):
        for b in cards[i + 1:]:
            assert not overlap(a["box"], b["box"]), f"{a['id']} overlaps {b['id']}"
    assert inside(g["recent"], screen)
    # the tiles fill the space set aside for them (the collapsed strip filled a fifth of it)
    tiles_bottom = max(c["box"]["b"] for c in g["tiles"])
    area = g["area"]
    assert tiles_bottom >= area["b"] - 0.05 * (area["b"] - area["t"]), (tiles_bottom, area)
    assert problems == []


def test_clock_shows_the_site_time_zone_not_the_tv_one(busy_site, browser):
    """Issue #14: a TV set to UTC showed UTC. The site is in Asia/Ho_Chi_Minh (UTC+7): so is the clock."""
    zone = busy_site.site.site.tz
    assert busy_site.site.site.timezone == "Asia/Ho_Chi_Minh"
    before = datetime.now(zone)
    context, page, problems = open_display(browser, busy_site, 1920, 1080, timezone_id="UTC")
    page.wait_for_function("document.getElementById('time').textContent.length > 0")
    shown_time, shown_date = page.inner_text("#time"), page.inner_text("#date")
    after = datetime.now(zone)
    assert page.evaluate("new Date().getTimezoneOffset()") == 0   # the browser really is in UTC
    context.close()
    weekdays = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
    expected = {(t.strftime("%H:%M"), f"{weekdays[t.weekday()]}, {t:%d/%m/%Y}")
                for t in (before, after, before + (after - before) / 2)}
    assert (shown_time, shown_date) in expected
    assert problems == []


def test_call_by_a_counter_appears_live(tmp_path, browser):
    with RunningSite(tmp_path / "site") as site:
        kiosk = site.device("kiosk", "k1")
        for sector in ("tu-phap-ho-tich", "dat-dai", "tu-phap-ho-tich"):
            assert kiosk.request("ticket.issue", {"sector": sector})["ok"]
        assert site.device("counter", "q4").request("call.next")["ok"]

        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(site.http_url + "/display?health=1")   # check the server every second (10 s by default)
        # the stream sends the current board first
        page.wait_for_selector('.tile[data-counter="q4"][data-number="C001"]', timeout=10_000)
        assert page.inner_text("#site-vi") == "Trung tâm Phục vụ hành chính công (mẫu)"
        assert "Đang phục vụ" in page.inner_text("#banner-vi")
        assert page.locator(".tile").count() == 8
        assert "2 người chờ" in page.inner_text('.sector[data-sector="tu-phap-ho-tich"]')

        # a counter calls: the page shows it within a moment, highlighted, with the banner
        reply = site.device("counter", "q2").request("call.next")
        number = reply["result"]["ticket"]["number"]
        page.wait_for_selector(f'.tile.hl[data-counter="q2"][data-number="{number}"]', timeout=5_000)
        assert page.get_attribute("#banner", "class") == "call"
        assert page.inner_text("#banner-vi") == f"Mời số {number} đến Quầy 2"
        assert page.inner_text("#banner-en") == f"Number {number}, please go to Counter 2"
        assert number in page.inner_text("#recent")
        page.screenshot(path=str(tmp_path / "display-browser.png"))
        if os.environ.get("MOTCUA_SCREENSHOTS"):
            shutil.copy(tmp_path / "display-browser.png", DOCS / "display-browser.png")

        # the TV loses the network: connection lost; meanwhile q1 calls; back online: the page
        # recovers by itself and shows the state it missed (a fresh stream starts with the board)
        context.set_offline(True)
        page.wait_for_selector("#banner.offline", timeout=10_000)
        assert page.inner_text("#banner-vi").startswith("Mất kết nối")
        missed = site.device("counter", "q1").request("call.next")["result"]["ticket"]["number"]
        context.set_offline(False)
        page.wait_for_selector(f'.tile[data-counter="q1"][data-number="{missed}"]', timeout=15_000)
        page.wait_for_selector("#banner:not(.offline)", timeout=5_000)
        assert errors == []
        context.close()


def test_page_without_server_data_says_so_in_both_languages(tmp_path, browser):
    """A stub app with only the blueprint and a stream that never sends: the page waits, politely."""
    from flask import Flask, Response

    from queue_server.web.display_bp import bp
    from tests.support.broker import free_port
    from werkzeug.serving import make_server
    import threading

    app = Flask(__name__)
    app.register_blueprint(bp)

    @app.get("/api/v1/stream")
    def stream():
        return Response("retry: 500\n\n: nothing yet\n\n", mimetype="text/event-stream")

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"http://127.0.0.1:{port}/display")
        assert page.evaluate("document.documentElement.lang") == "vi"
        page.wait_for_function("document.getElementById('banner-vi').textContent.length > 0")
        text = page.inner_text("#banner-vi")
        assert text in ("Đang chờ dữ liệu từ máy chủ", "Mất kết nối · Đang kết nối lại…")
        page.close()
    finally:
        server.shutdown()


# What a TV browser that refuses sound before a gesture does (headless Chromium plays at once,
# whatever --autoplay-policy says): play() is rejected with NotAllowedError until a click.
REFUSE_SOUND_UNTIL_CLICK = """(() => {
  let allowed = false;
  const real = HTMLMediaElement.prototype.play;
  document.addEventListener("click", () => { allowed = true; }, true);
  HTMLMediaElement.prototype.play = function () {
    return allowed ? real.call(this) : Promise.reject(new DOMException("needs a gesture", "NotAllowedError"));
  };
})();"""


@pytest.mark.slow     # real speech synthesis, heard through the page
@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")
def test_calls_are_heard_and_a_silent_tv_offers_a_button(tmp_path, browser):
    """Each call plays the server's announce.wav (chime + Vietnamese sentence from espeak-ng), one
    after another; a browser that refuses sound before a gesture shows a bilingual button, and a
    tap plays what was waiting."""
    from motcua.speech import RATE, chime_frames_cached
    chime_s = len(chime_frames_cached()) / 2 / RATE
    with RunningSite(tmp_path / "site") as site:
        kiosk = site.device("kiosk", "k1")
        for _ in range(4):   # two calls for each page below
            assert kiosk.request("ticket.issue", {"sector": "tu-phap-ho-tich"})["ok"]
        http = site.server.app.test_client()
        # the endpoint: bad input gets a clear error in both languages, never a crash
        bad = http.get("/display/announce.wav?number=A0%3Cscript%3E&counter=q1")
        assert bad.status_code == 400 and bad.json["error"]["message_vi"].startswith("Số thứ tự")
        assert http.get("/display/announce.wav?number=A001&counter=nope").status_code == 404

        for refuses in (False, True):
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            if refuses:
                context.add_init_script(REFUSE_SOUND_UNTIL_CLICK)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            wavs: list = []
            page.on("response", lambda r: wavs.append(r) if "/display/announce.wav" in r.url else None)
            page.goto(site.http_url + "/display")
            page.wait_for_selector('body[data-sound="ready"]', timeout=10_000)
            page.wait_for_selector(".tile", timeout=10_000)
            calls = []
            for counter in ("q1", "q2"):
                reply = site.device("counter", counter).request("call.next")
                assert reply["ok"], reply
                calls.append((reply["result"]["ticket"]["number"], counter))
            if refuses:
                page.wait_for_selector('body[data-sound="blocked"]', timeout=10_000)
                assert page.is_visible("#sound-on")
                assert page.inner_text("#sound-on-vi") == "Chạm để bật âm thanh"
                assert page.inner_text("#sound-on-en") == "Tap to turn the sound on"
                page.click("#sound-on")
                assert not page.is_visible("#sound-on")
            # both calls are played, in order, each to its end (about 6 s each)
            page.wait_for_selector('body[data-announced="2"]', timeout=40_000)
            asked = [r.url.split("?", 1)[1] for r in wavs]
            assert asked[0] == f"number={calls[0][0]}&counter={calls[0][1]}"
            assert asked[-1] == f"number={calls[1][0]}&counter={calls[1][1]}"
            last = wavs[-1]
            assert last.headers["content-type"] == "audio/wav" and last.headers["x-motcua-voice"] == "espeak-ng"
            # the chime, then a spoken sentence of a few seconds ("Mời công dân có số thứ tự ...")
            assert wav_seconds(last.body()) > chime_s + 2.0
            assert page.get_attribute("body", "data-sound") == "on" and errors == []
            context.close()
