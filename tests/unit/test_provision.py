"""Provisioning from a site inventory: validation errors, generated files, systemd units."""
from __future__ import annotations

import copy
import json
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from firmware_config.device_config import load_device_config
from firmware_config.inventory import InventoryError, parse_inventory
from firmware_config.provision import provision
from motcua.commands import provision as provision_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "site-inventory.yaml"


@pytest.fixture(scope="module")
def example_data():
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def errors_of(data) -> str:
    with pytest.raises(InventoryError) as exc:
        parse_inventory(data, "inv.yaml")
    return str(exc.value)


def test_example_inventory_is_valid(example_data):
    inv = parse_inventory(copy.deepcopy(example_data))
    assert inv.site.id == "demo-district"
    assert [h.role for h in inv.hosts].count("server") == 1
    assert inv.broker_url == "mqtt://192.168.10.10:1883"
    assert inv.unassigned() == []


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.pop("inventory"), "inventory: missing"),
    (lambda d: d["inventory"]["hosts"][1].update(id="k9"), "inventory.hosts[1].id: kiosk 'k9' is not in devices.kiosks"),
    (lambda d: d["inventory"]["hosts"][2].update(hostname="mc-kiosk-1"),
     "inventory.hosts[2].hostname: 'mc-kiosk-1' already used by hosts[1]"),
    (lambda d: d["inventory"]["hosts"][2].update(id="k1"), "inventory.hosts[2].id: kiosk 'k1' already runs on hosts[1]"),
    (lambda d: d["inventory"]["hosts"][1]["gpio"].update(hepl=4), "inventory.hosts[1].gpio.hepl: unknown kiosk pin"),
    (lambda d: d["inventory"]["hosts"][1]["gpio"].update(help=40), "inventory.hosts[1].gpio.help: BCM pin must be 0..27"),
    (lambda d: d["inventory"]["hosts"][1]["gpio"].update(speak=16), "inventory.hosts[1].gpio.speak: pin 16 is also help"),
    (lambda d: d["inventory"]["hosts"][4]["gpio"].update(keypad={"nxt": 5}), "inventory.hosts[4].gpio.keypad.nxt: unknown keypad pin"),
    (lambda d: d["inventory"]["hosts"][3].update(printer={"kind": "usb"}), "only a kiosk has a ticket printer"),
    (lambda d: d["inventory"]["hosts"][1]["printer"].update(kind="parallel"), "inventory.hosts[1].printer.kind: Input should be"),
    (lambda d: d["inventory"]["hosts"][1]["screen"].update(rotation=45), "inventory.hosts[1].screen.rotation"),
    (lambda d: d["inventory"]["hosts"][3].pop("id"), "a display host needs the device id"),
    (lambda d: d["inventory"]["hosts"].pop(0), "exactly one host must have role server (found 0)"),
    (lambda d: d["inventory"]["broker"].update(port=70000), "inventory.broker.port"),
    (lambda d: d["inventory"].update(colour="blue"), "inventory.colour: Extra inputs are not permitted"),
    (lambda d: d["inventory"]["hosts"][0].update(hostname="MC_Server"), "inventory.hosts[0].hostname: String should match"),
    (lambda d: d["site"].update(id="province"), "site.id: 'province' is reserved"),
    (lambda d: d["counters"][0].update(sectors=["nope"], trained=["nope"]), "counters[0].sectors: unknown sector 'nope'"),
    (lambda d: d["inventory"]["province"].update(cafile=None), "inventory.province: Value error, cafile"),
])
def test_bad_inventory_names_the_field(example_data, mutate, expected):
    data = copy.deepcopy(example_data)
    mutate(data)
    assert expected in errors_of(data)


def test_not_a_mapping():
    assert "expected a mapping" in errors_of(["site"])


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, example_data):
    """The example provisioned with its prefix in a temp dir, so systemd-analyze finds the executables."""
    out = tmp_path_factory.mktemp("fleet")
    prefix = out / "opt-motcua"
    data = copy.deepcopy(example_data)
    data["inventory"]["prefix"] = str(prefix)
    inv = parse_inventory(data, "example")
    bundle = provision(inv, out / "out")
    return inv, bundle, prefix


