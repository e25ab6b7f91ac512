"""Issue #16, the key of the ID card hash provisioned (firmware_config/provision.py, motcua/id_key.py):
`motcua provision` makes it once (the province's when the inventory names a province, else the
site's), puts it in the site server's data directory and on each kiosk (mode 0600, with the
kiosk's config naming it), and keeps it when run again. Then on real parts: the site server
started on the provisioned key file and a real mosquitto, a booking made on the site's booking
page with a typed ID card number, and both provisioned kiosks hashing that card's scanned QR to
the hash the server stored; one kiosk checks the booking in by the card. A kiosk without the
key says so in its log and does not invite a card, and the card's check-in is refused in words.

The service reads its clock through `service.clock` (as tests/integration/test_kiosk_checkin.py):
the test puts it just inside the slot instead of waiting."""
from __future__ import annotations

import argparse
import logging
import shutil
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from firmware_config.device_config import load_device_config, parse_device_config
from firmware_config.inventory import parse_inventory
from firmware_config.provision import provision
from kiosk.printing import TicketPrinter
from kiosk.runtime import build_kiosk
from motcua.commands import provision as provision_cli
from motcua.id_key import IdKeyError, read_id_key
from protocol import cccd
from tests.support.booking_web import Citizen
from tests.support.open_site import open_now
from tests.support.site import RunningSite

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "site-inventory.yaml"
PROCEDURE = "khai-sinh"
NUMBER = "001090000777"
BOOKINGS = {"slot_min": 30, "share": 0.5, "days_ahead": 14}


