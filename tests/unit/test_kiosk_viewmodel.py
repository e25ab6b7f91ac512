"""The kiosk's behaviour without a window: navigation, tickets, retries, printer trouble, idle, help, speech."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from firmware_config.device_config import PrinterSettings
from kiosk.catalogue import parse_catalogue
from kiosk.settings import KioskSettings
from kiosk.viewmodel import KioskViewModel
from protocol import guidance
from protocol.messages import DEPRECATED_WAIT, PRINTED_WAIT, SectorStats, ServerStatus
from queue_server.catalogue import catalogue_document
from queue_server.config import load_site
from queue_server.domain.state import SiteState
from tests.support.kiosk_fakes import DEMO, Backend, Clock, Printer, Speaker, make


def demo_catalogue_document() -> dict:
    """The document the server serves for the demo site on an empty day (its one builder, no server)."""
    site = load_site(DEMO)
    return catalogue_document(SiteState.initial(site), site)


@pytest.fixture(scope="module")
def catalogue():
    return parse_catalogue(demo_catalogue_document())


def test_three_taps_home_sector_procedure_ticket(catalogue):
    vm, _, changes = make(catalogue)
    assert vm.screen == "home" and len(vm.sector_tiles()) == 7
    vm.open_sector("tu-phap-ho-tich")
    assert vm.screen == "procedures"
    assert [r["id"] for r in vm.procedure_rows()] == ["khai-sinh", "ket-hon", "chung-thuc-ban-sao", "chung-thuc-chu-ky"]
    vm.open_procedure("khai-sinh")
    card = vm.card()
    assert card["fee"] == "miễn phí" and card["days"] == "trong ngày"
    assert "Giấy chứng sinh do bệnh viện hoặc cơ sở y tế cấp" in card["documents"]
    vm.take_ticket()
    assert vm.screen == "ticket" and vm.ticket.number == "A001" and vm.print_status == "ok"
    sent = vm.backend.calls[-1]
    assert sent[0] == "ticket.issue"
    # accept_past_closing false: the server refuses rather than print past closing (the kiosk says so first)
    assert sent[1] == {"sector": "tu-phap-ho-tich", "procedure": "khai-sinh", "priority": "normal", "lang": "vi",
                       "accept_past_closing": False}
    view = vm.ticket_view()
    assert view["ahead"] == "Số người đang chờ trước bạn: 2" and "25 phút" in view["wait"]
    slip = vm.printer.tickets[-1]
    assert slip.issued_at == "08:15 25/11/2026" and slip.procedure_name == "Đăng ký khai sinh"
    assert changes  # screens were told


@pytest.mark.parametrize("field", [PRINTED_WAIT, DEPRECATED_WAIT])
def test_ticket_wait_is_the_printed_wait_or_an_older_servers_est_wait_s(catalogue, field):
    class Server(Backend):
        def request(self, *a, **k):
            # the reply's ticket with only one of the two names, read through the kiosk's Reply model
            reply = super().request(*a, **k)
            ticket = {k: v for k, v in reply["result"]["ticket"].items() if k not in (PRINTED_WAIT, DEPRECATED_WAIT)}
            return {**reply, "result": {"ticket": {**ticket, field: 600}}}
    vm, _, _ = make(catalogue, Server())
    vm.open_sector("tu-phap-ho-tich")
    vm.take_ticket()
    assert vm.ticket.printed_wait_s == 600 and "10 phút" in vm.ticket_view()["wait"]
    assert vm.printer.tickets[-1].est_wait_s == 600


def test_whole_sector_ticket_is_two_taps(catalogue):
    vm, _, _ = make(catalogue)
    vm.open_sector("dat-dai")
    vm.take_ticket()
    assert vm.ticket.sector == "dat-dai" and "procedure" not in vm.backend.calls[-1][1]


def test_search_without_diacritics_across_sectors(catalogue):
    vm, _, _ = make(catalogue)
    vm.open_search()
    for ch in "khai sinh":
        vm.search_type(ch)
    assert [r["id"] for r in vm.procedure_rows()] == ["khai-sinh"]
    vm.set_query("dang ky")
    ids = {r["id"] for r in vm.procedure_rows()}
    assert {"khai-sinh", "ket-hon", "dang-ky-bien-dong", "ho-kinh-doanh"} <= ids
    vm.set_query("giay phep xay dung")
    assert [r["id"] for r in vm.procedure_rows()] == ["gpxd-nha-o"]
    vm.set_query("DAT DAI")          # upper case, no đ
    assert "cung-cap-thong-tin-dat" in {r["id"] for r in vm.procedure_rows()}
    vm.set_query("zzz")
    assert vm.procedure_rows() == []
    vm.search_backspace()
    assert vm.query == "zz"


def test_priority_ticket_needs_a_group_then_one_tap(catalogue):
    vm, _, _ = make(catalogue)
    vm.open_priority()
    vm.take_priority_ticket("dat-dai")            # no group chosen yet: nothing is issued
    assert vm.backend.calls == [] and vm.screen == "priority"
    vm.choose_priority("pregnant")
    assert [g["selected"] for g in vm.priority_groups()].count(True) == 1
    vm.take_priority_ticket("dat-dai")
    assert vm.backend.calls[-1][1]["priority"] == "pregnant"
    assert vm.ticket_view()["priority"] == "Ưu tiên: Phụ nữ mang thai"
    vm.go_home()
    vm.open_priority()
    vm.choose_priority("veteran")
    vm.back()                                     # left the priority screen: a normal ticket after
    vm.open_sector("dat-dai")
    vm.take_ticket()
    assert vm.backend.calls[-1][1]["priority"] == "normal"


def test_no_answer_then_retry_uses_the_same_req_id(catalogue):
    backend = Backend(["timeout", "timeout", "ok"])
    vm, _, _ = make(catalogue, backend)
    vm.open_sector("xay-dung")
    vm.take_ticket()
    assert vm.screen == "error" and vm.error_view()["can_retry"]
    assert "chưa phản hồi" in vm.error_view()["title"]
    vm.retry()
    assert vm.screen == "error"
    vm.retry()
    assert vm.screen == "ticket" and vm.ticket.number == "A001"
    assert len({c[2] for c in backend.calls}) == 1 and len(backend.calls) == 3
    assert len(backend.issued) == 1
    vm.go_home()
    vm.open_sector("xay-dung")
    vm.take_ticket()                                # a new ticket gets a new req_id
    assert len({c[2] for c in backend.calls}) == 2


def test_server_refusal_is_explained_and_not_retried(catalogue):
    vm, _, _ = make(catalogue, Backend(["sector_closed"]))
    vm.open_sector("dat-dai")
    vm.take_ticket()
    v = vm.error_view()
    assert vm.screen == "error" and not v["can_retry"] and "chưa nhận số" in v["message"]
    vm.set_lang("en")
    assert "not taking tickets" in vm.error_view()["message"]


@pytest.mark.parametrize("junk", [{"ok": True, "result": {"ticket": "nope"}}, {"ok": True, "result": None},
                                  {"ok": False, "error": "boom"}, [], None, {"ok": True}, b"\xff{", "[1]",
                                  {"v": 1, "type": "reply", "req_id": "r", "ok": True,
                                   "result": {"ticket": {"number": "A001"}, "guidance": {"portal_url": 3}}}])
def test_malformed_reply_never_crashes(catalogue, junk):
    class Weird(Backend):
        def request(self, *a, **k):
            return junk
    vm, _, _ = make(catalogue, Weird())
    vm.open_sector("dat-dai")
    vm.take_ticket()
    assert vm.screen == "error" and vm.error_view()["title"]
    vm.go_home()
    vm.open_procedure("ket-hon")
    vm.file_online()                              # junk guidance: the local steps instead
    assert vm.guidance_status == "local" and vm.guidance_view()["steps"]


def test_double_tap_while_requesting_sends_once(catalogue):
    pending = []
    vm, _, _ = make(catalogue)
    vm.run_async = pending.append            # the request is "on its way"
    vm.open_sector("dat-dai")
    vm.take_ticket()
    vm.take_ticket()
    assert len(pending) == 1 and vm.ticket_view()["status"] == "Đang lấy số…"


@pytest.mark.parametrize("trouble,words", [("paper_out", "hết giấy"), ("cover_open", "Nắp máy in"),
                                           ("offline", "sự cố")])
def test_printer_trouble_keeps_the_ticket_and_allows_reprint(catalogue, trouble, words):
    printer = Printer([trouble, "ok"])
    vm, clock, _ = make(catalogue, printer=printer)
    vm.open_sector("dat-dai")
    vm.take_ticket()
    view = vm.ticket_view()
    assert vm.ticket.number == "A001" and view["trouble"] and view["can_reprint"]
    assert words in view["status"] and "A001" in view["status"]
    assert vm.backend.status["printer"] == trouble and vm.status_led == "fault"
    clock.now += 20                                   # not sent home while the citizen has no paper
    vm.tick()
    assert vm.screen == "ticket"
    vm.reprint()
    assert vm.print_status == "ok" and len(printer.tickets) == 2
    assert vm.backend.status["printer"] == "ok"
    assert len(vm.backend.issued) == 1                # reprinting never issues another ticket


def test_ticket_screen_goes_home_after_a_few_seconds(catalogue):
    vm, clock, _ = make(catalogue, ticket_home_s=10)
    vm.open_sector("dat-dai")
    vm.take_ticket()
    clock.now += 5
    vm.tick()
    assert vm.screen == "ticket"
    clock.now += 6
    vm.tick()
    assert vm.screen == "home" and vm.ticket is None


def test_idle_timeout_resets_any_screen_and_language(catalogue):
    vm, clock, _ = make(catalogue, idle_timeout_s=30)
    vm.set_lang("en")
    vm.open_sector("dat-dai")
    vm.open_procedure("cap-gcn-lan-dau")
    clock.now += 29
    vm.tick()
    assert vm.screen == "procedure"
    clock.now += 2
    vm.tick()
    assert vm.screen == "home" and vm.lang == "vi" and vm.sector_id is None
    vm.set_lang("en")                              # english left on the home screen also resets
    clock.now += 31
    vm.tick()
    assert vm.lang == "vi"


def test_long_wait_on_a_fully_online_procedure_suggests_online_filing(catalogue):
    vm, _, _ = make(catalogue, long_wait_min=30)
    vm.open_procedure("phieu-lltp-1")
    assert vm.card()["long_wait_hint"] == ""
    vm.on_sector_stats("ly-lich-tu-phap", SectorStats(waiting=25, shown_wait_s=50 * 60))
    assert "nộp trực tuyến toàn trình" in vm.card()["long_wait_hint"]
    vm.open_procedure("chung-thuc-chu-ky")         # not online: never suggested
    vm.on_sector_stats("tu-phap-ho-tich", SectorStats(waiting=25, shown_wait_s=50 * 60))
    assert vm.card()["long_wait_hint"] == "" and not vm.card()["can_file_online"]


def test_online_guidance_from_the_server_then_printed(catalogue):
    vm, _, _ = make(catalogue)
    vm.open_procedure("ho-kinh-doanh")
    vm.file_online()
    assert vm.screen == "guidance" and vm.guidance_status == "ready"
    assert vm.backend.calls[-1][:2] == ("guidance.online", {"procedure": "ho-kinh-doanh", "lang": "vi"})
    assert vm.guidance_view()["steps"] == ["Bước một.", "Bước hai."]
    vm.print_guidance()
    assert vm.printer.guides[-1].portal_url == "https://dichvucong.gov.vn/p/1"
    vm.take_ticket()                                # changed their mind: a ticket instead
    assert vm.ticket.sector == "kinh-doanh"


def test_online_guidance_without_server_falls_back_to_local_steps(catalogue):
    vm, _, _ = make(catalogue, Backend(["timeout"]))
    vm.open_procedure("ket-hon")
    vm.file_online()
    v = vm.guidance_view()
    assert vm.guidance_status == "local" and v["portal_url"] == "https://dichvucong.gov.vn"
    assert any("Đăng ký kết hôn" in s for s in v["steps"]) and any("VNeID" in s for s in v["steps"])
    # the same steps the server sends (protocol.guidance), in the citizen's language
    _, proc = catalogue.procedure("ket-hon")
    assert v["steps"] == guidance.steps(v["portal_url"], "Đăng ký kết hôn", proc.online, "vi")
    assert v["steps"][0] == "Mở trang https://dichvucong.gov.vn trên điện thoại hoặc máy tính, hoặc quét mã QR."


def test_help_request_is_published_in_the_device_status(catalogue):
    vm, _, _ = make(catalogue)
    vm.request_help()
    assert vm.backend.status["help_requested"] is True
    assert vm.backend.status["help_requested_at"].startswith("2026-11-25T08:15")
    assert vm.status_led == "help" and "cán bộ" in vm.help_text()
    vm.help_served()
    assert vm.backend.status["help_requested"] is False and vm.status_led == "ready"


def test_speaker_reads_the_screen_in_vietnamese(catalogue):
    vm, _, _ = make(catalogue)
    vm.speak()
    text, lang = vm.speaker.said[-1]
    assert lang == "vi" and text.startswith("Xin chào") and "Đất đai" in text
    vm.open_procedure("khai-sinh")
    vm.speak()
    assert "Giấy tờ cần mang" in vm.speaker.said[-1][0]
    vm.take_ticket()
    vm.speak()
    assert "A, 0, 0, 1" in vm.speaker.said[-1][0]        # digits one by one
    vm.set_lang("en")
    vm.speak()
    assert vm.speaker.said[-1][1] == "en" and vm.speaker.said[-1][0].startswith("Your number is")


def test_server_status_and_connection_banner(catalogue):
    vm, _, _ = make(catalogue)
    assert vm.banner() == ""
    vm.on_server_status(ServerStatus(online=False))
    assert "khởi động lại" in vm.banner() and vm.status_led == "fault"
    vm.on_server_status(ServerStatus(online=True))
    vm.on_connection(False)
    assert "Mất kết nối" in vm.banner()
    vm.on_sector_stats("dat-dai", SectorStats(waiting=3, shown_wait_s=600))
    tile = next(t for t in vm.sector_tiles() if t["id"] == "dat-dai")
    assert tile["wait"] == "Đang chờ: 3 · khoảng 10 phút"


def test_no_catalogue_shows_a_clear_screen_then_recovers(catalogue):
    calls = []

    def loader():
        calls.append(1)
        if len(calls) == 1:
            from kiosk.catalogue import CatalogueError
            raise CatalogueError("down")
        return catalogue

    vm = KioskViewModel(KioskSettings(catalogue_retry_s=5), backend=Backend(), loader=loader, catalogue=None,
                        run_async=lambda fn: fn(), clock=Clock())
    assert vm.screen == "error" and vm.error_view()["title"] == "Máy đang khởi động"
    vm.open_sector("dat-dai")                       # taps do nothing without a catalogue
    vm.tick()
    assert vm.screen == "error"
    vm.clock.now += 6
    vm.tick()
    assert vm.screen == "home" and vm.catalogue is catalogue


def test_every_text_has_a_vietnamese_translation():
    import glob
    from babel.messages.extract import extract_from_file
    from kiosk.texts import ERROR_TEXTS, GENERIC_ERROR, PRIORITY_LABELS, T
    root = Path(__file__).resolve().parents[2]
    ids = {m for f in glob.glob(str(root / "kiosk" / "**" / "*.py"), recursive=True)
           for _, m, _, _ in extract_from_file("python", f, keywords={"t": None, "T": None}) if isinstance(m, str)}
    ids |= set(PRIORITY_LABELS.values()) | set(ERROR_TEXTS.values()) | {GENERIC_ERROR}
    ids |= {"Fee", "Processing time", "Waiting now", "{n} people"}
    assert T.missing(sorted(ids)) == []
    assert guidance.T.missing(list(guidance.MSGIDS)) == []   # the online-filing steps, shared with the server


def test_a_refilled_printer_clears_the_fault_by_itself(catalogue):
    printer = Printer(["paper_out", "paper_out", "ok"])
    vm, clock, _ = make(catalogue, printer=printer, printer_recheck_s=20)
    vm.open_sector("dat-dai")
    vm.take_ticket()
    assert vm.backend.status["printer"] == "paper_out"
    clock.now += 21
    vm.tick()                                  # still out of paper
    assert vm.backend.status["printer"] == "paper_out"
    clock.now += 5
    vm.tick()                                  # too soon to ask again
    clock.now += 16
    vm.tick()                                  # refilled
    assert vm.backend.status["printer"] == "ok" and vm.status_led == "ready"


def test_times_are_the_sites_zone_from_the_catalogue_else_the_kiosk_config():
    """The ticket's time is read in the site's zone, never the device's (issue #14)."""
    from firmware_config.device_config import DeviceConfigError, parse_device_config
    data = demo_catalogue_document()
    utc_wall = lambda: datetime(2026, 11, 25, 1, 15, tzinfo=timezone.utc)      # noqa: E731
    for zone_sent, config_zone, shown in (("Asia/Ho_Chi_Minh", "UTC", "08:15"),    # the catalogue's zone wins
                                          (None, "Asia/Bangkok", "08:15"),         # an older server: the config's
                                          (None, "Europe/Paris", "02:15"),
                                          ("Mars/Olympus", "Asia/Ho_Chi_Minh", "08:15")):  # unknown: the config's
        site = {**data["site"], "timezone": zone_sent}
        cat = parse_catalogue({**data, "site": site})          # an unknown zone does not cost the catalogue
        vm = KioskViewModel(KioskSettings(timezone=config_zone), backend=Backend(), printer=Printer(),
                            speaker=Speaker(), catalogue=cat, run_async=lambda fn: fn(), clock=Clock(), wall=utc_wall)
        vm.open_sector("tu-phap-ho-tich")
        vm.take_ticket()
        assert vm.printer.tickets[-1].issued_at == f"{shown} 25/11/2026", (zone_sent, config_zone)
    assert parse_device_config({"site": "s", "id": "k1"}, "kiosk").timezone == "Asia/Ho_Chi_Minh"
    with pytest.raises(DeviceConfigError, match="time zone"):
        parse_device_config({"site": "s", "id": "k1", "timezone": "Mars/Olympus"}, "kiosk")
