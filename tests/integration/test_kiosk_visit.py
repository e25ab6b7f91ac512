"""Issue #18 at the kiosk on real parts: the ticket of a visit read back from the printer's ESC/POS
bytes, and a kiosk against the real queue server over a real mosquitto (one ticket.issue for a
visit, printed in the server's order; a daily cap and past closing said before printing, and the
server's refusals for them showing the same notice, which offers the earliest booking slot)."""
from __future__ import annotations

import urllib.request
from pathlib import Path

import numpy as np
import pytest

from firmware_config.device_config import PrinterSettings, parse_device_config
from kiosk.catalogue import parse_catalogue
from kiosk.printing import TicketPrinter, TicketSlip, render_ticket
from kiosk.runtime import build_kiosk
from kiosk.texts import slot_text
from queue_server.catalogue import catalogue_document
from queue_server.config import load_site
from queue_server.domain import bookings
from queue_server.domain.events import TICKET_ISSUED
from queue_server.domain.state import SiteState
from tests.support.escpos_raster import decode_raster
from tests.support.kiosk_fakes import DEMO, make
from tests.support.open_site import open_now
from tests.support.site import RunningSite
from tests.support.wait import wait_for


def dummy_printer() -> TicketPrinter:
    return TicketPrinter(PrinterSettings(kind="dummy", width_px=576, profile="TM-T20II"))


def dots(slip: TicketSlip) -> np.ndarray:
    return np.array(render_ticket(slip, 576).convert("L")) < 128


def printed_dots(printer: TicketPrinter) -> np.ndarray:
    return np.array(decode_raster(printer._printer().output)) < 128


def test_a_visits_ticket_read_back_from_the_printer_bytes_lists_the_replys_order_and_end():
    site = load_site(DEMO)
    printer = dummy_printer()
    vm, _, _ = make(parse_catalogue(catalogue_document(SiteState.initial(site), site)), printer=printer)
    vm.open_sector("tu-phap-ho-tich")
    vm.open_procedure("khai-sinh")
    vm.add_to_visit()
    vm.add_another()
    vm.open_sector("dat-dai")
    vm.open_procedure("cung-cap-thong-tin-dat")
    vm.take_ticket()
    assert vm.print_status == "ok"
    slip = vm._ticket_slip()
    # the fake server serves the visit in the reverse of the citizen's order: the paper follows it
    assert slip.visit == ("Cung cấp thông tin đất đai · Đất đai", "Đăng ký khai sinh · Tư pháp – Hộ tịch")
    back = printed_dots(printer)
    assert np.array_equal(back, dots(slip))
    assert not np.array_equal(back, dots(TicketSlip(**{**slip.__dict__, "visit": slip.visit[::-1]})))
    assert not np.array_equal(back, dots(TicketSlip(**{**slip.__dict__, "visit_end_s": None})))
    single = TicketSlip(**{**slip.__dict__, "visit": (), "visit_end_s": None})
    assert back.shape[0] > dots(single).shape[0]          # the list and the end take lines of their own
    if __import__("os").environ.get("MOTCUA_SCREENSHOTS"):
        shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
        decode_raster(printer._printer().output).save(shots / "kiosk-printed-visit-ticket.png")


def kiosk_on(running: RunningSite, tmp_path: Path, printer: TicketPrinter, device: str = "k2"):
    user, password = running.credentials("kiosk", device)
    config = parse_device_config({"site": running.site.id, "id": device,
                                  "mqtt": {"url": running.broker_url, "username": user, "password": password},
                                  "server_url": running.http_url, "printer": {"kind": "dummy"},
                                  "speech": {"enabled": False}}, "kiosk")
    kiosk = build_kiosk(config, cache_dir=tmp_path / f"cache-{device}", printer=printer, with_buttons=False)
    kiosk.vm.run_async = lambda fn: fn()      # the request and the print in the test's thread
    kiosk.start(wait=5)
    return kiosk


def issued(running: RunningSite, device: str) -> list[dict]:
    return [e.data["ticket"] for e in running.events(TICKET_ISSUED) if e.device == f"kiosk/{device}"]


def test_a_visit_over_mqtt_is_one_ticket_printed_in_the_servers_order(tmp_path):
    with RunningSite(tmp_path / "site", open_now(DEMO, tmp_path)) as running:
        other = running.device("kiosk", "k1")
        for _ in range(6):                                  # land matters have a queue already
            assert other.request("ticket.issue", {"sector": "dat-dai"})["ok"]
        printer = dummy_printer()
        kiosk = kiosk_on(running, tmp_path, printer)
        try:
            vm = kiosk.vm
            wait_for(lambda: vm.stats.get("dat-dai", {}).get("waiting") == 6, what="live stats")
            for sector, procedure in (("dat-dai", "cung-cap-thong-tin-dat"), ("tu-phap-ho-tich", "khai-sinh"),
                                      ("tu-phap-ho-tich", "ket-hon")):
                vm.open_sector(sector)
                vm.open_procedure(procedure)
                vm.add_to_visit()
                vm.add_another()
            assert len(vm.visit_items) == 3
            vm.take_visit_ticket()
            assert vm.ticket_status == "issued" and vm.print_status == "ok", (vm.screen, vm.error)
            [ticket] = issued(running, "k2")                # one number for the whole visit
            served_order = [(p["sector"], p["procedure"]) for p in ticket["visit"]]
            assert sorted(served_order) == sorted(vm.visit_items)
            assert [(p.sector, p.procedure) for p in vm.ticket.visit.procedures] == served_order
            # the server's choice (docs/visits.md): the short queue first, one sector's procedures together
            assert served_order[-1] == ("dat-dai", "cung-cap-thong-tin-dat")
            assert vm.ticket.visit.end_s > (vm.ticket.printed_wait_s or 0)
            slip = vm._ticket_slip()
            assert slip.visit == tuple(vm.item_name(s, p) for s, p in served_order)
            assert slip.visit_end_s == vm.ticket.visit.end_s
            assert np.array_equal(printed_dots(printer), dots(slip))
            assert vm.ticket_view()["visit"].splitlines()[0].startswith("1. Đăng ký")
        finally:
            kiosk.stop()


