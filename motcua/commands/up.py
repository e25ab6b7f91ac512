"""`motcua up`: a whole demo site on this machine, with defaults that just work
(the supervisor is queue_server/demo_site.py)."""
from __future__ import annotations

import argparse
import logging
import sys

from motcua.signals import stop_on_signals


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
    from queue_server.config import load_site
    from queue_server.demo_site import DemoSite
    from queue_server.domain.site import SiteConfigError

    try:
        site = load_site(args.site)
    except SiteConfigError as exc:
        print(f"motcua up: {exc}", file=sys.stderr)
        return 2
    demo = DemoSite(site, args.data_dir, mqtt_port=args.mqtt_port, http_port=args.http_port, host=args.host,
                    public_url=args.public_url)
    try:
        demo.start_broker()
    except RuntimeError as exc:
        print(f"motcua up: {exc}", file=sys.stderr)
        return 1
    stop = stop_on_signals()
    try:
        if not demo.start_server():
            print("motcua up: the queue server could not connect to mosquitto", file=sys.stderr)
            return 1
        server = demo.server
        print(f"motcua up: site {site.id} ready · MQTT mqtt://127.0.0.1:{demo.mqtt_port} · web {server.http_url} · "
              f"credentials {demo.files.credentials} · web login {server.admin_user} (password in "
              f"{server.admin_password_file}) · Ctrl-C to stop",
              flush=True)
        stop.wait()
    finally:
        demo.stop()
        print("motcua up: stopped", flush=True)
    return 0
