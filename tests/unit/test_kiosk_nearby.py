"""Nearby centres with shorter waits (province advice) on the procedure card, and who rotates the screen."""
from __future__ import annotations

import pytest

from firmware_config.device_config import ScreenSettings
from kiosk.catalogue import parse_catalogue
from queue_server.catalogue import catalogue_document
from queue_server.config import load_site
from queue_server.domain.state import SiteState
from kiosk.replies import nearby_options
from protocol.messages import ProvinceNearby, SectorStats, parse
from tests.support.kiosk_fakes import DEMO, make


def _demo_document() -> dict:
    """The real server's catalogue document for the demo site, before anyone came."""
    site = load_site(DEMO)
    return catalogue_document(SiteState.initial(site), site)


@pytest.fixture(scope="module")
def catalogue():
    return parse_catalogue(_demo_document())


def advice(*options, sector="dat-dai"):
    """A payload shaped like province/nearby.py publishes it, read as kiosk/link.py reads it."""
    return parse(ProvinceNearby, payload(*options, sector=sector))


def payload(*options, sector="dat-dai"):
    return {"v": 1, "type": "province.nearby", "ts": "2026-11-25T09:00:00+07:00", "site": "demo-district",
            "sector": sector, "own": {"waiting": 14, "est_wait_s": 3000}, "nearby": list(options),
            "title": {"vi": "Điểm tiếp nhận gần đây chờ ít hơn", "en": "Nearby centres with shorter waits"}}


PHUONG_2 = {"site": "phuong-2", "name": {"vi": "Bộ phận một cửa Phường 2", "en": "Ward 2 one-stop desk"},
            "distance_km": 3.24, "waiting": 2, "est_wait_s": 300,
            "address": {"vi": "12 Lê Lợi, Phường 2", "en": "12 Le Loi St, Ward 2"}}
XA_AN_BINH = {"site": "xa-an-binh", "name": {"vi": "UBND xã An Bình", "en": "An Binh Commune"},
              "distance_km": 6.0, "waiting": 5, "est_wait_s": 900, "address": None}


def at_card(vm, wait_s=3000):
    vm.on_sector_stats("dat-dai", SectorStats(waiting=14, shown_wait_s=wait_s))
    vm.open_sector("dat-dai")
    vm.open_procedure("cap-gcn-lan-dau")


def test_long_wait_shows_nearby_centres_on_the_card_and_reads_them(catalogue):
    vm, _, changes = make(catalogue, long_wait_min=30)
    at_card(vm, wait_s=3000)
    assert vm.card()["nearby"] is None                 # no advice yet
    n = len(changes)
    vm.on_nearby("dat-dai", advice(XA_AN_BINH, PHUONG_2))
    assert len(changes) > n                            # the card on screen is told
    near = vm.card()["nearby"]
    assert near["title"] == "Điểm tiếp nhận gần đây chờ ít hơn"
    assert [r["name"] for r in near["rows"]] == ["Bộ phận một cửa Phường 2", "UBND xã An Bình"]  # shortest first
    first = near["rows"][0]
    assert first["address"] == "12 Lê Lợi, Phường 2" and first["distance"] == "cách đây 3,2 km"
    assert first["wait"] == "chờ khoảng 5 phút" and near["rows"][1]["address"] == ""
    assert near["note"] == "Bạn vẫn có thể lấy số thứ tự tại đây."
    said = vm.speech_text()
    assert "Điểm tiếp nhận gần đây chờ ít hơn: Bộ phận một cửa Phường 2, 12 Lê Lợi, Phường 2, cách đây 3,2 km" in said
    assert "UBND xã An Bình, cách đây 6,0 km, chờ khoảng 15 phút" in said
    vm.set_lang("en")
    near = vm.card()["nearby"]
    assert near["title"] == "Nearby centres with shorter waits"
    assert near["rows"][0]["name"] == "Ward 2 one-stop desk" and near["rows"][0]["distance"] == "3.2 km away"
    # advice, not a gate: the ticket is still one tap away
    vm.take_ticket()
    assert vm.screen == "ticket" and vm.ticket.sector == "dat-dai"


def test_short_own_wait_hides_the_advice(catalogue):
    vm, _, _ = make(catalogue, long_wait_min=30)
    at_card(vm, wait_s=1200)                           # 20 min: not long
    vm.on_nearby("dat-dai", advice(PHUONG_2))
    assert vm.nearby["dat-dai"] and vm.card()["nearby"] is None
    assert "gần đây" not in vm.speech_text()
    vm.on_sector_stats("dat-dai", SectorStats(waiting=30, shown_wait_s=2400))   # the queue grows: now it shows
    assert vm.card()["nearby"]["rows"][0]["site"] == "phuong-2"


def test_only_centres_shorter_than_our_own_wait_now(catalogue):
    vm, _, _ = make(catalogue, long_wait_min=10)
    at_card(vm, wait_s=800)
    slow = dict(XA_AN_BINH, est_wait_s=900)           # the province saw us slower than we are now
    vm.on_nearby("dat-dai", advice(slow))
    assert vm.card()["nearby"] is None
    many = [dict(PHUONG_2, site=f"p{i}", est_wait_s=60 * i) for i in range(1, 6)]
    vm.on_nearby("dat-dai", advice(*many))
    assert [r["site"] for r in vm.card()["nearby"]["rows"]] == ["p1", "p2", "p3"]   # a short list


