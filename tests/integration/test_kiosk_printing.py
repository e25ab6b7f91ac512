"""Tickets and guidance slips through python-escpos: Dummy/File/Network bytes read back as images.

The printed raster (GS v 0) is decoded back to pixels and compared with the
drawing; the QR code is found in it module by module; Vietnamese is checked
against the font's coverage; printer trouble maps to the device status words.
"""
from __future__ import annotations

import socket
from pathlib import Path
import threading
import unicodedata

import numpy as np
import pytest
import qrcode
from escpos import printer as escpos_printer
from escpos.exceptions import DeviceNotFoundError
from fontTools.ttLib import TTFont
from PIL import Image

from firmware_config.device_config import PrinterSettings
from kiosk.printing import (FONT_BOLD, FONT_REGULAR, GuidanceSlip, TicketPrinter, TicketSlip, render_guidance,
                            render_ticket)
from tests.support.escpos_raster import decode_raster
from tests.support.wait import until

SLIP = TicketSlip(site_name="Trung tâm Phục vụ hành chính công huyện Đông Anh", number="A023",
                  sector_name="Tư pháp – Hộ tịch", procedure_name="Đăng ký khai sinh",
                  issued_at="08:15 25/11/2026", ahead=4, est_wait_s=1260,
                  track_url="http://127.0.0.1:8080/t/abc123?k=Zq9", priority="elderly")
GUIDE = GuidanceSlip(site_name="Trung tâm Phục vụ hành chính công", procedure_name="Đăng ký kết hôn",
                     portal_url="https://dichvucong.gov.vn/p/home/dvc-trang-chu.html",
                     steps=("Mở Cổng Dịch vụ công quốc gia bằng điện thoại.", "Đăng nhập bằng tài khoản VNeID.",
                            "Chọn “Đăng ký kết hôn”, điền tờ khai và gửi hồ sơ."))


