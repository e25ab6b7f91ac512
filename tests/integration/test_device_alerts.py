"""From a kiosk's real printer to the alert a manager reads (issue #14).

A whole real site (mosquitto with the generated users and ACL, the queue server, the web app) and
the kiosk's own code (build_kiosk: view model, KioskLink, DeviceClient, TicketPrinter) over a
python-escpos Dummy that answers the DLE EOT status queries as an Epson does. The kiosk starts
without its ID card key, which the dashboard names until the key is copied in; then it prints, its
printer says cover open, then paper low, then fine; the dashboard's state names each, in Vietnamese.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from escpos import printer as escpos_printer

from firmware_config.device_config import PrinterSettings, parse_device_config
from kiosk.printing import TicketPrinter
from kiosk.runtime import build_kiosk
from tests.support.open_site import open_now
from tests.support.site import RunningSite
from tests.support.wait import wait_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "queue_server" / "sites" / "demo-district.yaml"

pytestmark = pytest.mark.timeout(90)

# DLE EOT replies (ESC/POS): n=1 printer, n=2 offline cause, n=4 paper roll sensor
FINE = {"online": 0x12, "cause": 0x12, "paper": 0x12}
COVER_OPEN = {"online": 0x1A, "cause": 0x16, "paper": 0x12}
PAPER_LOW = {"online": 0x12, "cause": 0x12, "paper": 0x1E}


class EpsonLike(escpos_printer.Dummy):
    """A Dummy whose status answers the test sets (`state`), as a real printer's sensors would."""

    answers_status = True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.state = dict(FINE)
        self._asked = b""

    def _raw(self, msg):
        self._asked = msg
        super()._raw(msg)

    def _read(self):
        key = {b"\x10\x04\x01": "online", b"\x10\x04\x02": "cause", b"\x10\x04\x04": "paper"}[self._asked]
        return bytes([self.state[key]])


def test_a_kiosk_printer_cover_open_then_paper_low_reaches_the_manager(tmp_path):
    paper = EpsonLike()
    # open now, whatever the hour: else the kiosk rightly says "past closing" before printing
    with RunningSite(tmp_path / "site", open_now(DEMO, tmp_path)) as site:
        user, password = site.credentials("kiosk", "k1")
        config = parse_device_config({"site": site.site.id, "id": "k1",
                                      "mqtt": {"url": site.broker_url, "username": user, "password": password},
                                      "server_url": site.http_url, "printer": {"kind": "dummy"},
                                      "speech": {"enabled": False},
                                      "id_hash_key_file": str(tmp_path / "k1-id-hash.key")}, "kiosk")
        printer = TicketPrinter(PrinterSettings(kind="dummy"), factory=lambda settings: paper)
        kiosk = build_kiosk(config, cache_dir=tmp_path / "cache", printer=printer, with_buttons=False)
        kiosk.start(wait=5)
        vm = kiosk.vm

        def alerts() -> list[dict]:
            return [a for a in site.http_get("/dashboard/api/state", site.api_token)["alerts"] if a["device"] == "k1"]

        def ticket() -> None:
            vm.go_home()
            vm.open_sector("tu-phap-ho-tich")
            vm.take_ticket()
            wait_for(lambda: vm.ticket_status == "issued" and vm.print_status not in (None, "printing"),
                     what="a ticket printed (or not)")

        try:
            wait_for(lambda: vm.connected, what="kiosk connected")
            # no ID card key copied to the kiosk yet (the site takes bookings): the manager is told
            wait_for(lambda: [a["kind"] for a in alerts()] == ["id_key_missing"], what="no-key alert")
            assert alerts()[0]["text"].startswith("kiosk k1: chưa xác nhận lịch hẹn bằng căn cước được")
            shutil.copy(site.dir / "id-hash.key", tmp_path / "k1-id-hash.key")     # provisioned again
            assert vm.id_card_ready()           # (a scan, or the kiosk's minute, reads it again)
            wait_for(lambda: alerts() == [], what="the no-key alert cleared")
            paper.state = dict(COVER_OPEN)
            ticket()
            assert vm.print_status == "cover_open"
            wait_for(lambda: [a["kind"] for a in alerts()] == ["printer_cover_open"], what="cover-open alert")
            assert alerts()[0]["text"] == "kiosk k1: nắp máy in đang mở"

            paper.state = dict(PAPER_LOW)        # cover closed; the roll is nearly out: it prints
            ticket()
            assert vm.print_status == "ok"
            wait_for(lambda: [a["kind"] for a in alerts()] == ["paper_low"], what="paper-low alert")
            assert alerts()[0]["text"] == "kiosk k1: máy in sắp hết giấy"
            devices = site.http_get("/api/v1/devices", site.api_token)["devices"]
            k1 = next(d for d in devices if d["kind"] == "kiosk" and d["id"] == "k1")
            assert k1["printer"] == "ok" and k1["paper_low"] is True and k1["online"] is True

            paper.state = dict(FINE)             # a new roll: the alert goes by itself
            ticket()
            wait_for(lambda: alerts() == [], what="the paper-low alert cleared")
        finally:
            kiosk.stop()
        # the kiosk said goodbye: the manager sees it offline
        wait_for(lambda: [a["kind"] for a in alerts()] == ["offline"], what="offline alert")
