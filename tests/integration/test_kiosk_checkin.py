"""Issue #16 at the kiosk on real parts: a kiosk against the real queue server over a real
mosquitto checks in a booking from its scanned QR and another from the citizen's scanned ID card
(hashed with the site's key file), each ticket read back from the printer's ESC/POS bytes with its
'Đặt lịch / Booked HH:MM' line; a refusal shows the server's words; a walk-in's card of 60 or over
with no booking opens the priority screen.

The service reads its clock through `service.clock` (as tests/integration/test_booking_mqtt.py):
the test puts it just inside the slot instead of waiting."""
from __future__ import annotations

import os
import queue
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from firmware_config.device_config import PrinterSettings, parse_device_config
from kiosk.printing import TicketPrinter, TicketSlip, render_ticket
from kiosk.runtime import build_kiosk
from protocol import booking_code, booking_texts, cccd
from queue_server.domain.commands import CreateBooking
from tests.support.scanner_records import records
from tests.support.escpos_raster import decode_raster
from tests.support.open_site import open_now
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(120)
DEMO = Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml"
JUSTICE, BIRTH = "tu-phap-ho-tich", "khai-sinh"


def card_qr(number: str, birth: str) -> str:
    return f"{number}||Nguyễn Văn A|{birth}|Nam|1 Lê Lợi, Huế|01012022"


def dots(slip: TicketSlip) -> np.ndarray:
    return np.array(render_ticket(slip, 576).convert("L")) < 128


def test_a_booking_checked_in_by_its_qr_and_by_a_card_prints_booked_tickets(tmp_path):
    fifo = tmp_path / "event-kbd"
    os.mkfifo(fifo)
    device = os.open(fifo, os.O_RDWR)          # the scanner, plugged in
    scanned = queue.Queue()                    # what the kiosk's threads hand to the "UI thread"
    with RunningSite(tmp_path / "site", open_now(DEMO, tmp_path)) as running:
        service = running.service
        tz = running.site.site.tz
        real = datetime.now(tz)
        slot = (real + timedelta(hours=1)).replace(second=0, microsecond=0)
        slot += timedelta(minutes=(30 - slot.minute % 30) % 30)
        clock = [real]
        service.clock = lambda: clock[0]
        today = real.date()
        young = "001090000001"
        elder_year = today.year - 70
        # a 70-year-old's number: province 001, century/sex digit 0 (20th century, male), the year
        elder = f"0010{elder_year % 100:02d}000002"
        codes = {}
        for name, number in (("young", young), ("elder", elder)):
            made = service.execute("web", "web", CreateBooking(
                procedure=BIRTH, slot=slot.strftime("%Y-%m-%dT%H:%M"), id_hash=cccd.id_hash(service.id_hash_key, number)))
            assert made["ok"], made
            codes[name] = made["result"]["booking"]["code"]
        clock[0] = slot + timedelta(minutes=2)          # in the slot: on time

        user, password = running.credentials("kiosk", "k2")
        config = parse_device_config({"site": running.site.id, "id": "k2",
                                      "mqtt": {"url": running.broker_url, "username": user, "password": password},
                                      "server_url": running.http_url, "printer": {"kind": "dummy"},
                                      "speech": {"enabled": False},
                                      "id_hash_key_file": str(running.dir / "id-hash.key"),
                                      "scanner_device": str(fifo)}, "kiosk")
        printer = TicketPrinter(PrinterSettings(kind="dummy", width_px=576, profile="TM-T20II"))
        # a FIFO stands in for the scanner's /dev/input device (tests/integration/test_scanner_evdev.py):
        # it cannot be grabbed
        kiosk = build_kiosk(config, cache_dir=tmp_path / "cache", printer=printer, with_buttons=False,
                            post=scanned.put, scanner_grab=False)
        kiosk.vm.run_async = lambda fn: fn()      # the request and the print in the test's thread
        kiosk.start(wait=5)
        try:
            vm = kiosk.vm
            # the booking's QR, read by the scanner's device on the home screen
            os.write(device, records(booking_code.qr_payload("https://datlich.example.vn", running.site.id,
                                                             codes["young"])))
            while vm.print_status != "ok":
                scanned.get(timeout=10)()           # the UI thread's work: the scan, the reply, the print
            vm.post = lambda fn: fn()               # from here the test calls the view-model itself
            assert vm.ticket_status == "issued" and vm.print_status == "ok", (vm.screen, vm.error, vm.checkin_error)
            slip = vm._ticket_slip()
            assert slip.booked_at == slot.strftime("%H:%M") and vm.booking.code == codes["young"]
            assert np.array_equal(np.array(decode_raster(printer._printer().output)) < 128, dots(slip))
            assert not np.array_equal(dots(slip), dots(TicketSlip(**{**slip.__dict__, "booked_at": None})))
            assert vm.checkin_notice() == booking_texts.text("booking_on_time", "vi")
            first = vm.ticket.number

            # the second citizen's ID card, scanned on the check-in screen after the first went home
            vm.go_home()
            printer._printer().clear()
            vm.open_checkin()
            vm.on_scan(card_qr(elder, f"0101{elder_year}"))
            assert vm.ticket_status == "issued" and vm.print_status == "ok", (vm.screen, vm.checkin_error)
            assert vm.booking.code == codes["elder"] and vm.ticket.number != first
            slip = vm._ticket_slip()
            assert np.array_equal(np.array(decode_raster(printer._printer().output)) < 128, dots(slip))
            checked = [e.data for e in running.events("booking.checked_in")]
            assert sorted(c["code"] for c in checked) == sorted(codes.values())

            # the same card again: used, said on the check-in screen in the server's words
            vm.go_home()
            vm.open_checkin()
            vm.on_scan(card_qr(elder, f"0101{elder_year}"))
            assert vm.screen == "checkin" and vm.ticket is None
            assert vm.checkin_error == booking_texts.text("booking_not_found", "vi")

            # a walk-in's card of 60 or over with no booking here: the priority screen, elderly chosen
            vm.go_home()
            vm.on_scan(card_qr(f"0010{elder_year % 100:02d}000003", f"0101{elder_year}"))
            assert vm.screen == "priority" and vm.priority == "elderly"
        finally:
            kiosk.stop()
            os.close(device)
            service.clock = lambda: datetime.now(tz)
