"""The real Kivy kiosk under Xvfb, touched like a citizen would, against a real mosquitto.

The real core answers: tests.support.site.RunningSite (mosquitto with the generated users and
ACL, plus the bridge's so the province's advice can arrive; the queue server on SQLite; its web
app for the catalogue). What the server issued is read back as events from its store; the
printer is escpos Dummy.
Screenshots of the main screens go to a temporary folder; with MOTCUA_SCREENSHOTS=1 they refresh
docs/screenshots/ (committed for readers), so a test run never changes tracked files.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from kiosk.texts import slot_text
from protocol.messages import SectorStats

ROOT = Path(__file__).resolve().parents[2]
SHOTS = (ROOT / "docs" / "screenshots" if os.environ.get("MOTCUA_SCREENSHOTS")
         else Path(tempfile.mkdtemp(prefix="motcua-kiosk-shots-")))
DEMO_SITE = ROOT / "queue_server" / "sites" / "demo-district.yaml"
W, H = 800, 480

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]   # the Kivy kiosk under Xvfb, screen after screen


def _start_xvfb():
    """An Xvfb of our own unless a DISPLAY is already given (e.g. under xvfb-run)."""
    if os.environ.get("DISPLAY"):
        return None
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 10
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        chunk = os.read(read_fd, 16)
        if not chunk:
            break
        number += chunk
    os.close(read_fd)
    os.environ["DISPLAY"] = f":{number.decode().strip()}"
    return proc


@pytest.fixture(scope="module")
def kiosk_ui(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosk-ui")
    saved_env = {k: os.environ.get(k) for k in ("DISPLAY", "KIVY_HOME", "KIVY_NO_ARGS", "KIVY_NO_CONSOLELOG")}
    with contextlib.ExitStack() as stack:
        # every step registers its own undo, so a failing set-up leaves no Xvfb or broker behind
        stack.callback(_restore_env, saved_env)
        xvfb = _start_xvfb()
        if xvfb is not None:
            stack.callback(_stop_process, xvfb)
        os.environ["KIVY_HOME"] = str(tmp / "kivy-home")
        os.environ["KIVY_NO_ARGS"] = "1"
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
        from firmware_config.device_config import ScreenSettings, parse_device_config
        from motcua.kivy_window import configure_screen
        configure_screen(ScreenSettings(width=W, height=H), windowed=True)

        import secrets
        from firmware_config import bridge
        from firmware_config.broker import acl_text, password_file
        from tests.support.site import RunningSite
        from tests.support.open_site import open_now
        # open now, whatever the hour: else the kiosk rightly says "past closing" before printing
        running = RunningSite(tmp / "site", open_now(DEMO_SITE, tmp))
        site = running.site
        # the bridge's user and ACL as provisioning adds them, so the nearby test publishes as the bridge
        running.creds = dict(running.creds, bridge={"username": bridge.BRIDGE_LOCAL_USER,
                                                    "password": secrets.token_urlsafe(18)})
        password_file(running.creds, running.files.passwd)
        running.files.acl.write_text(acl_text(site, bridge.bridge_local_acl(site.id) + bridge.nearby_readers_acl(site)))
        running.start()
        stack.callback(running.stop)
        other = running.device("kiosk", "k2")       # citizens already waiting: 4 for civil status, 9 for land
        for sector, n in (("tu-phap-ho-tich", 4), ("dat-dai", 9)):
            for _ in range(n):
                assert other.request("ticket.issue", {"sector": sector})["ok"]
        user, password = running.credentials("kiosk", "k1")

        from kivy.base import EventLoop
        from kivy.core.window import Window
        from kiosk.app import KioskApp, ui_post
        from kiosk.runtime import build_kiosk
        config = parse_device_config({"site": site.id, "id": "k1",
                                      "mqtt": {"url": running.broker_url, "username": user, "password": password},
                                      "server_url": running.http_url, "printer": {"kind": "dummy"},
                                      "speech": {"enabled": False}}, "kiosk")
        kiosk = build_kiosk(config, cache_dir=tmp / "cache", post=ui_post, with_buttons=False)
        kiosk.vm.settings.request_timeout_s = 2.0
        kiosk.start(wait=5)
        stack.callback(kiosk.stop)
        Window.size = (W, H)           # in case a window of another size already exists in this process
        for child in list(Window.children):
            Window.remove_widget(child)
        app = KioskApp(kiosk.vm)
        app._run_prepare()
        stack.callback(app.stop)
        EventLoop.ensure_window()
        ui = UI(app, kiosk, running)
        ui.pump(0.3)
        yield ui


def _restore_env(saved: dict) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class UI:
    def __init__(self, app, kiosk, running):
        self.app, self.kiosk, self.vm, self.running = app, kiosk, kiosk.vm, running

    def issued(self) -> list[dict]:
        """The tickets the server issued to this kiosk, from its store's `ticket.issued` events."""
        from queue_server.domain.events import TICKET_ISSUED
        return [e.data["ticket"] for e in self.running.events(TICKET_ISSUED) if e.device == "kiosk/k1"]

    def guided(self) -> list:
        from queue_server.domain.events import GUIDANCE_GIVEN
        return self.running.events(GUIDANCE_GIVEN)

    def pump(self, seconds: float = 0.05) -> None:
        from kivy.base import EventLoop
        end = time.monotonic() + seconds
        while True:
            EventLoop.idle()
            if time.monotonic() >= end:
                return
            time.sleep(0.01)

    def wait(self, pred, timeout: float = 8.0, what: str = "condition") -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.02)
            if pred():
                return
        raise AssertionError(f"timed out waiting for {what}; screen={self.vm.screen}")

    def screen(self):
        return self.app.screens[self.vm.screen]

    def tap(self, widget) -> None:
        from kivy.tests.common import UnitTestTouch
        assert widget.opacity > 0 and not widget.disabled, f"{widget} is hidden or disabled"
        x, y = widget.to_window(*widget.center)
        assert 0 <= x <= W and 0 <= y <= H, f"{widget} centre {x, y} is off the screen"
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(0.03)
        touch.touch_up()
        self.pump(0.05)

    def find(self, cls_name: str, **attrs):
        for w in self.screen().walk():
            if type(w).__name__ == cls_name and all(getattr(w, k, None) == v for k, v in attrs.items()):
                return w
        raise AssertionError(f"no {cls_name} {attrs} on screen {self.vm.screen}")

    def home(self) -> None:
        self.vm.go_home()
        self.wait(lambda: self.app.root.current == "home", what="home")
        self.pump(0.1)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.pump(0.15)
        path = SHOTS / name
        self.app.root.export_to_png(str(path))
        return path

    def assert_fits(self) -> None:
        """Every visible widget lies inside 800x480 and no button's text overflows it."""
        from kivy.uix.button import Button
        from kivy.uix.scrollview import ScrollView
        scrolled = set()
        for sv in self.screen().walk():
            if isinstance(sv, ScrollView):
                scrolled.update(id(w) for w in sv.walk() if w is not sv)
        for w in self.screen().walk():
            if w.opacity == 0 or w.width <= 1 or w.height <= 1 or id(w) in scrolled:
                continue
            x0, y0 = w.to_window(w.x, w.y)
            assert -1 <= x0 and x0 + w.width <= W + 1 and -1 <= y0 and y0 + w.height <= H + 1, \
                f"{type(w).__name__} {getattr(w, 'text', '')[:40]!r} at {(x0, y0, w.width, w.height)} leaves the screen"
            if isinstance(w, Button) and w.text:
                tw, th = w.texture_size
                assert th <= w.height + 2 and tw <= w.width + 2, \
                    f"button text {w.text[:50]!r} ({tw}x{th}) overflows its {w.width}x{w.height} button"


