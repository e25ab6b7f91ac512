"""A whole demo site on this machine (`motcua up`): a supervisor of mosquitto and the queue server.

mosquitto with a user per device and the ACL of docs/protocol.md (secrets generated into the
data dir, never the repo), the queue server on SQLite, and the web app. Started in that order,
stopped in the reverse one.
"""
from __future__ import annotations

from pathlib import Path

from firmware_config.broker import write_site_broker
from queue_server.domain.site import SiteConfig
from queue_server.processes import Mosquitto, pick_port
from queue_server.site_server import ServerOptions, SiteServer


class DemoSite:
    """mosquitto (generated users and ACL) + the queue server of `site`, everything under `data_dir`."""

    def __init__(self, site: SiteConfig, data_dir: Path, *, mqtt_port: int, http_port: int,
                 host: str = "127.0.0.1", public_url: str | None = None):
        self.site = site
        data = Path(data_dir).resolve()
        data.mkdir(parents=True, exist_ok=True)
        # a taken port is replaced by a free one, so a second demo on one machine just works
        self.mqtt_port = pick_port(mqtt_port, host)
        http_port = pick_port(http_port, host)
        broker_dir = data / "mosquitto"
        self.files = write_site_broker(site, broker_dir, self.mqtt_port, host=host,
                                       credentials_path=data / "credentials.json")
        self.broker = Mosquitto(self.files.conf, self.mqtt_port, broker_dir / "mosquitto.log",
                                host="127.0.0.1" if host in ("0.0.0.0", "::") else host)
        server_cred = self.files.creds["server"]
        self.options = ServerOptions(broker=f"mqtt://127.0.0.1:{self.mqtt_port}", db=str(data / "motcua.db"),
                                     http_host=host, http_port=http_port, username=server_cred["username"],
                                     password=server_cred["password"], public_url=public_url, data_dir=data)
        self.server: SiteServer | None = None

    def start_broker(self) -> None:
        """Raises RuntimeError (with mosquitto's reason) when it does not come up; nothing is left running."""
        self.broker.start()

    def start_server(self) -> bool:
        """Starts the queue server (after the broker); False when it could not connect to the broker."""
        self.server = SiteServer(self.site, self.options)
        return self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.broker.stop()
