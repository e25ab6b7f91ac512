"""Issue #18 at the kiosk, without a window: a visit of several procedures (one request, printed in
the reply's order with the end of the visit), the daily caps and past closing said before printing,
and the server's refusals for them showing the same words."""
from __future__ import annotations

import pytest

from kiosk.catalogue import parse_catalogue
from protocol.messages import MAX_VISIT_PROCEDURES, ProvinceNearby, SectorStats, parse
from queue_server.catalogue import catalogue_document
from queue_server.config import load_site
from queue_server.domain.state import SiteState
from tests.support.kiosk_fakes import DEMO, Backend, make


def demo_document() -> dict:
    site = load_site(DEMO)
    return catalogue_document(SiteState.initial(site), site)


@pytest.fixture(scope="module")
def catalogue():
    return parse_catalogue(demo_document())


NEARBY = parse(ProvinceNearby, {
    "v": 1, "type": "province.nearby", "ts": "2026-11-25T09:00:00+07:00", "site": "demo-district",
    "sector": "ly-lich-tu-phap", "own": {"waiting": 14, "est_wait_s": 3000},
    "nearby": [{"site": "phuong-2", "name": {"vi": "Bộ phận một cửa Phường 2", "en": "Ward 2 one-stop desk"},
                "distance_km": 3.2, "waiting": 2, "est_wait_s": 300, "address": {"vi": "12 Lê Lợi", "en": "12 Le Loi"}}]})


def pick(vm, sector: str, procedure: str | None = None) -> None:
    """From home, as a citizen taps: the field's tile, then the procedure (or none: the whole field)."""
    vm.open_sector(sector)
    if procedure:
        vm.open_procedure(procedure)


def test_a_visit_of_three_procedures_is_one_request_printed_in_the_replys_order(catalogue):
    vm, _, _ = make(catalogue)
    pick(vm, "tu-phap-ho-tich", "khai-sinh")
    assert vm.can_add_another() and vm.take_text() == "Lấy số thứ tự"
    vm.add_to_visit()                                   # "+ Thêm thủ tục khác"
    assert vm.screen == "visit" and vm.visit_view()["rows"] == ["Đăng ký khai sinh · Tư pháp – Hộ tịch"]
    vm.add_another()                                    # "+ Thêm thủ tục": home, the list kept
    assert vm.screen == "home" and vm.visit_items == [("tu-phap-ho-tich", "khai-sinh")]
    pick(vm, "dat-dai", "cung-cap-thong-tin-dat")
    vm.add_to_visit()
    vm.add_another()
    pick(vm, "kinh-doanh")                              # a whole field, from its list
    assert vm.take_text() == "Lấy một số cho 3 thủ tục"
    vm.take_ticket()                                    # the third joins the list: one ticket for all
    assert len(vm.backend.calls) == 1
    sent = vm.backend.calls[0][1]
    assert sent["procedures"] == [{"sector": "tu-phap-ho-tich", "procedure": "khai-sinh"},
                                  {"sector": "dat-dai", "procedure": "cung-cap-thong-tin-dat"},
                                  {"sector": "kinh-doanh"}]
    assert "sector" not in sent and sent["accept_past_closing"] is False
    # the fake server serves them in reverse: the kiosk prints and shows the reply's order
    slip = vm.printer.tickets[-1]
    assert slip.visit == ("Đăng ký kinh doanh", "Cung cấp thông tin đất đai · Đất đai",
                          "Đăng ký khai sinh · Tư pháp – Hộ tịch")
    assert slip.visit_end_s == 1500 + 900 * 3
    view = vm.ticket_view()
    assert view["sector"] == "Các thủ tục của bạn, theo thứ tự được phục vụ:"
    assert view["visit"].splitlines()[0] == "1. Đăng ký kinh doanh" and view["visit"].count("\n") == 2
    assert view["visit_end"] == "Dự kiến xong tất cả sau: khoảng 1 giờ 10 phút"
    said = vm.speech_text()
    assert "1. Đăng ký kinh doanh" in said and "Dự kiến xong tất cả sau" in said
    vm.go_home()                                        # the next citizen starts with an empty list
    assert vm.visit_items == []


