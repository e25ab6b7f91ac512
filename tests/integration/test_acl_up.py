"""Security of `motcua up` as a real process: it generates every secret into the data dir
(credentials.json and the web secrets, mode 0600), prints where credentials.json is, and its broker
enforces the same users and ACL: a kiosk acting with credentials.json gets its ticket, may not call
tickets as a counter, and strangers are refused.
"""
from __future__ import annotations

import json
import stat
import time

import pytest

from protocol.client import DeviceClient
from tests.support.procs import UpProcess, stop_clients

pytestmark = pytest.mark.slow     # runs `motcua up` twice


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_motcua_up_writes_private_credentials_and_enforces_the_acl(tmp_path):
    data = tmp_path / "data"
    up = UpProcess(data).start()
    clients: list[DeviceClient] = []
    try:
        cred_path = up.credentials_path
        assert cred_path == (data / "credentials.json").resolve()
        assert mode(cred_path) == 0o600
        creds = json.loads(cred_path.read_text())
        for kind in ("kiosk", "counter", "display"):
            assert creds[kind], f"no {kind} in credentials.json"
            for dev, c in creds[kind].items():
                assert set(c) >= {"username", "password"} and len(c["password"]) >= 16
        passwords = [c["password"] for kind in ("kiosk", "counter", "display") for c in creds[kind].values()]
        assert len(set(passwords)) == len(passwords), "two devices share a password"
        for secret_file in (data / "web-secrets.json", data / "mosquitto" / "passwd"):
            assert mode(secret_file) == 0o600, secret_file
        assert "$7$" in (data / "mosquitto" / "passwd").read_text(), "the broker's passwords are not hashed"

        def device(kind, dev, **kw):
            c = creds[kind][dev]
            client = DeviceClient(up.broker_url, up.site_id, kind, dev, username=c["username"],
                                  password=c["password"], **kw)
            clients.append(client)
            return client

        kiosk = device("kiosk", "k1")
        assert kiosk.start(10)
        reply = kiosk.request("ticket.issue", {"sector": "dat-dai"}, timeout=10)
        assert reply["ok"], reply

        # k1's credentials cannot act as a counter: the publish is dropped, nothing is called
        counter_id = next(iter(creds["counter"]))
        impostor = device("kiosk", "k1", client_id="k1-as-counter")
        assert impostor.start(10)
        got: list[bytes] = []
        real_counter = device("counter", counter_id)
        assert real_counter.start(10)
        assert real_counter.subscribe(real_counter.topics.counter_reply(counter_id), lambda _t, p: got.append(p),
                                      wait=5)     # SUBACK
        impostor.publish(impostor.topics.counter_cmd(counter_id),
                         {"v": 1, "type": "call.next", "req_id": "impostor"}).wait_for_publish(5)
        time.sleep(0.7)     # a negative check: time for a call the impostor caused to be answered
        assert got == [], "a kiosk's credentials made a counter call a ticket"

        # a wrong password is refused by the broker
        stranger = DeviceClient(up.broker_url, up.site_id, "kiosk", "k1", username=creds["kiosk"]["k1"]["username"],
                                password="guess", client_id="stranger")
        clients.append(stranger)
        assert not stranger.start(1.5)
    finally:
        stop_clients(clients)
        code = up.stop()
    assert code == 0, "".join(up.lines)
    assert any("stopped" in line for line in up.lines)


def test_a_second_up_keeps_the_same_credentials(tmp_path):
    """Restarting `motcua up` must not invalidate the devices already provisioned."""
    data = tmp_path / "data"
    up = UpProcess(data).start()
    first = json.loads(up.credentials_path.read_text())
    up.stop()
    up2 = UpProcess(data).start()
    try:
        assert json.loads(up2.credentials_path.read_text()) == first
    finally:
        up2.stop()

