"""A whole site in the test process: a real mosquitto (with the generated users and ACL) and
the real queue server (SQLite in tmp, MQTT gateway, web app on a free port).

    with RunningSite(tmp_path) as site:
        kiosk = site.device("kiosk", "k1")      # a protocol.client.DeviceClient, connected
        reply = kiosk.request("ticket.issue", {"sector": "tu-phap-ho-tich"})
        site.http_get("/api/v1/board")
"""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from firmware_config.broker import write_site_broker
from protocol.client import DeviceClient
from queue_server.config import load_site
from queue_server.processes import Mosquitto as ManagedMosquitto
from queue_server.site_server import ServerOptions, SiteServer
from queue_server.store.log import EventStore
from tests.support.broker import free_port


class RunningSite:
    def __init__(self, directory: Path, site_path: str | Path | None = None, *, db: str | None = None,
                 snapshot_every: int = 10_000, policy: str | None = None, publisher: str | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.site = load_site(site_path)
        self.mqtt_port = free_port()
        self.http_port = free_port()
        self.files = write_site_broker(self.site, self.dir / "mosquitto", self.mqtt_port,
                                       credentials_path=self.dir / "credentials.json")
        self.creds = self.files.creds
        self.broker = ManagedMosquitto(self.files.conf, self.mqtt_port, self.dir / "mosquitto.log")
        self.db = db or str(self.dir / "motcua.db")
        self.snapshot_every = snapshot_every
        self.policy = policy
        self.publisher = publisher      # None: the server's default (a process on a multi-core machine)
        self.server: SiteServer | None = None
        self._devices: list[DeviceClient] = []

    @property
    def broker_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> "RunningSite":
        self.broker.start()
        self.start_server()
        return self

    def start_server(self) -> SiteServer:
        cred = self.creds["server"]
        self.server = SiteServer(self.site, ServerOptions(
            broker=self.broker_url, db=self.db, http_port=self.http_port, username=cred["username"],
            password=cred["password"], data_dir=self.dir, snapshot_every=self.snapshot_every, policy=self.policy,
            publisher=self.publisher))
        assert self.server.start(10), "the server did not connect to mosquitto"
        return self.server

    def stop_server(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None

    @property
    def service(self):
        return self.server.service

    @property
    def api_token(self) -> str:
        return self.server.api_token

    def credentials(self, kind: str, device: str) -> tuple[str, str]:
        c = self.creds[kind][device]
        return c["username"], c["password"]

    def device(self, kind: str, device: str, **kwargs) -> DeviceClient:
        """The connected client of that device (one per device: a second one with the same
        client id would make the broker drop the first, and each would keep taking over)."""
        for d in self._devices:
            if (d.kind, d.device_id) == (kind, device) and not kwargs:
                return d
        user, password = self.credentials(kind, device)
        client = DeviceClient(self.broker_url, self.site.id, kind, device, username=user, password=password, **kwargs)
        assert client.start(5), f"{kind} {device} could not connect"
        self._devices.append(client)
        return client

    def events(self, *types: str) -> list:
        """The committed events of those types, read from the database by a store of its own
        (so it works while the server is stopped too)."""
        store = EventStore(self.db)
        try:
            return list(store.read(types=types or None))
        finally:
            store.close()

    def http_get(self, path: str, token: str | None = None):
        req = urllib.request.Request(self.http_url + path)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def http_post(self, path: str, body: dict, token: str | None = None):
        req = urllib.request.Request(self.http_url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> None:
        for d in self._devices:
            try:
                d.stop()
            except Exception:
                pass
        self.stop_server()
        self.broker.stop()

    def __enter__(self) -> "RunningSite":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