def inventory_data(*, bookings: bool = True, province: bool = True) -> dict:
    """The example inventory (a server, two kiosks, a display, two counters) taking bookings."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    if bookings:
        data["bookings"] = dict(BOOKINGS)
    if not province:
        data["inventory"].pop("province")
    return data


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def host_dir(bundle, hostname: str) -> Path:
    return next(b.directory for b in bundle.hosts if b.host.hostname == hostname)


def files_of(bundle, hostname: str) -> Path:
    return host_dir(bundle, hostname) / "files"


def card_qr(number: str) -> str:
    return f"{number}||Nguyễn Văn A|01011990|Nam|1 Lê Lợi, Huế|01012022"


def test_provisioning_puts_one_key_on_the_server_and_each_kiosk_and_keeps_it(tmp_path, capsys):
    out = tmp_path / "out"
    inv = parse_inventory(inventory_data(), "example")
    bundle = provision(inv, out)
    province_key = out / "province" / "id-hash.key"
    assert mode(province_key) == 0o600
    key = read_id_key(province_key)
    text = province_key.read_text()

    server = files_of(bundle, "mc-server") / "var" / "lib" / "motcua" / "id-hash.key"
    assert server.read_text() == text and mode(server) == 0o600
    manifest = (host_dir(bundle, "mc-server") / "manifest.txt").read_text()
    assert "0600 motcua:motcua /var/lib/motcua/id-hash.key" in manifest
    unit = (files_of(bundle, "mc-server") / "etc" / "systemd" / "system" / "motcua-server.service").read_text()
    assert "--data-dir /var/lib/motcua " in unit       # where the server looks for bookings.id_key_file
    for hostname in ("mc-kiosk-1", "mc-kiosk-2"):
        etc = files_of(bundle, hostname) / "etc" / "motcua"
        assert (etc / "id-hash.key").read_text() == text and mode(etc / "id-hash.key") == 0o600
        assert load_device_config(etc / "kiosk.yaml", "kiosk").id_hash_key_file == "/etc/motcua/id-hash.key"
        assert "0600 motcua:motcua /etc/motcua/id-hash.key" in (host_dir(bundle, hostname) / "manifest.txt").read_text()
    for hostname in ("mc-display-1", "mc-counter-1", "mc-counter-2"):   # only kiosks read cards
        assert not any(p.name == "id-hash.key" for p in files_of(bundle, hostname).rglob("*"))
    assert not (bundle.directory / "id-hash.key").exists()     # the province's, not the site's

    # again, and another site of the same province: the same key (limits span its centres)
    assert read_id_key(server) == key
    provision(inv, out)
    other_data = inventory_data()
    other_data["site"]["id"] = "other-district"
    other = provision(parse_inventory(other_data, "other"), out)
    assert (files_of(other, "mc-server") / "var" / "lib" / "motcua" / "id-hash.key").read_text() == text
    assert province_key.read_text() == text

    # a site with no province: its own key, kept with its credentials
    alone = provision(parse_inventory(inventory_data(province=False), "alone"), tmp_path / "alone")
    own = alone.directory / "id-hash.key"
    assert mode(own) == 0o600 and own.read_text() != text
    assert (files_of(alone, "mc-kiosk-1") / "etc" / "motcua" / "id-hash.key").read_text() == own.read_text()

    # a site that takes no bookings: no key anywhere, kiosks not told of one
    none = provision(parse_inventory(inventory_data(bookings=False), "none"), tmp_path / "none")
    assert not any(p.name == "id-hash.key" for p in none.directory.rglob("*"))
    assert load_device_config(files_of(none, "mc-kiosk-1") / "etc" / "motcua" / "kiosk.yaml").id_hash_key_file is None

    # `motcua provision` never prints the key; a key file that is there but broken is said (its
    # name, not what it holds) and never replaced (a new key would orphan every booking's hash)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(inventory_data(), allow_unicode=True), encoding="utf-8")
    parser = argparse.ArgumentParser()
    provision_cli.add_arguments(parser)
    assert provision_cli.run(parser.parse_args([str(inventory), "--out", str(out)])) == 0
    printed = capsys.readouterr()
    assert text.strip() not in printed.out + printed.err
    province_key.write_text("not hex\n")
    with pytest.raises(IdKeyError, match="hex digits"):
        provision(inv, out)
    assert provision_cli.run(parser.parse_args([str(inventory), "--out", str(out)])) == 2
    assert f"{province_key}: the ID hash key must be hex digits" in capsys.readouterr().err
    assert province_key.read_text() == "not hex\n"


def test_kiosks_hash_a_card_as_the_server_and_check_in_a_booking_made_on_the_site_page(tmp_path, caplog):
    out = tmp_path / "out"
    bundle = provision(parse_inventory(inventory_data(), "example"), out)
    key = read_id_key(out / "province" / "id-hash.key")
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    # the server host's files as installed: its site config (made open now), its broker users and
    # the key in its data directory
    server_files = files_of(bundle, "mc-server")
    site_path = open_now(server_files / "etc" / "motcua" / "site.yaml", tmp_path)
    shutil.copy(server_files / "etc" / "motcua" / "credentials.json", site_dir / "credentials.json")
    shutil.copy(server_files / "var" / "lib" / "motcua" / "id-hash.key", site_dir / "id-hash.key")
    with RunningSite(site_dir, site_path) as running:
        service = running.service
        assert service.id_hash_key == key                 # read, not made anew
        tz = running.site.site.tz
        real = datetime.now(tz)
        slot = (real + timedelta(hours=1)).replace(second=0, microsecond=0)
        slot += timedelta(minutes=(30 - slot.minute % 30) % 30)

        # the citizen books on the site's page, typing their number
        me = Citizen(running.http_url)
        confirm = f"/book/{PROCEDURE}/confirm"
        status, _, location = me.post(confirm, {**me.form(f"{confirm}?slot={slot:%Y-%m-%dT%H:%M}"),
                                                "cccd": NUMBER, "phone": ""})
        assert status == 302, status
        code = location.split("/")[3].split("?")[0]
        stored = next(e.data["id_hash"] for e in running.events("booking.created") if e.data["code"] == code)

        kiosks = {}
        for hostname in ("mc-kiosk-1", "mc-kiosk-2"):
            etc = files_of(bundle, hostname) / "etc" / "motcua"
            data = yaml.safe_load((etc / "kiosk.yaml").read_text())
            # as installed on the Pi, but reaching this machine's broker and server, no hardware
            data["mqtt"]["url"] = running.broker_url
            data.update(server_url=running.http_url, printer={"kind": "dummy"}, speech={"enabled": False},
                        screen={}, buttons={}, id_hash_key_file=str(etc / "id-hash.key"))
            kiosks[data["id"]] = build_kiosk(parse_device_config(data, "kiosk"), cache_dir=tmp_path / data["id"],
                                             printer=TicketPrinter(parse_device_config(data, "kiosk").printer),
                                             with_buttons=False, post=lambda fn: fn())
        for kiosk in kiosks.values():
            # what leaves the kiosk for this card is the hash the server stored for the typed number
            summary = cccd.parse_qr(card_qr(NUMBER), real.date()).leaving(kiosk.vm._id_key(), real.date())
            assert summary.id_hash == stored
            assert kiosk.vm.checkin_view()["prompt"] == kiosk.vm.t(
                "Type your booking code, or scan its QR code or your ID card's QR code.")

        service.clock = lambda: slot + timedelta(minutes=2)       # in the slot: on time
        kiosk = kiosks["k1"]
        kiosk.vm.run_async = lambda fn: fn()      # the request and the print in the test's thread
        kiosk.start(wait=5)
        try:
            vm = kiosk.vm
            vm.open_checkin()
            vm.on_scan(card_qr(NUMBER))
            assert vm.ticket_status == "issued", (vm.screen, vm.checkin_error)
            assert vm.booking.code == code
            assert [e.data["code"] for e in running.events("booking.checked_in")] == [code]
        finally:
            kiosk.stop()
            service.clock = lambda: datetime.now(tz)

        # the other kiosk loses its key file: it says so in its log, does not invite a card, and a
        # scanned card is answered in words with the code offered instead
        other = kiosks["k2"]
        caplog.set_level(logging.INFO, logger="kiosk.checkin")
        Path(other.vm.settings.id_hash_key_file).unlink()
        vm = other.vm
        vm.open_checkin()
        assert vm.checkin_view()["prompt"] == vm.t("Type your booking code, or scan its QR code.")
        vm.on_scan(card_qr(NUMBER))
        assert vm.screen == "checkin" and vm.checkin_offer_code
        assert vm.checkin_error == cccd.CccdError("key", "").text(vm.lang)
        said = [r.getMessage() for r in caplog.records if r.name == "kiosk.checkin"]
        assert any("check-in by ID card is off" in m and "no ID hash key file" in m for m in said), said
        assert all(key.hex() not in m for m in said)