def test_empty_list_clears_and_other_sectors_are_kept_apart(catalogue):
    vm, _, _ = make(catalogue, long_wait_min=30)
    at_card(vm)
    vm.on_nearby("dat-dai", advice(PHUONG_2))
    vm.on_nearby("xay-dung", advice(XA_AN_BINH, sector="xay-dung"))
    assert vm.card()["nearby"]["rows"][0]["site"] == "phuong-2"
    vm.on_nearby("dat-dai", advice())
    assert vm.card()["nearby"] is None and "dat-dai" not in vm.nearby
    assert vm.nearby["xay-dung"][0]["site"] == "xa-an-binh"


@pytest.mark.parametrize("junk", [None, "x", 42, [], {"nearby": "no"}, {"no": []}])
def test_unreadable_advice_clears_instead_of_crashing(catalogue, junk):
    vm, _, _ = make(catalogue, long_wait_min=30)
    at_card(vm)
    vm.on_nearby("dat-dai", advice(PHUONG_2))
    unread = parse(ProvinceNearby, junk)         # as kiosk/link.py reads a message
    assert unread is None
    vm.on_nearby("dat-dai", unread)
    assert vm.card()["nearby"] is None and vm.speech_text()


def test_bad_options_are_dropped_good_ones_kept():
    bad = [None, {"site": 3}, dict(PHUONG_2, distance_km="far"), dict(PHUONG_2, est_wait_s=-5),
           dict(PHUONG_2, distance_km=float("nan")), dict(PHUONG_2, est_wait_s=None),
           dict(PHUONG_2, name=7, address=["x"], waiting=None, site="ok")]
    got = nearby_options(advice(*bad))
    assert [o["site"] for o in got] == ["ok"]
    assert got[0]["name"] == "ok" and got[0]["address"] == "" and got[0]["waiting"] == 0


# --- who rotates the screen (firmware_config ScreenSettings.rotation_by) --------------------

@pytest.fixture
def kivy_graphics(tmp_path, monkeypatch):
    """Kivy's Config without a window; the graphics section put back afterwards for other tests."""
    monkeypatch.setenv("KIVY_HOME", str(tmp_path / "kivy"))
    monkeypatch.setenv("KIVY_NO_ARGS", "1")
    from kivy.config import Config
    saved = dict(Config.items("graphics"))
    yield Config
    for key, value in saved.items():
        Config.set("graphics", key, value)


@pytest.mark.parametrize("rotation_by, expected", [("app", "90"), ("os", "0")])
def test_kiosk_rotates_only_when_the_os_does_not(kivy_graphics, rotation_by, expected):
    from motcua.kivy_window import configure_screen
    configure_screen(ScreenSettings(width=800, height=480, rotation=90, rotation_by=rotation_by))
    assert kivy_graphics.get("graphics", "rotation") == expected


def test_default_is_the_app_rotates(kivy_graphics):
    from motcua.kivy_window import configure_screen
    assert ScreenSettings().rotation_by == "app"
    configure_screen(ScreenSettings(rotation=270))
    assert kivy_graphics.get("graphics", "rotation") == "270"


def test_a_nearby_centres_earliest_booking_for_this_procedure_and_its_portal_page(catalogue):
    """Issue #16: the province's advice gives each centre's earliest booking per procedure it takes
    from anywhere; the card of a procedure offers that one (line, QR), a centre without it none; a
    cap notice at a centre with no booking of its own offers the nearby one."""
    url = "https://datlich.example.vn/book/cap-gcn-lan-dau/phuong-2"
    with_booking = {**PHUONG_2, "next_booking": "2026-11-26T08:30:00+07:00", "book_url": url,
                    "bookings": {"cap-gcn-lan-dau": {"slot": "2026-11-26T08:30:00+07:00", "url": url}}}
    other = {**XA_AN_BINH, "next_booking": "2026-11-25T13:30:00+07:00", "book_url": "https://datlich.example.vn/x",
             "bookings": {"dang-ky-bien-dong": {"slot": "2026-11-25T13:30:00+07:00", "url": "https://datlich.example.vn/x"}}}
    vm, _, _ = make(catalogue, long_wait_min=30)      # the kiosk's clock: Wed 25/11/2026 08:15 ICT
    at_card(vm, wait_s=3000)
    vm.on_nearby("dat-dai", advice(with_booking, other))
    near = vm.card()["nearby"]
    assert near["rows"][0]["booking"] == "lịch hẹn sớm nhất thứ Năm 26/11, 08:30"
    assert near["rows"][1]["booking"] == ""           # it does not take this procedure from anywhere
    assert near["booking"]["url"] == url and "Bộ phận một cửa Phường 2" in near["booking"]["text"]
    assert "lịch hẹn sớm nhất thứ Năm 26/11, 08:30" in vm.speech_text()
    # a slot that has begun by now is not offered
    vm.on_nearby("dat-dai", advice({**with_booking, "bookings": {"cap-gcn-lan-dau": {
        "slot": "2026-11-25T08:00:00+07:00", "url": url}}}))
    assert vm.card()["nearby"]["booking"] is None and vm.card()["nearby"]["rows"][0]["booking"] == ""

    # today's numbers gone here, no booking of our own: the nearby centre's booking on the notice
    vm2, _, _ = make(catalogue, long_wait_min=30)
    vm2.on_nearby("dat-dai", advice(with_booking))
    vm2.on_sector_stats("dat-dai", SectorStats(waiting=3, shown_wait_s=600, procedures_remaining={"cap-gcn-lan-dau": 0}))
    vm2.open_sector("dat-dai")
    vm2.open_procedure("cap-gcn-lan-dau")
    vm2.take_ticket()
    assert vm2.screen == "notice"
    assert vm2.notice_view()["booking"]["url"] == url