def find_qr(img: Image.Image, data: str) -> tuple[int, int, int] | None:
    """Where the QR of `data` sits in the image (x, y, module px), comparing every module."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    matrix = np.array(code.get_matrix(), dtype=bool)   # True = dark, border included
    n = matrix.shape[0]
    px = np.array(img.convert("L")) < 128
    h, w = px.shape
    for module in range(2, 12):
        side = n * module
        if side > w:
            break
        x = (w - side) // 2
        centres = np.arange(n) * module + module // 2
        for y in range(0, h - side):
            sample = px[y + centres][:, x + centres]
            if sample[0, 2] == matrix[0, 2] and np.array_equal(sample, matrix):
                return x, y, module
    return None


def test_ticket_image_has_printer_width_vietnamese_font_and_the_tracking_qr():
    img = render_ticket(SLIP, 576)
    assert img.mode == "1" and img.width == 576 and 600 < img.height < 1400
    assert find_qr(img, SLIP.track_url) is not None
    cmap_r = TTFont(str(FONT_REGULAR)).getBestCmap()
    cmap_b = TTFont(str(FONT_BOLD)).getBestCmap()
    text = unicodedata.normalize("NFC", SLIP.site_name + SLIP.sector_name + SLIP.procedure_name
                                 + "Số người đang chờ trước bạn Thời gian chờ dự kiến Ưu tiên: Người cao tuổi")
    assert [c for c in text if ord(c) not in cmap_r or ord(c) not in cmap_b] == []
    # accents are drawn: the same slip without them gives a different picture
    plain = render_ticket(TicketSlip(**{**SLIP.__dict__, "sector_name": "Tu phap - Ho tich"}), 576)
    assert plain.tobytes() != img.tobytes()


def test_58mm_ticket_fits_384_dots():
    img = render_ticket(SLIP, 384)
    assert img.width == 384 and find_qr(img, SLIP.track_url) is not None


def test_dummy_printer_bytes_decode_back_to_the_same_ticket():
    tp = TicketPrinter(PrinterSettings(kind="dummy", width_px=576, profile="TM-T20II"))
    outcome = tp.print_ticket(SLIP)
    assert outcome.status == "ok"
    out = tp._printer().output
    assert out.endswith(b"\x1dVA\x00") or b"\x1dV" in out[-8:]      # cut at the end
    back = decode_raster(out)
    drawn = render_ticket(SLIP, 576).convert("L")
    assert back.size == drawn.size
    assert np.array_equal(np.array(back) < 128, np.array(drawn) < 128)
    assert find_qr(back, SLIP.track_url) is not None
    # what the printer prints, for docs/kiosk.md
    shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    back.save(shots / "kiosk-printed-ticket.png")


def test_guidance_slip_prints_portal_qr_and_steps():
    tp = TicketPrinter(PrinterSettings(kind="dummy", width_px=512, profile="TM-T88V"))
    assert tp.print_guidance(GUIDE).status == "ok"
    back = decode_raster(tp._printer().output)
    assert back.width == 512
    assert find_qr(back, GUIDE.portal_url) is not None
    assert back.height == render_guidance(GUIDE, 512).height


def test_width_is_capped_by_the_profile():
    tp = TicketPrinter(PrinterSettings(kind="dummy", width_px=576, profile="TM-T88V"))   # 512 dots
    assert tp.width == 512 and tp.print_ticket(SLIP).status == "ok"


def test_file_printer_writes_the_stream(tmp_path):
    path = tmp_path / "lp0"
    path.write_bytes(b"")
    tp = TicketPrinter(PrinterSettings(kind="file", path=str(path)))
    assert tp.print_ticket(SLIP).status == "ok"
    assert find_qr(decode_raster(path.read_bytes()), SLIP.track_url) is not None


class Scripted(escpos_printer.Dummy):
    """A Dummy that answers DLE EOT status queries the way a real Epson does."""

    answers_status = True

    def __init__(self, online=0x12, cause=0x12, paper=0x12, **kw):
        super().__init__(**kw)
        self.replies = {b"\x10\x04\x01": online, b"\x10\x04\x02": cause, b"\x10\x04\x04": paper}
        self.last = b""

    def _raw(self, msg):
        self.last = msg
        super()._raw(msg)

    def _read(self):
        return bytes([self.replies[self.last]])


@pytest.mark.parametrize("kw,status", [
    ({"paper": 0x72}, "paper_out"),
    ({"online": 0x1A, "cause": 0x16}, "cover_open"),
    ({"online": 0x1A, "cause": 0x32}, "paper_out"),
    ({"online": 0x1A, "cause": 0x12}, "offline"),
])
def test_printer_trouble_is_reported_and_nothing_is_printed(kw, status):
    p = Scripted(**kw)
    tp = TicketPrinter(PrinterSettings(kind="dummy"), factory=lambda s: p)
    outcome = tp.print_ticket(SLIP)
    assert outcome.status == status
    assert b"\x1dv0" not in p.output


def test_paper_low_still_prints():
    p = Scripted(paper=0x1E)
    tp = TicketPrinter(PrinterSettings(kind="dummy"), factory=lambda s: p)
    outcome = tp.print_ticket(SLIP)
    assert outcome.status == "ok" and outcome.paper_low and b"\x1dv0" in p.output


def test_unplugged_printer_is_offline_then_recovers_on_reprint():
    state = {"plugged": False}

    def factory(settings):
        if not state["plugged"]:
            raise DeviceNotFoundError("USB device not found")
        return escpos_printer.Dummy(profile="TM-T20II")

    tp = TicketPrinter(PrinterSettings(kind="usb"), factory=factory)
    assert tp.print_ticket(SLIP).status == "offline"
    state["plugged"] = True
    assert tp.print_ticket(SLIP).status == "ok"


def test_usb_without_pyusb_is_offline_not_a_crash():
    tp = TicketPrinter(PrinterSettings(kind="usb", usb_vendor=0x04B8, usb_product=0x0E15))
    outcome = tp.print_ticket(SLIP)
    assert outcome.status == "offline" and outcome.detail


class FakeNetworkPrinter:
    """A TCP port 9100 printer on loopback: keeps the bytes, answers DLE EOT queries."""

    def __init__(self, paper=0x12):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.data = bytearray()
        self.paper = paper
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                self.data += chunk
                if chunk.endswith(b"\x10\x04\x01"):
                    conn.sendall(b"\x12")
                elif chunk.endswith(b"\x10\x04\x04"):
                    conn.sendall(bytes([self.paper]))


def test_network_printer_over_real_tcp():
    fake = FakeNetworkPrinter()
    tp = TicketPrinter(PrinterSettings(kind="network", host="127.0.0.1", port=fake.port))
    assert tp.print_ticket(SLIP).status == "ok"
    tp._drop()                        # close the socket so every byte has arrived
    until(lambda: b"\x1dV" in fake.data[-8:], timeout=5)     # the cut: the whole ticket is in
    assert find_qr(decode_raster(bytes(fake.data)), SLIP.track_url) is not None


def test_network_printer_out_of_paper_and_refused_connection():
    fake = FakeNetworkPrinter(paper=0x72)
    tp = TicketPrinter(PrinterSettings(kind="network", host="127.0.0.1", port=fake.port))
    assert tp.print_ticket(SLIP).status == "paper_out"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]        # nothing listens once closed
    tp2 = TicketPrinter(PrinterSettings(kind="network", host="127.0.0.1", port=dead_port))
    assert tp2.print_ticket(SLIP).status == "offline"


def test_check_reports_without_printing_and_sees_a_refill():
    p = Scripted(paper=0x72)
    tp = TicketPrinter(PrinterSettings(kind="dummy"), factory=lambda s: p)
    assert tp.check().status == "paper_out"
    p.replies[b"\x10\x04\x04"] = 0x12
    assert tp.check().status == "ok" and b"\x1dv0" not in p.output


def test_check_of_a_missing_device_file_is_offline(tmp_path):
    tp = TicketPrinter(PrinterSettings(kind="file", path=str(tmp_path / "no-such-dir" / "lp0")))
    assert tp.check().status == "offline"


@pytest.fixture
def device_on_utc():
    """The device's OS zone set to UTC (a Pi left on its default), restored afterwards."""
    import os
    import time
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