def test_the_list_can_be_shortened_and_back_never_loses_it(catalogue):
    vm, _, _ = make(catalogue)
    pick(vm, "tu-phap-ho-tich", "ket-hon")
    vm.add_to_visit()
    vm.add_another()
    pick(vm, "xay-dung")
    vm.add_to_visit()
    assert len(vm.visit_view()["rows"]) == 2
    vm.back()                                           # "Back" on the list: home, list kept
    assert vm.screen == "home" and len(vm.visit_items) == 2
    pick(vm, "dat-dai")
    vm.back()
    assert vm.screen == "home" and len(vm.visit_items) == 2
    vm.open_visit()
    vm.remove_from_visit(0)
    assert vm.visit_items == [("xay-dung", None)] and vm.screen == "visit"
    vm.hw_ticket()                                      # the physical ticket button takes the list's ticket
    sent = vm.backend.calls[-1][1]
    assert sent["sector"] == "xay-dung" and "procedures" not in sent
    assert vm.printer.tickets[-1].visit == () and vm.printer.tickets[-1].visit_end_s is None
    vm.go_home()
    pick(vm, "xay-dung")
    vm.add_to_visit()
    vm.remove_from_visit(0)                             # emptied: home
    assert vm.screen == "home" and vm.visit_items == []


def test_at_most_five_procedures(catalogue):
    vm, _, _ = make(catalogue)
    sectors = [s.id for s in catalogue.sectors][:MAX_VISIT_PROCEDURES + 1]
    for sector in sectors[:MAX_VISIT_PROCEDURES - 1]:
        pick(vm, sector)
        vm.add_to_visit()
        vm.add_another()
    pick(vm, sectors[MAX_VISIT_PROCEDURES - 1])
    assert not vm.can_add_another()                     # this one fills the list: no "add another"
    vm.add_to_visit()
    assert len(vm.visit_items) == MAX_VISIT_PROCEDURES and not vm.visit_view()["can_add"]
    vm.add_another()                                    # ignored: the list is full
    assert vm.screen == "visit"
    vm.back()
    pick(vm, sectors[MAX_VISIT_PROCEDURES])
    vm.take_ticket()                                    # a sixth: the list is shown, nothing is sent
    assert vm.screen == "visit" and vm.backend.calls == [] and len(vm.visit_items) == MAX_VISIT_PROCEDURES
    vm.take_visit_ticket()
    assert len(vm.backend.calls[-1][1]["procedures"]) == MAX_VISIT_PROCEDURES


def test_a_sector_cap_gone_is_said_before_printing_with_nearby_centres(catalogue):
    vm, _, _ = make(catalogue)
    vm.on_nearby("ly-lich-tu-phap", NEARBY)
    vm.on_sector_stats("ly-lich-tu-phap", SectorStats(waiting=3, shown_wait_s=600, remaining_today=0))
    tile = next(t for t in vm.sector_tiles() if t["id"] == "ly-lich-tu-phap")
    assert tile["wait"] == "Hôm nay đã hết số"
    pick(vm, "ly-lich-tu-phap", "phieu-lltp-1")
    vm.take_ticket()
    assert vm.screen == "notice" and vm.backend.calls == [] and vm.printer.tickets == []
    v = vm.notice_view()
    assert v["title"] == "Hôm nay đã hết số thứ tự cho Lý lịch tư pháp"      # the field's cap: its name
    assert "ngày làm việc tiếp theo" in v["message"] and not v["can_insist"] and not v["can_drop"]
    assert v["nearby"]["rows"][0]["name"] == "Bộ phận một cửa Phường 2"   # ours is gone: any nearby centre
    assert v["can_file_online"]                                           # this procedure is fully online
    assert "Phường 2" in vm.speech_text()
    vm.set_lang("en")
    assert vm.notice_view()["title"] == "Today's numbers for Judicial record certificate are gone"
    vm.notice_file_online()
    assert vm.screen == "guidance" and vm.procedure_id == "phieu-lltp-1"


