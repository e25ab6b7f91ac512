"""A province with one provisioned centre that takes bookings, for the booking portal's tests:
the generated site broker (with its bridge and ACL) and province broker, the real `motcua server`
taking bookings, the province's booking relay, consumer (PostgreSQL) and web app (dashboard and
booking portal) served over HTTP. Everything is a real part; nothing is mocked.

    with BookingFleet(tmp_path, pg_url, config) as fleet:
        fleet.http_url, fleet.relay, fleet.server (ServerProcess: .db, .stop(), .start())
        fleet.settled()      # the relay's offer has caught up with the centre's bookings
"""
from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from firmware_config.inventory import parse_inventory
from firmware_config.localrun import local_inventory_data, province_broker_conf, site_broker_conf
from firmware_config.provision import provision
from motcua.files import write_private
from motcua.id_key import read_id_key
from province.booking_relay import BookingRelay
from province.config import ProvinceConfig
from province.consumer import ProvinceService
from province.web import create_app
from queue_server.store import EventStore
from tests.support.broker import Mosquitto, free_port
from tests.support.procs import ServerProcess
from tests.support.wait import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site-inventory.yaml"
SITE = "site-a"
STARTUP_S = 90.0     # the server's start on a loaded 2-core test machine has taken over 20 s


class BookingFleet:
    def __init__(self, directory: Path, pg_url: str, config: ProvinceConfig, *, days_ahead: int = 7):
        self.dir, self.pg_url, self.config, self.days_ahead = Path(directory), pg_url, config, days_ahead
        self.parts: list[Any] = []

    def __enter__(self) -> "BookingFleet":
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        data["bookings"] = {"days_ahead": self.days_ahead}
        port, pport = free_port(), free_port()
        inv = parse_inventory(local_inventory_data(data, broker_port=port, province_port=pport, site_id=SITE))
        bundle = provision(inv, self.dir / "fleet")
        hosts = {b.host.hostname: b.directory for b in bundle.hosts}
        etc = hosts["mc-server"] / "files" / "etc" / "motcua"
        # the province's ID hash key, as provisioning installs it in the server's data directory:
        # a card hashes alike at the portal and at the centre
        key_file = bundle.province_dir / "id-hash.key"
        (self.dir / "server" / "data").mkdir(parents=True, exist_ok=True)
        write_private(self.dir / "server" / "data" / "id-hash.key", key_file.read_text())
        password = json.loads((bundle.province_dir / "credentials.json").read_text())["province"]["password"]
        self.province = Mosquitto(self.dir / "province", port=pport, conf=province_broker_conf(bundle.province_dir)
                                  .replace(f"listener {pport} 0.0.0.0", f"listener {pport} 127.0.0.1")).start()
        self.parts.append(self.province)
        self.site = Mosquitto(self.dir / "site", port=port, conf=site_broker_conf(hosts["mc-server"])).start()
        self.parts.append(self.site)
        self.server = ServerProcess(self.dir / "server", etc / "site.yaml", self.site.url, etc / "credentials.json").start(wait=STARTUP_S)
        self.parts.append(self.server)
        self.relay = BookingRelay(self.province.url, username="province", password=password, timeout_s=5.0)
        self.parts.append(self.relay)
        assert self.relay.start()
        self.service = ProvinceService(self.province.url, self.pg_url, self.config, username="province",
                                       password=password, offers=self.relay.offers).start()
        self.parts.append(self.service)
        from waitress.server import create_server
        app = create_app({"DB_URL": self.pg_url, "PROVINCE": self.config, "SERVICE": self.service,
                          "RELAY": self.relay, "ID_HASH_KEY": read_id_key(key_file)})
        self.http = create_server(app, host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=self._serve, daemon=True, name="province-http").start()
        self.http_url = f"http://127.0.0.1:{self.http.effective_port}"

    def _serve(self) -> None:
        try:
            self.http.run()
        except OSError:      # closed under its loop at the end
            pass

    def online(self, timeout: float = 30.0) -> bool:
        """The centre's offer has reached the province and the centre answers."""
        return until(lambda: (so := self.relay.offers().get(SITE)) is not None and so.online, timeout=timeout)

    def settled(self, timeout: float = 30.0) -> bool:
        """The relay holds an offer the centre built after its last booking event: one that no
        longer lists a slot a booking just filled (offers follow bookings by up to OFFER_MIN_GAP_S)."""
        store = EventStore(str(self.server.db))
        try:
            last = max((datetime.fromisoformat(e.ts) for e in store.read() if e.type.startswith("booking.")),
                       default=None)
        finally:
            store.close()

        def current() -> bool:
            so = self.relay.offers().get(SITE)
            return so is not None and so.offer is not None and (last is None or datetime.fromisoformat(so.offer.ts) > last)
        return until(current, timeout=timeout)

    def __exit__(self, *exc: object) -> None:
        if getattr(self, "http", None) is not None:
            self.http.close()
        for part in reversed(self.parts):
            try:
                part.stop()
            except Exception:
                pass
        self.parts = []
