"""The site broker's TLS listener option (firmware_config.broker.SiteTls) with a site CA.

A self-signed CA and a server certificate are made here with the openssl CLI; the broker runs with
only the TLS listener; a real `motcua server` and a kiosk connect over mqtts:// trusting the site
CA and a ticket is issued. A client that trusts another CA, a plain-MQTT client and a wrong
password are all refused.
"""
from __future__ import annotations


from firmware_config.broker import SiteTls
from protocol.client import DeviceClient
from queue_server.config import load_site
from tests.support.broker import free_port
from tests.support.procs import ServerProcess, make_test_ca, site_broker, site_with_kiosks, stop_clients


def test_tls_only_site_broker_with_a_site_ca(tmp_path):
    ca = make_test_ca(tmp_path / "ca")
    rogue = make_test_ca(tmp_path / "rogue", name="someone else's CA")
    site_path = site_with_kiosks(tmp_path, 2)
    site = load_site(site_path)
    tls_port = free_port()
    broker, files = site_broker(tmp_path / "mosquitto", site, port=tls_port,
                                tls=SiteTls(port=tls_port, cafile=ca["ca"], certfile=ca["cert"], keyfile=ca["key"]),
                                plain=False)
    conf = files.conf.read_text()
    assert conf.count("\nlistener ") == 1, "plain=False must leave no unencrypted listener"
    assert f"listener {tls_port} 127.0.0.1" in conf and "certfile" in conf and "tls_version tlsv1.2" in conf
    assert files.tls_ca is not None and (files.tls_ca.stat().st_mode & 0o777) and \
        ((tmp_path / "mosquitto" / "tls-server.key").stat().st_mode & 0o077) == 0
    url = f"mqtts://127.0.0.1:{tls_port}"
    server = ServerProcess(tmp_path / "server", site_path, url, files.credentials,
                           extra=["--ca-file", str(files.tls_ca)])
    clients: list[DeviceClient] = []

    def kiosk(ca_file, password=None, client_id=None, broker=url):
        c = files.creds["kiosk"]["k1"]
        client = DeviceClient(broker, site.id, "kiosk", "k1", username=c["username"],
                              password=password or c["password"], ca_file=ca_file, client_id=client_id)
        clients.append(client)
        return client

    try:
        server.start()
        good = kiosk(str(files.tls_ca))
        assert good.start(10), "a kiosk trusting the site CA could not connect over TLS"
        reply = good.request("ticket.issue", {"sector": "dat-dai"}, timeout=10)
        assert reply["ok"], reply

        assert not kiosk(str(rogue["ca"]), client_id="rogue-ca").start(1.5), "a certificate of another CA was accepted"
        assert not kiosk(str(files.tls_ca), password="guess", client_id="bad-pass").start(1.5)
        plain = kiosk(None, client_id="plain", broker=f"mqtt://127.0.0.1:{tls_port}")
        assert not plain.start(1.5), "plain MQTT was accepted on the TLS listener"
    finally:
        stop_clients(clients)
        server.stop()
        broker.stop()