def test_a_procedure_cap_from_the_catalogue_can_be_dropped_from_a_visit(catalogue):
    doc = demo_document()
    lltp = next(s for s in doc["sectors"] if s["id"] == "ly-lich-tu-phap")
    lltp["procedures_remaining"] = {"phieu-lltp-1": 0, "phieu-lltp-2": 4}
    vm, _, _ = make(parse_catalogue(doc))
    pick(vm, "ly-lich-tu-phap", "phieu-lltp-2")          # capped but numbers left: fine
    vm.add_to_visit()
    vm.add_another()
    pick(vm, "ly-lich-tu-phap", "phieu-lltp-1")
    vm.add_to_visit()
    vm.add_another()
    pick(vm, "dat-dai")
    vm.take_ticket()
    assert vm.screen == "notice" and vm.backend.calls == []
    assert vm.notice_view()["can_drop"] and vm.notice_view()["drop"] == "Bỏ thủ tục này khỏi danh sách"
    vm.notice_drop()
    assert vm.screen == "visit" and vm.visit_items == [("ly-lich-tu-phap", "phieu-lltp-2"), ("dat-dai", None)]
    vm.take_visit_ticket()
    assert [p.get("procedure") for p in vm.backend.calls[-1][1]["procedures"]] == ["phieu-lltp-2", None]
    assert vm.ticket_status == "issued"


def test_a_cap_refusal_from_the_server_shows_the_same_notice(catalogue):
    vm, _, _ = make(catalogue, Backend(["daily_cap_reached"]))
    pick(vm, "tu-phap-ho-tich", "khai-sinh")
    vm.take_ticket()
    assert vm.screen == "notice" and vm.ticket_status == "idle" and vm.printer.tickets == []
    v = vm.notice_view()
    # the kiosk heard of no cap: it cannot name which one, and says so for the citizen's choice
    assert v["title"] == "Hôm nay đã hết số thứ tự cho một thủ tục bạn chọn" and not v["can_insist"]


def test_past_closing_from_the_stats_is_said_first_and_take_it_anyway_prints(catalogue):
    vm, _, _ = make(catalogue)
    vm.on_sector_stats("dat-dai", SectorStats(waiting=40, shown_wait_s=4 * 3600, past_closing=True))
    pick(vm, "dat-dai", "cung-cap-thong-tin-dat")
    vm.take_ticket()
    assert vm.screen == "notice" and vm.backend.calls == []
    v = vm.notice_view()
    assert v["title"] == "Có thể không kịp đến lượt bạn trước giờ đóng cửa hôm nay"
    assert v["can_insist"] and v["insist"] == "Vẫn lấy số" and v["can_file_online"]
    vm.take_anyway()
    assert vm.backend.calls[-1][1]["accept_past_closing"] is True
    assert vm.screen == "ticket" and vm.print_status == "ok" and len(vm.printer.tickets) == 1


def test_a_past_closing_refusal_then_take_it_anyway_gets_the_ticket(catalogue):
    vm, _, _ = make(catalogue, Backend(["past_closing", "ok"]))
    pick(vm, "tu-phap-ho-tich", "ket-hon")
    vm.add_to_visit()
    vm.add_another()
    pick(vm, "xay-dung", "gpxd-nha-o")
    vm.take_ticket()                                    # the end of the visit runs past closing
    assert vm.screen == "notice" and vm.notice_view()["kind"] == "past_closing"
    first = vm.backend.calls[-1]
    assert first[1]["accept_past_closing"] is False
    vm.take_anyway()
    again = vm.backend.calls[-1]
    assert again[1]["accept_past_closing"] is True and again[2] != first[2]   # a new request
    assert again[1]["procedures"] == first[1]["procedures"]
    assert vm.ticket_status == "issued" and len(vm.printer.tickets[-1].visit) == 2


