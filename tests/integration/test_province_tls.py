"""A province link over TLS, from the generated files: `province.tls: true` in the inventory gives
the province broker a TLS-only listener and each site's bridge `bridge_cafile`; a site's events
reach PostgreSQL through the province consumer over mqtts:// (`ca_file`); plain MQTT and a
client trusting another CA are refused on the province port."""
from __future__ import annotations

import json
import ssl
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from firmware_config.inventory import parse_inventory
from firmware_config.localrun import local_inventory_data, province_broker_conf, site_broker_conf
from province.consumer import ProvinceService
from province.store import Store
from firmware_config.provision import provision
from protocol.topics import Topics
from tests.support.broker import Mosquitto, free_port
from tests.support.mqtt_peer import Peer
from tests.support.postgres import pg_url  # noqa: F401  (fixture)
from tests.support.procs import make_test_ca
from tests.support.province import CONFIG, day_events
from tests.support.wait import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site-inventory.yaml"


def _connects(port: int, user: str, password: str, ca: Path | None) -> bool:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{ca is not None}")
    c.username_pw_set(user, password)
    if ca is not None:
        c.tls_set(ca_certs=str(ca))
    try:
        c.connect("127.0.0.1", port, keepalive=5)
        c.loop(timeout=2.0)
        c.loop(timeout=0.5)
        return c.is_connected()
    except (OSError, ssl.SSLError):
        return False
    finally:
        c.disconnect()


def test_site_to_province_over_tls(tmp_path, pg_url):
    ca = make_test_ca(tmp_path / "province-ca", name="motcua test province CA")
    rogue = make_test_ca(tmp_path / "rogue", name="someone else's CA")
    pport, sport = free_port(), free_port()
    data = local_inventory_data(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), broker_port=sport,
                                province_port=pport, site_id="site-a")
    data["inventory"]["province"].update(tls=True, cafile=str(ca["ca"]), broker_cafile=str(ca["ca"]),
                                         broker_certfile=str(ca["cert"]), broker_keyfile=str(ca["key"]))
    bundle = provision(parse_inventory(data), tmp_path / "fleet")
    server_dir = next(b.directory for b in bundle.hosts if b.host.role == "server")
    pdir = tmp_path / "fleet" / "province"
    pconf = province_broker_conf(pdir).replace(f"listener {pport} 0.0.0.0", f"listener {pport} 127.0.0.1")
    assert pconf.count("\nlistener ") == 1 and f"certfile {ca['cert']}" in pconf, "TLS only on the province port"
    bridge = (server_dir / "files/etc/mosquitto/conf.d/motcua-bridge.conf").read_text()
    assert bridge.count(f"bridge_cafile {ca['ca']}") == 2 and "bridge_insecure false" in bridge

    pcreds = json.loads((pdir / "credentials.json").read_text())
    creds = json.loads(bundle.credentials.read_text())
    province = Mosquitto(tmp_path / "run-province", port=pport, conf=pconf)
    site = Mosquitto(tmp_path / "run-site", port=sport, conf=site_broker_conf(server_dir))
    svc, server = None, None
    try:
        province.start()
        site.start()
        user, password = "province", pcreds["province"]["password"]
        assert not _connects(pport, user, password, None), "plain MQTT was accepted on the province port"
        assert not _connects(pport, user, password, rogue["ca"]), "a certificate of another CA was trusted"

        svc = ProvinceService(f"mqtts://127.0.0.1:{pport}", pg_url, CONFIG, username=user, password=password,
                              ca_file=str(ca["ca"]), publish_advice=False).start()
        assert svc.connected.wait(10), "the consumer could not connect over TLS"
        server = Peer(sport, creds["server"]["username"], creds["server"]["password"])
        assert server.ok
        events = day_events("site-a", 10)          # 30 events
        store = Store(pg_url)
        for e in events:
            server.c.publish(Topics("site-a").events_log, e, qos=1)
        assert until(lambda: store.count() == 30, timeout=30), \
            f"only {store.count()} of 30 events crossed the TLS bridge"
        assert [s for s, _ in store.events("site-a")] == list(range(1, 31))
        store.close()
    finally:
        if server:
            server.close()
        if svc:
            svc.stop()
        site.stop()
        province.stop()