def test_every_device_config_parses(fleet):
    inv, bundle, _ = fleet
    creds = json.loads(bundle.credentials.read_text())
    roles = {}
    for b in bundle.hosts:
        if b.host.role == "server":
            continue
        path = b.directory / "files" / "etc" / "motcua" / f"{b.host.role}.yaml"
        conf = load_device_config(path, b.host.role)
        roles[b.host.hostname] = conf
        assert conf.site == "demo-district" and conf.id == b.host.id
        assert conf.mqtt.url == "mqtt://192.168.10.10:1883"
        assert conf.mqtt.password == creds[b.host.role][b.host.id]["password"]
        assert conf.server_url == "http://192.168.10.10:8080"
    k1 = roles["mc-kiosk-1"]
    assert (k1.printer.kind, k1.printer.usb_vendor, k1.printer.usb_product) == ("usb", 0x04B8, 0x0E15)
    assert (k1.buttons.help, k1.buttons.speak, k1.buttons.ticket) == (16, 20, None)
    assert (k1.screen.width, k1.screen.height, k1.screen.rotation, k1.screen.rotation_by) == (1080, 1920, 90, "os")
    assert roles["mc-kiosk-2"].printer.host == "192.168.10.31"
    q1 = roles["mc-counter-1"]
    assert (q1.keypad.next, q1.keypad.done, q1.rating.led) == (5, 13, 25)
    assert roles["mc-counter-2"].show_screen is False


def test_secrets_are_private_and_kept(fleet, example_data, tmp_path):
    inv, bundle, _ = fleet
    site_dir = bundle.directory
    creds = json.loads(bundle.credentials.read_text())
    passwords = {u["password"] for kind in ("kiosk", "counter", "display") for u in creds[kind].values()}
    passwords.add(creds["server"]["password"])
    for path in site_dir.rglob("*"):
        if not path.is_file():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(errors="replace")
        if any(p in text for p in passwords) or path.name in ("passwd", "acl", "credentials.json"):
            assert mode == 0o600, f"{path} holds a secret but is {mode:o}"
    assert (site_dir / ".gitignore").read_text() == "*\n"
    manifest = (bundle.hosts[1].directory / "manifest.txt").read_text()
    assert "0600 motcua:motcua /etc/motcua/kiosk.yaml" in manifest
    # provisioning again keeps every password (devices already installed keep working)
    again = provision(inv, site_dir.parent.parent)
    assert json.loads(again.credentials.read_text())["kiosk"] == creds["kiosk"]


def test_systemd_units(fleet):
    inv, bundle, prefix = fleet
    units = sorted(bundle.directory.rglob("*.service"))
    assert {u.name for u in units} == {"motcua-server.service", "motcua-kiosk.service", "motcua-display.service",
                                       "motcua-counter.service"}
    for u in units:
        text = u.read_text()
        assert "Restart=on-failure" in text
        assert re.search(r"^After=network-online\.target", text, re.M)
        assert "Wants=network-online.target" in text
        assert "User=motcua" in text
    kiosk = (bundle.hosts[1].directory / "files/etc/systemd/system/motcua-kiosk.service").read_text()
    assert "PAMName=login" in kiosk and "TTYPath=/dev/tty1" in kiosk and "Conflicts=getty@tty1.service" in kiosk
    headless = (bundle.hosts[5].directory / "files/etc/systemd/system/motcua-counter.service").read_text()
    assert "TTYPath" not in headless and "--config /etc/motcua/counter.yaml" in headless
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here: unit files checked by content only")
    # the executables the units name must exist for verify: stand-ins under the temp prefix
    for exe in (prefix / "current/.venv/bin/motcua", prefix / "bin/motcua-session"):
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    for u in units:
        res = subprocess.run([tool, "verify", "--man=no", str(u)], capture_output=True, text=True)
        problems = [line for line in (res.stdout + res.stderr).splitlines() if line.strip()]
        assert res.returncode == 0 and not problems, f"{u}: {problems}"