class _IssuingServer:
    """Answers ticket.issue as the queue server does: issued_at in UTC with its offset."""

    def request(self, type_, fields, req_id, timeout):
        return {"ok": True, "req_id": req_id, "result": {"ticket": {
            "id": "t1", "number": "A023", "sector": fields["sector"], "procedure": fields.get("procedure"),
            "priority": fields["priority"], "issued_at": "2026-11-25T09:36:00+00:00", "position": 5,
            "ahead": 4, "est_wait_s": 1260, "track_url": SLIP.track_url}}}

    def set_status(self, **fields):
        pass


def test_the_printed_time_is_the_sites_whatever_the_devices_zone(device_on_utc):
    """Issue #14: on a Pi left on UTC the ticket said 09:36 when it was 16:36 in Hà Nội."""
    from kiosk.catalogue import parse_catalogue
    from queue_server.catalogue import catalogue_document
    from queue_server.config import load_site
    from queue_server.domain.state import SiteState
    from kiosk.viewmodel import KioskViewModel
    site = load_site(Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml")
    assert site.site.timezone == "Asia/Ho_Chi_Minh"
    catalogue = parse_catalogue(catalogue_document(SiteState.initial(site), site))
    tp = TicketPrinter(PrinterSettings(kind="dummy", width_px=576, profile="TM-T20II"))
    vm = KioskViewModel(backend=_IssuingServer(), printer=tp, catalogue=catalogue, run_async=lambda fn: fn())
    vm.open_sector("tu-phap-ho-tich")
    vm.open_procedure("khai-sinh")
    vm.take_ticket()
    assert vm.print_status == "ok"
    back = np.array(decode_raster(tp._printer().output)) < 128
    printed = vm._ticket_slip()

    def drawn(when: str):
        return np.array(render_ticket(TicketSlip(**{**printed.__dict__, "issued_at": when}), 576).convert("L")) < 128

    assert np.array_equal(back, drawn("16:36 25/11/2026"))         # Hà Nội's time, read back from the bytes
    assert not np.array_equal(back, drawn("09:36 25/11/2026"))     # not the device's UTC
