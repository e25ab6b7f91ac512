"""A running queue server: event store + command loop + MQTT gateway + web app, started and stopped together."""
from __future__ import annotations

import json
import logging
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from waitress.server import create_server

from queue_server.domain.site import SiteConfig
from queue_server.mqtt.gateway import MqttGateway, default_publisher
from queue_server.service import QueueService
from queue_server.store import EventStore
from queue_server.web.app import WebSettings, create_app

log = logging.getLogger(__name__)


def load_or_create_web_secrets(path: Path) -> dict[str, str]:
    from motcua.files import write_private
    data: dict[str, str] = {}
    if path.exists():
        data = json.loads(path.read_text())
    changed = False
    # The API token is typed after `--token` (motcua rebalance): hex, because a URL-safe token
    # starts with "-" one time in 64 and argparse then reads it as an option.
    for key, make in (("secret_key", lambda: secrets.token_urlsafe(32)), ("api_token", lambda: secrets.token_hex(32))):
        if not data.get(key):
            data[key] = make()
            changed = True
    if changed:
        write_private(path, json.dumps(data, indent=2) + "\n")
    return data


def load_or_create_id_key(path: Path) -> bytes:
    """The key of the ID card hash (protocol/cccd.id_hash; docs/appointments.md, "The ID card key"):
    the file `motcua provision` put in the data directory (the province's key where limits span its
    centres), or, with none there (`motcua up`, a demo), one made at the first start. A file that
    cannot be used stops the server with a message naming it (never the key)."""
    from motcua.id_key import IdKeyError, load_or_create_id_key as load
    try:
        return load(path)
    except IdKeyError as err:
        raise SystemExit(str(err)) from None


@dataclass
class ServerOptions:
    broker: str
    db: str
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    public_url: str | None = None
    data_dir: Path | None = None
    snapshot_every: int = 10_000
    policy: str | None = None
    publisher: str | None = None    # "process" | "thread"; None: process on a multi-core machine


def make_policy(name: str | None):
    from queue_server.domain import policy as policies
    if name and hasattr(policies, "make_policy"):
        return policies.make_policy(name)
    return policies.DEFAULT_POLICY()


def make_balancer():
    try:
        from queue_server.domain.autobalance import AutoBalancer
    except ImportError:
        return None
    return AutoBalancer()


class SiteServer:
    def __init__(self, site: SiteConfig, options: ServerOptions):
        self.site = site
        self.options = options
        data_dir = options.data_dir or Path(".")
        web_secrets = load_or_create_web_secrets(Path(data_dir) / "web-secrets.json")
        self.api_token = web_secrets["api_token"]
        # the booking pages hash a typed ID card number with it (issue #16); no bookings, no key
        self.id_hash_key = (load_or_create_id_key(Path(data_dir) / site.bookings.id_key_file)
                            if site.bookings is not None else None)
        self.store = EventStore(options.db)
        from queue_server.users import ensure_admin
        self.admin_user, self.admin_password_file = ensure_admin(data_dir, self.store)
        public_url = options.public_url or f"http://{_display_host(options.http_host)}:{options.http_port}"
        self.service = QueueService(site, self.store, policy=make_policy(options.policy), public_url=public_url,
                                    snapshot_every=options.snapshot_every, balancer=make_balancer())
        # the kiosks get the same key when provisioned; only the hash ever reaches the domain
        self.service.id_hash_key = self.id_hash_key
        self.gateway = MqttGateway(self.service, options.broker, username=options.username,
                                   password=options.password, ca_file=options.ca_file,
                                   publisher=options.publisher or default_publisher())
        self.app = create_app(self.service, WebSettings(secret_key=web_secrets["secret_key"],
                                                        api_token=self.api_token,
                                                        data_dir=str(data_dir),
                                                        secure_cookies=public_url.startswith("https://"),
                                                        extra={"MOTCUA_ID_HASH_KEY": self.id_hash_key}))
        # messages to citizens' phones (issue #16): with the site's `notify:` section only
        from queue_server.notify.notifier import Notifier
        self.notifier = Notifier.from_site(self.service, site, Path(data_dir))
        self.http = create_server(self.app, host=options.http_host, port=options.http_port, threads=128,  # each open live page (SSE) holds a thread
                                  channel_timeout=30, ident="motcua")
        self._http_thread: threading.Thread | None = None
        self._stopping = False

    @property
    def http_url(self) -> str:
        return f"http://{_display_host(self.options.http_host)}:{self.http.effective_port}"

    def start(self, wait_broker: float = 10.0) -> bool:
        self.service.start()
        if self.notifier is not None:
            self.notifier.start()
        connected = self.gateway.start(wait_broker)
        self._http_thread = threading.Thread(target=self._serve_http, name="motcua-http", daemon=True)
        self._http_thread.start()
        return connected

    def _serve_http(self) -> None:
        try:
            self.http.run()
        except OSError:
            # stop() closes the sockets under waitress's select loop (it has no shutdown of its
            # own): the loop's "bad file descriptor" is the stop, not a fault
            if not self._stopping:
                raise

    def stop(self) -> None:
        self._stopping = True
        try:
            # close() alone only stops listening: keep-alive browsers would still be answered.
            for channel in list(self.http._map.values()):
                if channel is not self.http:
                    channel.close()
            self.http.close()
            self.http.task_dispatcher.shutdown(timeout=2)
        except Exception:
            log.debug("http close", exc_info=True)
        self.gateway.stop()
        if self.notifier is not None:
            self.notifier.stop()
        self.service.stop()
        self.store.close()


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
