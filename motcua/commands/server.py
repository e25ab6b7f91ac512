"""`motcua server`: the queue server of a real site, against its broker and database."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from motcua.signals import stop_on_signals
from queue_server.domain.site import SiteConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", required=True, help="site config YAML")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://host:port or mqtts://host:port")
    p.add_argument("--db", default="data/motcua.db", help="SQLite file or postgresql://user:pass@host/db")
    p.add_argument("--credentials", help="credentials.json written at set-up (uses its `server` entry)")
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--ca-file", help="CA certificate for an mqtts:// broker")
    p.add_argument("--http-host", default="127.0.0.1")
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--public-url", default=None)
    p.add_argument("--data-dir", default="data", help="where web secrets live")
    p.add_argument("--policy", default=None, help="calling policy (default: the production one)")
    p.add_argument("--publisher", choices=("process", "thread"), default=None,
                   help="publish replies and state from a child process (default on a multi-core machine) "
                        "or from a thread of the server's own process")
    p.add_argument("--log-level", default="INFO")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from queue_server.config import load_site
    from queue_server.site_server import ServerOptions, SiteServer
    try:
        site = load_site(args.site)
    except SiteConfigError as exc:
        print(f"motcua server: {exc}", file=sys.stderr)
        return 2
    username, password = args.username, args.password
    if args.credentials:
        creds = json.loads(Path(args.credentials).read_text())
        username, password = creds["server"]["username"], creds["server"]["password"]
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    server = SiteServer(site, ServerOptions(broker=args.broker, db=args.db, http_host=args.http_host,
                                            http_port=args.http_port, username=username, password=password,
                                            ca_file=args.ca_file, public_url=args.public_url, data_dir=data,
                                            policy=args.policy, publisher=args.publisher))
    stop = stop_on_signals()
    try:
        connected = server.start()
        print(f"motcua server: site {site.id} · broker {args.broker} ({'connected' if connected else 'connecting'}) · "
              f"web {server.http_url}", flush=True)
        stop.wait()
    finally:
        server.stop()
    return 0