def test_a_daily_cap_gone_is_said_before_printing_and_a_refusal_says_the_same(tmp_path):
    with RunningSite(tmp_path / "site", open_now(DEMO, tmp_path, daily_caps={"phieu-lltp-1": 1})) as running:
        printer = dummy_printer()
        kiosk = kiosk_on(running, tmp_path, printer)
        try:
            vm = kiosk.vm
            assert vm.catalogue.sector("ly-lich-tu-phap").procedures_remaining == {"phieu-lltp-1": 1}
            wait_for(lambda: "ly-lich-tu-phap" in vm.stats, what="live stats")
            assert running.device("kiosk", "k1").request(
                "ticket.issue", {"sector": "ly-lich-tu-phap", "procedure": "phieu-lltp-1"})["ok"]
            wait_for(lambda: vm.stats["ly-lich-tu-phap"]["procedures_remaining"] == {"phieu-lltp-1": 0},
                     what="today's last number taken, heard by the kiosk")
            vm.open_sector("ly-lich-tu-phap")
            vm.open_procedure("phieu-lltp-1")
            vm.take_ticket()
            assert vm.screen == "notice" and vm.notice["kind"] == "daily_cap_reached"
            assert vm.notice_view()["title"] == "Hôm nay đã hết số thứ tự cho Cấp Phiếu lý lịch tư pháp số 1"
            assert issued(running, "k2") == [] and vm.pending is None     # nothing was asked
            # the earliest free booking slot, as the server's booking rules find it, and its page
            svc = running.service
            with svc.lock:
                now = svc.clock()
                slot = bookings.next_free(svc.state, svc.config, "phieu-lltp-1", now, now)
                start = bookings.parse_slot(svc.config, slot)[0]
            booking = vm.notice_view()["booking"]
            assert booking["text"] == f"Lịch hẹn sớm nhất: {slot_text(start, 'vi')}"
            assert booking["url"] == f"{running.http_url}/book/phieu-lltp-1"
            with urllib.request.urlopen(booking["url"], timeout=5) as page:   # the QR's page is there
                assert page.status == 200
            # a kiosk that has not heard the stats (only its catalogue, from before): the server refuses
            vm.go_home()
            del vm.stats["ly-lich-tu-phap"]
            vm.open_sector("ly-lich-tu-phap")
            vm.open_procedure("phieu-lltp-1")
            vm.take_ticket()
            assert vm.screen == "notice" and vm.notice["kind"] == "daily_cap_reached"
            assert not vm.notice_view()["can_insist"] and issued(running, "k2") == []
            assert printer._printer().output == b""
        finally:
            kiosk.stop()


def test_past_closing_is_said_first_and_take_it_anyway_prints(tmp_path):
    # open 06:00-07:00 where it is about 10:00 now: any ticket is called after today's closing
    with RunningSite(tmp_path / "site", open_now(DEMO, tmp_path, hours=["06:00-07:00"])) as running:
        printer = dummy_printer()
        kiosk = kiosk_on(running, tmp_path, printer)
        try:
            vm = kiosk.vm
            assert vm.catalogue.sector("xay-dung").past_closing is True
            vm.open_sector("xay-dung")
            vm.take_ticket()
            assert vm.screen == "notice" and vm.notice["kind"] == "past_closing" and issued(running, "k2") == []
            vm.take_anyway()                                # "Vẫn lấy số"
            assert vm.print_status == "ok" and vm.ticket.past_closing is True
            assert [t["sector"] for t in issued(running, "k2")] == ["xay-dung"]
            # a kiosk whose view is behind the server's: the server refuses, the same notice shows
            vm.go_home()
            vm.stats["kinh-doanh"] = {**vm.stats.get("kinh-doanh", {}), "past_closing": False}
            vm.open_sector("kinh-doanh")
            vm.take_ticket()
            assert vm.screen == "notice" and vm.notice["kind"] == "past_closing"
            assert len(issued(running, "k2")) == 1
            vm.take_anyway()
            assert vm.print_status == "ok" and len(issued(running, "k2")) == 2
        finally:
            kiosk.stop()


pytestmark = pytest.mark.timeout(120)