def test_scripts_are_valid_shell(fleet):
    _, bundle, _ = fleet
    scripts = [bundle.directory / "update.sh", bundle.directory / "rollback.sh"]
    for b in bundle.hosts:
        scripts += [b.directory / "firstboot.sh", *(b.directory / "files").rglob("motcua-release"),
                    *(b.directory / "files").rglob("motcua-session")]
    for s in scripts:
        shell = "sh" if s.name == "motcua-session" else "bash"
        res = subprocess.run([shell, "-n", str(s)], capture_output=True, text=True)
        assert res.returncode == 0, f"{s}: {res.stderr}"
        assert s.stat().st_mode & 0o100, f"{s} is not executable"
    first = (bundle.hosts[1].directory / "firstboot.sh").read_text()
    assert 'motcua-release" fetch' in first and "systemctl enable motcua-kiosk.service" in first
    release = (bundle.hosts[1].directory / "files").rglob("motcua-release")
    assert "./setup.sh --role \"$ROLE\"" in next(release).read_text()
    assert 'ROLE="kiosk"' in (bundle.hosts[1].directory / "files").joinpath(
        str(fleet[2]).lstrip("/"), "bin/motcua-release").read_text()
    update = (bundle.directory / "update.sh").read_text()
    hosts = re.search(r"HOSTS=\((.*)\)", update).group(1).split()
    assert hosts[0] == '"192.168.10.10"' and hosts[-1] in ('"mc-kiosk-2.local"', '"mc-kiosk-1.local"')


def test_pi_os_settings(fleet):
    _, bundle, _ = fleet
    by_name = {b.host.hostname: b for b in bundle.hosts}
    k1, k2 = by_name["mc-kiosk-1"].directory / "boot", by_name["mc-kiosk-2"].directory / "boot"
    assert (k1 / "cmdline.txt").read_text().split() == ["consoleblank=0", "video=HDMI-A-1:1080x1920@60,rotate=90"]
    assert "dtoverlay=vc4-kms-v3d" in (k1 / "config.txt").read_text()
    assert "dtoverlay=vc4-kms-dsi-7inch,invx,invy" in (k2 / "config.txt").read_text()
    text = (k1 / "config.txt").read_text().splitlines()
    assert text[0] == "# >>> motcua >>>" and text[-1] == "# <<< motcua <<<"
    first = (by_name["mc-kiosk-1"].directory / "firstboot.sh").read_text()
    assert "do_blanking 1" in first and "systemctl disable getty@tty1.service" in first


def test_printer_udev_rule(fleet):
    _, bundle, _ = fleet
    by_name = {b.host.hostname: b for b in bundle.hosts}
    rule = (by_name["mc-kiosk-1"].directory / "files/etc/udev/rules.d/60-motcua-printer.rules").read_text()
    lines = [line for line in rule.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2
    pair = re.compile(r'^[A-Za-z_{}]+(==|\+=|=)"[^"]*"$')
    for line in lines:
        for part in line.split(", "):
            assert pair.match(part), part
    assert 'ATTR{idVendor}=="04b8"' in lines[0] and 'GROUP="lp"' in lines[0]
    # a network printer needs no rule
    assert not (by_name["mc-kiosk-2"].directory / "files/etc/udev").exists()


def test_cli(tmp_path, capsys):
    import argparse
    parser = argparse.ArgumentParser()
    provision_cli.add_arguments(parser)
    assert provision_cli.run(parser.parse_args([str(EXAMPLE), "--out", str(tmp_path / "o")])) == 0
    out = capsys.readouterr().out
    assert "mc-kiosk-1" in out and "never commit" in out
    bad = tmp_path / "bad.yaml"
    data = yaml.safe_load(EXAMPLE.read_text())
    data["inventory"]["hosts"][1]["id"] = "k9"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert provision_cli.run(parser.parse_args([str(bad), "--out", str(tmp_path / "o2")])) == 2
    assert "inventory.hosts[1].id" in capsys.readouterr().err
