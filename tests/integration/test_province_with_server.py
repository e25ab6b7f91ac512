"""The real queue server on a provisioned site: its events reach the province through the bridge.

Provisioned files only: the server runs with the bundle's site.yaml and credentials.json on the
generated site broker; devices log in with the passwords of their generated device configs.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from firmware_config.device_config import load_device_config
from firmware_config.inventory import parse_inventory
from firmware_config.localrun import local_inventory_data, province_broker_conf, site_broker_conf
from province.consumer import ProvinceService
from province.store import Store
from firmware_config.provision import provision
from protocol.client import DeviceClient
from tests.support.province import CONFIG
from tests.support.wait import until
from tests.support.broker import Mosquitto, free_port
from tests.support.postgres import pg_url  # noqa: F401  (fixture)
from tests.support.procs import ServerProcess

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site-inventory.yaml"


def test_real_server_events_reach_the_province(tmp_path, pg_url):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    port, pport = free_port(), free_port()
    inv = parse_inventory(local_inventory_data(data, broker_port=port, province_port=pport, site_id="site-a"))
    bundle = provision(inv, tmp_path / "fleet")
    hosts = {b.host.hostname: b.directory for b in bundle.hosts}
    etc = hosts["mc-server"] / "files" / "etc" / "motcua"
    pdir = bundle.province_dir
    pcreds = json.loads((pdir / "credentials.json").read_text())
    province = Mosquitto(tmp_path / "province", port=pport, conf=province_broker_conf(pdir).replace(
        f"listener {pport} 0.0.0.0", f"listener {pport} 127.0.0.1")).start()
    site = Mosquitto(tmp_path / "site", port=port, conf=site_broker_conf(hosts["mc-server"])).start()
    svc = server = kiosk = counter = None
    try:
        svc = ProvinceService(province.url, pg_url, CONFIG, username="province",
                              password=pcreds["province"]["password"]).start()
        server = ServerProcess(tmp_path / "server", etc / "site.yaml", site.url, etc / "credentials.json").start()
        kconf = load_device_config(hosts["mc-kiosk-1"] / "files/etc/motcua/kiosk.yaml")
        qconf = load_device_config(hosts["mc-counter-1"] / "files/etc/motcua/counter.yaml")
        kiosk = DeviceClient(site.url, "site-a", "kiosk", kconf.id, username=kconf.mqtt.username,
                             password=kconf.mqtt.password)
        counter = DeviceClient(site.url, "site-a", "counter", qconf.id, username=qconf.mqtt.username,
                               password=qconf.mqtt.password)
        assert kiosk.start() and counter.start()
        for _ in range(3):
            reply = kiosk.request("ticket.issue", {"sector": "tu-phap-ho-tich"}, timeout=10)
            assert reply["ok"], reply
        reply = counter.request("call.next", {}, timeout=10)
        assert reply["ok"], reply
        assert counter.request("serve.done", {}, timeout=10)["ok"]

        store = Store(pg_url)
        assert until(lambda: {"ticket.issued", "ticket.called", "ticket.served"}
                     <= {t for _, t in store.events("site-a")}, timeout=30), store.events("site-a")
        seqs = [s for s, _ in store.events("site-a")]
        assert seqs == list(range(seqs[0], seqs[-1] + 1)), seqs     # no gap
        assert [t for _, t in store.events("site-a")].count("ticket.issued") == 3
        # the server's board went out too: waits "now" for the province
        assert until(lambda: any(r["site"] == "site-a" and r["sector"] == "tu-phap-ho-tich"
                                 for r in store.now()), timeout=10)
        row = next(r for r in store.now() if r["sector"] == "tu-phap-ho-tich")
        assert row["waiting"] == 2
        store.close()
    finally:
        for c in (kiosk, counter):
            if c:
                c.stop()
        if server:
            server.stop()
        if svc:
            svc.stop()
        site.stop()
        province.stop()