def test_home_to_printed_ticket_in_three_taps(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    ui.wait(lambda: ui.vm.stats.get("dat-dai", {}).get("waiting") == 9, what="live sector stats")
    ui.pump(0.2)
    assert ui.app.root.current == "home"
    ui.assert_fits()
    ui.shot("kiosk-home.png")
    issued_before = len(ui.issued())
    before = len(ui.kiosk.printer._printer().output)

    ui.tap(ui.find("SectorTile", sector_id="tu-phap-ho-tich"))                 # tap 1
    ui.wait(lambda: ui.app.root.current == "procedures", what="procedures")
    ui.pump(0.1)
    ui.assert_fits()
    ui.tap(ui.find("ProcedureRow", procedure_id="khai-sinh"))                  # tap 2
    ui.wait(lambda: ui.app.root.current == "procedure", what="procedure card")
    ui.pump(0.1)
    card = ui.screen()
    assert "Giấy chứng sinh" in card.documents and "miễn phí" in card.facts
    ui.assert_fits()
    ui.shot("kiosk-procedure.png")
    ui.tap(card.ids.take)                                                      # tap 3
    ui.wait(lambda: ui.vm.print_status == "ok", what="ticket printed")
    ui.pump(0.2)
    assert ui.app.root.current == "ticket"
    assert len(ui.issued()) == issued_before + 1
    ticket = ui.issued()[-1]
    assert ticket["sector"] == "tu-phap-ho-tich" and ticket["procedure"] == "khai-sinh"
    assert ui.screen().number == ticket["number"]
    assert len(ui.kiosk.printer._printer().output) > before + 5000   # a raster ticket went to the printer
    ui.assert_fits()
    ui.shot("kiosk-ticket.png")


def test_ticket_screen_goes_home_by_itself(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    ui.vm.settings.ticket_home_s = 0.5
    try:
        ui.tap(ui.find("SectorTile", sector_id="kinh-doanh"))
        ui.wait(lambda: ui.app.root.current == "procedures")
        ui.tap(ui.screen().ids.take)    # 2 taps: a ticket for the whole field
        ui.wait(lambda: ui.vm.print_status == "ok", what="printed")
        ui.wait(lambda: ui.app.root.current == "home", timeout=5, what="auto home")
    finally:
        ui.vm.settings.ticket_home_s = 12


def test_search_without_diacritics_on_the_letter_keys(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    ui.tap(ui.find("SearchTile"))
    ui.wait(lambda: ui.app.root.current == "procedures")
    ui.pump(0.1)
    assert ui.screen().keyboard_open
    for ch in "khai s":
        ui.tap(ui.find("KeyButton", key=ch))
    assert ui.vm.query == "khai s"
    ui.pump(0.1)
    rows = [w.procedure_id for w in ui.screen().walk() if type(w).__name__ == "ProcedureRow"]
    assert rows == ["khai-sinh"]
    ui.assert_fits()
    ui.shot("kiosk-search.png")


def test_priority_ticket_in_three_taps(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    ui.tap(ui.screen().ids.priority)                                           # tap 1
    ui.wait(lambda: ui.app.root.current == "priority")
    ui.pump(0.1)
    ui.tap(ui.find("GroupButton", group="elderly"))                             # tap 2
    ui.pump(0.1)
    ui.assert_fits()
    ui.shot("kiosk-priority.png")
    ui.tap(ui.find("PrioritySectorButton", sector_id="dat-dai"))               # tap 3
    ui.wait(lambda: ui.vm.print_status == "ok", what="priority ticket printed")
    assert ui.issued()[-1]["priority"] == "elderly"
    assert ui.issued()[-1]["sector"] == "dat-dai"


def test_online_guidance_with_qr_and_gentle_long_wait_hint(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    ui.vm.on_sector_stats("ly-lich-tu-phap", SectorStats(waiting=30, shown_wait_s=3 * 3600))
    ui.tap(ui.find("SectorTile", sector_id="ly-lich-tu-phap"))
    ui.wait(lambda: ui.app.root.current == "procedures")
    ui.tap(ui.find("ProcedureRow", procedure_id="phieu-lltp-1"))
    ui.wait(lambda: ui.app.root.current == "procedure")
    ui.pump(0.1)
    assert "trực tuyến" in ui.screen().hint          # the wait is long and it is fully online
    ui.assert_fits()
    guided = len(ui.guided())
    ui.tap(ui.screen().ids.online)
    ui.wait(lambda: ui.vm.guidance_status == "ready", what="guidance reply")
    ui.pump(0.2)
    assert len(ui.guided()) == guided + 1     # the centre counts the citizen guided online
    screen = ui.screen()
    assert screen.qr_texture is not None and screen.portal_url.startswith("https://")
    ui.assert_fits()
    ui.shot("kiosk-guidance.png")
    out_before = len(ui.kiosk.printer._printer().output)
    ui.tap(screen.ids.print_guide)
    ui.wait(lambda: ui.vm.guidance_print_status == "ok", what="guide printed")
    assert len(ui.kiosk.printer._printer().output) > out_before + 5000


def test_server_not_answering_then_retry_issues_exactly_one_ticket(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    from protocol.topics import Topics
    from tests.support.mqtt_peer import Peer
    ui.running.stop_server()               # the server is gone: the kiosk's requests go unanswered
    # listening as the server would (its user), to see every resend the kiosk makes meanwhile
    listener = Peer(ui.running.mqtt_port, ui.running.creds["server"]["username"],
                    ui.running.creds["server"]["password"], topics=[Topics(ui.running.site.id).all_kiosk_cmds])
    try:
        issued = len(ui.issued())
        ui.tap(ui.find("SectorTile", sector_id="xay-dung"))
        ui.wait(lambda: ui.app.root.current == "procedures")
        ui.tap(ui.screen().ids.take)
        ui.wait(lambda: ui.app.root.current == "error", timeout=10, what="error screen")
        ui.pump(0.1)
        err = ui.screen()
        assert err.can_retry and "chưa phản hồi" in err.headline
        ui.assert_fits()
        ui.shot("kiosk-offline.png")
        first_ids = {m.data["req_id"] for m in listener.messages if isinstance(m.data, dict)}
        assert len(first_ids) == 1             # every resend carried the same req_id
    finally:
        listener.close()
        ui.running.start_server()
    ui.wait(lambda: ui.vm.server_online is True, what="server back")
    ui.tap(err.ids.retry)
    ui.wait(lambda: ui.vm.print_status == "ok", what="ticket after retry")
    assert len(ui.issued()) == issued + 1
    tickets = [e for e in ui.running.events("ticket.issued") if e.device == "kiosk/k1"]
    assert tickets[-1].req_id in first_ids     # the retry was the same request, issued once


def test_idle_timeout_returns_home_and_resets_language(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    ui.tap(ui.screen().ids.get("grid").children[-1])   # first sector tile
    ui.wait(lambda: ui.app.root.current == "procedures")
    ui.vm.toggle_lang()
    ui.pump(0.1)
    assert ui.vm.lang == "en"
    ui.assert_fits()                                    # English labels fit too
    old = ui.vm.settings.idle_timeout_s
    ui.vm.settings.idle_timeout_s = 1
    try:
        ui.wait(lambda: ui.app.root.current == "home", timeout=4, what="idle home")
        assert ui.vm.lang == "vi"
    finally:
        ui.vm.settings.idle_timeout_s = old


# Longer than any sector name of the demo site: a province may name a sector like this.
MADE_UP_NAME = {"vi": "Lao động – Thương binh và Xã hội, Bảo hiểm xã hội và Bảo vệ trẻ em có hoàn cảnh đặc biệt",
                "en": "Labour, invalids and social affairs, social insurance and the protection of children in need"}


def _inside(inner, outer, slack: float = 1) -> bool:
    ix, iy = inner.to_window(inner.x, inner.y)
    ox, oy = outer.to_window(outer.x, outer.y)
    return (ox - slack <= ix and ix + inner.width <= ox + outer.width + slack
            and oy - slack <= iy and iy + inner.height <= oy + outer.height + slack)


def _texture_fits(label, slack: float = 1) -> bool:
    tw, th = label.texture_size
    return tw <= label.width + slack and th <= label.height + slack


def test_every_home_tile_shows_its_letter_whatever_the_banner_and_the_name(kiosk_ui):
    """Issue #14: the longest name (G) lost its letter, and a banner took A's and E's too."""
    from kiosk.catalogue import Text
    from kiosk.screens.home import HomeTile
    ui = kiosk_ui
    vm = ui.vm
    ui.home()
    demo = vm.catalogue
    longest = max(demo.sectors, key=lambda s: len(s.name.vi))
    assert longest.prefix == "G"
    made_up = demo.model_copy(update={"sectors": tuple(
        s.model_copy(update={"name": Text(**MADE_UP_NAME)}) if s.id == longest.id else s for s in demo.sectors)})
    banners = {"none": (True, False), "help": (True, True), "offline": (False, False), "both": (False, True)}
    try:
        for catalogue in (demo, made_up):
            vm.set_catalogue(catalogue)
            for lang in ("vi", "en"):
                vm.lang = lang
                for banner, (connected, help_requested) in banners.items():
                    vm.connected, vm.help_requested = connected, help_requested
                    vm._changed()
                    ui.pump(0.15)
                    where = f"{catalogue is made_up and 'made-up' or 'demo'} names, {lang}, banner {banner}"
                    screen = ui.screen()
                    tiles = [w for w in screen.ids.grid.children if isinstance(w, HomeTile)]
                    assert len(tiles) == len(catalogue.sectors) + 1, where
                    for tile in tiles:
                        head = tile.ids.head
                        prefix = catalogue.sector(getattr(tile, "sector_id", None))
                        assert head.opacity > 0 and head.height > 1, where
                        if prefix is not None:
                            assert head.text.endswith(prefix.prefix), (where, head.text)
                        assert _inside(tile, screen) and _inside(head, tile), (where, head.text)
                        assert _texture_fits(head), (where, head.text, head.texture_size, head.size)
                        for part in (tile.ids.name, tile.ids.wait):
                            assert _inside(part, tile) and _texture_fits(part), (where, part.text[:40])
                    for bar, shown in ((screen.ids.banners.ids.alert_bar, not connected),
                                       (screen.ids.banners.ids.help_bar, help_requested)):
                        assert bool(bar.text) == shown, where
                        if shown:
                            assert _texture_fits(bar) and _inside(bar, screen), (where, bar.texture_size, bar.size)
                    if catalogue is made_up and lang == "vi" and banner == "both":
                        ui.shot("kiosk-home-banners.png")
    finally:
        vm.connected, vm.help_requested, vm.lang = True, False, "vi"
        vm.set_catalogue(demo)
        ui.pump(0.1)


def test_english_screens_fit_too(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    ui.tap(ui.screen().ids.topbar.ids.lang)
    assert ui.vm.lang == "en"
    ui.pump(0.1)
    ui.assert_fits()
    ui.tap(ui.screen().ids.priority)
    ui.wait(lambda: ui.app.root.current == "priority")
    ui.tap(ui.find("GroupButton", group="child_under_6"))
    ui.pump(0.1)
    ui.assert_fits()
    ui.vm.open_procedure("cap-gcn-lan-dau")
    ui.wait(lambda: ui.app.root.current == "procedure")
    ui.pump(0.1)
    assert "Documents to bring" == ui.screen().documents_title
    ui.assert_fits()
    ui.tap(ui.screen().ids.take)
    ui.wait(lambda: ui.vm.print_status == "ok")
    ui.pump(0.1)
    ui.assert_fits()
    ui.shot("kiosk-ticket-en.png")
    assert ui.issued()[-1]["procedure"] == "cap-gcn-lan-dau"
    assert ui.issued()[-1]["priority"] == "normal"     # the group tapped earlier did not stick


def test_nearby_centres_with_shorter_waits_on_the_card(kiosk_ui):
    """The province's retained advice (through the broker, as the bridge brings it) on a long wait,
    with a nearby centre's earliest booking and the province portal's page for it as a QR (issue #16)."""
    import json
    from datetime import datetime, timedelta, timezone
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from protocol.topics import ProvinceTopics
    ui = kiosk_ui
    ui.home()
    vn = timezone(timedelta(hours=7))
    slot = (datetime.now(vn) + timedelta(days=2)).replace(hour=8, minute=30, second=0, microsecond=0)
    advice = {"v": 1, "type": "province.nearby", "ts": "2026-11-25T09:00:00+07:00", "site": "demo-district",
              "sector": "dat-dai", "own": {"waiting": 9, "est_wait_s": 3300}, "nearby": [
                  {"site": "phuong-2", "name": {"vi": "Bộ phận một cửa Phường 2", "en": "Ward 2 one-stop desk"},
                   "distance_km": 3.2, "waiting": 2, "est_wait_s": 420,
                   "address": {"vi": "12 Lê Lợi, Phường 2", "en": "12 Le Loi St, Ward 2"},
                   "next_booking": slot.isoformat(), "book_url": "https://datlich.example.vn/book/cung-cap-thong-tin-dat/phuong-2",
                   "bookings": {"cung-cap-thong-tin-dat": {
                       "slot": slot.isoformat(), "url": "https://datlich.example.vn/book/cung-cap-thong-tin-dat/phuong-2"}}},
                  {"site": "xa-an-binh", "name": {"vi": "UBND xã An Bình", "en": "An Binh Commune"},
                   "distance_km": 6.4, "waiting": 4, "est_wait_s": 900,
                   "address": {"vi": "Quốc lộ 1A, xã An Bình", "en": "Highway 1A, An Binh"},
                   # it takes another procedure of the field from anywhere, not this one: no booking offered for it
                   "next_booking": slot.isoformat(), "book_url": "https://datlich.example.vn/book/dang-ky-bien-dong/xa-an-binh",
                   "bookings": {"dang-ky-bien-dong": {
                       "slot": slot.isoformat(), "url": "https://datlich.example.vn/book/dang-ky-bien-dong/xa-an-binh"}}}],
              "title": {"vi": "Điểm tiếp nhận gần đây chờ ít hơn", "en": "Nearby centres with shorter waits"}}
    c = mqtt.Client(CallbackAPIVersion.VERSION2)
    c.username_pw_set(ui.running.creds["bridge"]["username"], ui.running.creds["bridge"]["password"])
    c.connect("127.0.0.1", ui.running.mqtt_port)
    c.loop_start()
    try:
        c.publish(ProvinceTopics().nearby("demo-district", "dat-dai"), json.dumps(advice, ensure_ascii=False),
                  qos=1, retain=True).wait_for_publish(3)
    finally:
        c.disconnect()
        c.loop_stop()
    ui.wait(lambda: "dat-dai" in ui.vm.nearby, what="advice from the broker")
    ui.vm.on_sector_stats("dat-dai", SectorStats(waiting=9, shown_wait_s=3300))   # 55 min: over long_wait_min
    ui.tap(ui.find("SectorTile", sector_id="dat-dai"))
    ui.wait(lambda: ui.app.root.current == "procedures")
    ui.tap(ui.find("ProcedureRow", procedure_id="cung-cap-thong-tin-dat"))
    ui.wait(lambda: ui.app.root.current == "procedure")
    ui.pump(0.2)
    screen = ui.screen()
    assert screen.nearby_title == "Điểm tiếp nhận gần đây chờ ít hơn"
    assert "Bộ phận một cửa Phường 2" in screen.nearby and "12 Lê Lợi" in screen.nearby
    assert screen.ids.nearby.height > 40 and screen.ids.take.opacity == 1   # a ticket is still one tap away
    lines = screen.nearby.split("\n")
    assert "lịch hẹn sớm nhất" in lines[0] and f"{slot:%H:%M}" in lines[0]
    assert "An Bình" in lines[1] and "lịch hẹn" not in lines[1]
    assert "Lịch hẹn sớm nhất tại Bộ phận một cửa Phường 2" in screen.booking_text
    assert screen.booking_url.endswith("/book/cung-cap-thong-tin-dat/phuong-2") and screen.booking_qr is not None
    assert screen.ids.booking_qr.height > 100
    ui.assert_fits()
    ui.shot("kiosk-nearby.png")
    ui.vm.toggle_lang()
    ui.pump(0.1)
    assert screen.nearby_title == "Nearby centres with shorter waits" and "Ward 2 one-stop desk" in screen.nearby
    ui.assert_fits()
    ui.tap(screen.ids.take)
    ui.wait(lambda: ui.vm.print_status == "ok", what="ticket despite the advice")
    assert ui.issued()[-1]["procedure"] == "cung-cap-thong-tin-dat"


def test_a_visit_of_two_procedures_listed_then_one_ticket_in_the_servers_order(kiosk_ui):
    """Issue #18: "+ Thêm thủ tục khác" on a card, the list, a second field, one ticket for both."""
    ui = kiosk_ui
    ui.home()
    ui.tap(ui.find("SectorTile", sector_id="tu-phap-ho-tich"))
    ui.wait(lambda: ui.app.root.current == "procedures")
    ui.tap(ui.find("ProcedureRow", procedure_id="khai-sinh"))
    ui.wait(lambda: ui.app.root.current == "procedure")
    ui.pump(0.1)
    ui.assert_fits()
    ui.tap(ui.screen().ids.add)                                   # "+ Thêm thủ tục khác"
    ui.wait(lambda: ui.app.root.current == "visit", what="the list")
    ui.pump(0.1)
    rows = [w for w in ui.screen().walk() if type(w).__name__ == "VisitRow"]
    assert len(rows) == 1 and "Đăng ký khai sinh" in rows[0].text
    ui.tap(ui.screen().ids.add)                                   # "+ Thêm thủ tục": home, list kept
    ui.wait(lambda: ui.app.root.current == "home", what="home with the list")
    ui.pump(0.1)
    assert ui.screen().ids.visit.text == "Danh sách của bạn: 1 thủ tục"
    ui.assert_fits()
    ui.tap(ui.find("SectorTile", sector_id="dat-dai"))
    ui.wait(lambda: ui.app.root.current == "procedures")
    ui.tap(ui.find("ProcedureRow", procedure_id="cung-cap-thong-tin-dat"))
    ui.wait(lambda: ui.app.root.current == "procedure")
    ui.tap(ui.screen().ids.add)
    ui.wait(lambda: len(ui.vm.visit_items) == 2 and ui.app.root.current == "visit", what="two on the list")
    ui.pump(0.2)
    ui.assert_fits()
    ui.shot("kiosk-visit-list.png")
    issued = len(ui.issued())
    ui.tap(ui.screen().ids.take)                                  # one ticket for both
    ui.wait(lambda: ui.vm.print_status == "ok", what="visit ticket printed")
    ui.pump(0.2)
    assert len(ui.issued()) == issued + 1
    order = [(p["sector"], p["procedure"]) for p in ui.issued()[-1]["visit"]]
    assert sorted(order) == [("dat-dai", "cung-cap-thong-tin-dat"), ("tu-phap-ho-tich", "khai-sinh")]
    screen = ui.screen()
    names = {"khai-sinh": "Đăng ký khai sinh", "cung-cap-thong-tin-dat": "Cung cấp thông tin đất đai"}
    lines = screen.visit.splitlines()
    assert [names[p] in line for line, (_, p) in zip(lines, order)] == [True, True]   # the server's order
    assert screen.visit_end.startswith("Dự kiến xong tất cả sau:")
    ui.assert_fits()
    ui.shot("kiosk-visit-ticket.png")


def test_caps_and_past_closing_are_said_before_printing(kiosk_ui):
    ui = kiosk_ui
    ui.home()
    slot = (ui.vm.wall() + timedelta(days=1)).astimezone(timezone(timedelta(hours=7))).replace(
        hour=8, minute=30, second=0, microsecond=0)
    ui.vm.on_sector_stats("ly-lich-tu-phap", SectorStats(waiting=3, shown_wait_s=600, remaining_today=0,
                                                         procedures_next_booking={"phieu-lltp-1": slot.isoformat()}))
    ui.pump(0.1)
    assert ui.find("SectorTile", sector_id="ly-lich-tu-phap").wait == "Hôm nay đã hết số"
    issued = len(ui.issued())
    ui.tap(ui.find("SectorTile", sector_id="ly-lich-tu-phap"))
    ui.wait(lambda: ui.app.root.current == "procedures")
    ui.tap(ui.find("ProcedureRow", procedure_id="phieu-lltp-1"))
    ui.wait(lambda: ui.app.root.current == "procedure")
    ui.tap(ui.screen().ids.take)
    ui.wait(lambda: ui.app.root.current == "notice", what="the cap notice")
    ui.pump(0.1)
    screen = ui.screen()
    assert screen.headline == "Hôm nay đã hết số thứ tự cho Lý lịch tư pháp"
    assert screen.ids.insist.opacity == 0 and screen.ids.online.opacity == 1   # no ticket; filing online
    # the field's cap: the earliest booking of the procedure asked for, and its page's QR
    assert screen.booking == f"Lịch hẹn sớm nhất: {slot_text(slot, 'vi')}"
    assert screen.booking_url == f"{ui.vm.catalogue.site.book_url}/phieu-lltp-1" and screen.booking_qr is not None
    ui.assert_fits()
    ui.shot("kiosk-cap.png")
    ui.tap(screen.ids.home)
    ui.wait(lambda: ui.app.root.current == "home")
    ui.vm.on_sector_stats("ly-lich-tu-phap", SectorStats(waiting=3, shown_wait_s=600))   # as before
    ui.vm.on_sector_stats("xay-dung", SectorStats(waiting=2, shown_wait_s=600, past_closing=True))
    ui.tap(ui.find("SectorTile", sector_id="xay-dung"))
    ui.wait(lambda: ui.app.root.current == "procedures")
    ui.tap(ui.screen().ids.take)
    ui.wait(lambda: ui.app.root.current == "notice", what="the past-closing notice")
    ui.pump(0.1)
    screen = ui.screen()
    assert screen.headline == "Có thể không kịp đến lượt bạn trước giờ đóng cửa hôm nay"
    assert screen.ids.insist.text == "Vẫn lấy số" and len(ui.issued()) == issued   # nothing printed yet
    ui.assert_fits()
    ui.shot("kiosk-past-closing.png")
    ui.vm.toggle_lang()
    ui.pump(0.1)
    assert screen.headline == "You may not be served before closing today"
    ui.assert_fits()
    ui.tap(screen.ids.insist)                                     # "Take it anyway"
    ui.wait(lambda: ui.vm.print_status == "ok", what="the ticket the citizen still wanted")
    assert len(ui.issued()) == issued + 1 and ui.issued()[-1]["sector"] == "xay-dung"


def test_touch_to_ticket_against_the_real_queue_server(kiosk_ui, tmp_path):
    """The same app, now wired to the real server (RunningSite: mosquitto with ACL + queue server)."""
    from kivy.app import App
    from kivy.core.window import Window
    from firmware_config.device_config import parse_device_config
    from kiosk.app import KioskApp, ui_post
    from kiosk.runtime import build_kiosk
    from tests.support.site import RunningSite
    first = kiosk_ui.app
    from tests.support.open_site import open_now
    with RunningSite(tmp_path / "site", open_now(DEMO_SITE, tmp_path)) as running:
        user, password = running.credentials("kiosk", "k2")
        config = parse_device_config({"site": running.site.id, "id": "k2",
                                      "mqtt": {"url": running.broker_url, "username": user, "password": password},
                                      "server_url": running.http_url, "printer": {"kind": "dummy"},
                                      "speech": {"enabled": False}}, "kiosk")
        kiosk = build_kiosk(config, cache_dir=tmp_path / "cache", post=ui_post, with_buttons=False)
        kiosk.start(wait=5)
        # on_stop also clears kv's cached `app`, so handlers reach the new app's view-model
        first.dispatch("on_stop")
        Window.remove_widget(first.root)
        app = KioskApp(kiosk.vm)
        app._run_prepare()
        ui = UI(app, kiosk, running)
        try:
            ui.wait(lambda: ui.vm.server_online is True, what="server online")
            ui.home()
            ui.wait(lambda: len(ui.vm.stats) == 7, what="every sector's retained stats")
            tile = ui.find("SectorTile", sector_id="dat-dai")
            ui.tap(tile)
            ui.wait(lambda: app.root.current == "procedures")
            ui.tap(ui.screen().ids.take)
            ui.wait(lambda: ui.vm.print_status == "ok", what="ticket from the real server")
            ui.pump(0.1)
            assert ui.screen().number == ui.vm.ticket.number and ui.vm.ticket.number.startswith("C")
            board = running.http_get("/api/v1/board")
            assert next(x for x in board["sectors"] if x["id"] == "dat-dai")["waiting"] == 1
        finally:
            app.dispatch("on_stop")
            Window.remove_widget(app.root)
            kiosk.stop()
            App._running_app = first
            Window.add_widget(first.root)


def test_screenshots_are_not_blank():
    from PIL import Image
    for name in ("kiosk-home.png", "kiosk-ticket.png"):
        path = SHOTS / name
        if not path.exists():
            pytest.fail(f"{name} was not written (run the whole module)")
        img = Image.open(path).convert("L")
        assert img.size == (W, H)
        lo, hi = img.getextrema()
        assert hi - lo > 150, f"{name} looks blank"
