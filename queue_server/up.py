"""`motcua up`: a whole demo site on this machine, with defaults that just work.

mosquitto with a user per device and the ACL of docs/protocol.md (secrets generated
into the data dir, never the repo), the queue server on SQLite, and the web app.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from motcua.signals import stop_on_signals
from queue_server.domain.site import SiteConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mqtt-port", type=int, default=1883, help="broker port (a free one is used if taken)")
    p.add_argument("--http-port", type=int, default=8080, help="web port (a free one is used if taken)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 to serve the LAN)")
    p.add_argument("--data-dir", default="data", help="where the event log, broker files and secrets live")
    p.add_argument("--site", default=None, help="site config YAML (default: the bundled demo district)")
    p.add_argument("--public-url", default=None, help="base URL printed in ticket QR codes")
    p.add_argument("--log-level", default="WARNING")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from firmware_config.broker import write_site_broker
    from queue_server.config import load_site
    from queue_server.processes import Mosquitto, pick_port
    from queue_server.site_server import ServerOptions, SiteServer

    try:
        site = load_site(args.site)
    except SiteConfigError as exc:
        print(f"motcua up: {exc}", file=sys.stderr)
        return 2
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    mqtt_port = pick_port(args.mqtt_port, args.host)
    http_port = pick_port(args.http_port, args.host)
    broker_dir = data / "mosquitto"
    files = write_site_broker(site, broker_dir, mqtt_port, host=args.host,
                              credentials_path=data / "credentials.json")
    broker = Mosquitto(files.conf, mqtt_port, broker_dir / "mosquitto.log",
                       host="127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host)
    try:
        broker.start()
    except RuntimeError as exc:
        print(f"motcua up: {exc}", file=sys.stderr)
        return 1
    server_cred = files.creds["server"]
    options = ServerOptions(broker=f"mqtt://127.0.0.1:{mqtt_port}", db=str(data / "motcua.db"),
                            http_host=args.host, http_port=http_port, username=server_cred["username"],
                            password=server_cred["password"], public_url=args.public_url, data_dir=data)
    server = SiteServer(site, options)
    stop = stop_on_signals()
    try:
        if not server.start():
            print("motcua up: the queue server could not connect to mosquitto", file=sys.stderr)
            return 1
        print(f"motcua up: site {site.id} ready · MQTT mqtt://127.0.0.1:{mqtt_port} · web {server.http_url} · "
              f"credentials {files.credentials} · web login {server.admin_user} (password in "
              f"{server.admin_password_file}) · Ctrl-C to stop",
              flush=True)
        stop.wait()
    finally:
        server.stop()
        broker.stop()
        print("motcua up: stopped", flush=True)
    return 0