def test_priority_tickets_pass_the_same_checks(catalogue):
    vm, _, _ = make(catalogue)
    vm.on_sector_stats("dat-dai", SectorStats(waiting=1, shown_wait_s=60, remaining_today=0))
    vm.open_priority()
    vm.choose_priority("elderly")
    vm.take_priority_ticket("dat-dai")
    assert vm.screen == "notice" and vm.backend.calls == []
    assert vm.notice_view()["title"] == "Hôm nay đã hết số thứ tự cho Đất đai"


def booking_catalogue():
    doc = demo_document()
    doc["site"]["book_url"] = "https://motcua.example.vn/book"
    return parse_catalogue(doc)


def test_a_cap_notice_offers_the_earliest_booking_slot_and_its_page(catalogue):
    vm, _, _ = make(booking_catalogue())          # the kiosk's clock: Wed 25/11/2026 08:15 ICT
    vm.on_sector_stats("ly-lich-tu-phap", SectorStats(
        waiting=3, shown_wait_s=600, procedures_remaining={"phieu-lltp-1": 0},
        procedures_next_booking={"phieu-lltp-1": "2026-12-03T08:30:00+07:00"}))
    pick(vm, "ly-lich-tu-phap", "phieu-lltp-1")
    vm.take_ticket()
    assert vm.screen == "notice" and vm.backend.calls == []
    b = vm.notice_view()["booking"]
    assert b["text"] == "Lịch hẹn sớm nhất: thứ Năm 03/12, 08:30"
    assert b["url"] == "https://motcua.example.vn/book/phieu-lltp-1"
    assert "Lịch hẹn sớm nhất: thứ Năm 03/12, 08:30." in vm.speech_text()     # read aloud too
    vm.set_lang("en")
    assert vm.notice_view()["booking"]["text"] == "Earliest booking: Thu 3 Dec, 08:30"


def test_a_cap_notice_without_a_slot_offers_no_booking(catalogue):
    stats = SectorStats(waiting=3, shown_wait_s=600, procedures_remaining={"phieu-lltp-1": 0},
                        procedures_next_booking={"phieu-lltp-1": "2026-11-25T08:00:00+07:00"})
    vm, _, _ = make(booking_catalogue())
    vm.on_sector_stats("ly-lich-tu-phap", stats.model_copy(update={"procedures_next_booking": None}))
    pick(vm, "ly-lich-tu-phap", "phieu-lltp-1")
    vm.take_ticket()
    assert vm.screen == "notice" and vm.notice_view()["booking"] is None       # no free slot heard
    vm.go_home()
    vm.on_sector_stats("ly-lich-tu-phap", stats)      # a slot heard, but it started before now (08:15)
    pick(vm, "ly-lich-tu-phap", "phieu-lltp-1")
    vm.take_ticket()
    assert vm.screen == "notice" and vm.notice_view()["booking"] is None
    for unreadable in ("next Thursday", "2026-12-03T08:30:00"):    # not a time, or without its zone
        vm.go_home()
        vm.on_sector_stats("ly-lich-tu-phap", stats.model_copy(
            update={"procedures_next_booking": {"phieu-lltp-1": unreadable}}))
        pick(vm, "ly-lich-tu-phap", "phieu-lltp-1")
        vm.take_ticket()
        assert vm.screen == "notice" and vm.notice_view()["booking"] is None
    vm2, _, _ = make(catalogue)                       # a site without bookings gives no booking page
    vm2.on_sector_stats("ly-lich-tu-phap", stats.model_copy(
        update={"procedures_next_booking": {"phieu-lltp-1": "2026-12-03T08:30:00+07:00"}}))
    pick(vm2, "ly-lich-tu-phap", "phieu-lltp-1")
    vm2.take_ticket()
    assert vm2.screen == "notice" and vm2.notice_view()["booking"] is None
