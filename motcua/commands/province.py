"""`motcua province --broker mqtt://... --db postgresql://...`: the provincial consumer and dashboard."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from pathlib import Path

from motcua.signals import stop_on_signals


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", required=True, help="province broker, mqtt://host:port (mqtts:// for TLS)")
    parser.add_argument("--db", required=True, help="PostgreSQL URL, postgresql://user@host:port/dbname")
    parser.add_argument("--ca-file", default=None,
                        help="with mqtts://: the CA that signed the province broker's certificate "
                             "(default: the system's CAs)")
    parser.add_argument("--config", type=Path, default=None,
                        help="province YAML: site locations and nearby-advice rules (docs/province.md)")
    parser.add_argument("--credentials", type=Path, default=None,
                        help="province credentials.json from `motcua provision` (user 'province')")
    parser.add_argument("--username", default=os.environ.get("MOTCUA_PROVINCE_USER"))
    parser.add_argument("--password", default=os.environ.get("MOTCUA_PROVINCE_PASSWORD"),
                        help="or MOTCUA_PROVINCE_PASSWORD; better: --credentials")
    parser.add_argument("--http", default="127.0.0.1:8090", help="dashboard address host:port ('' for none)")
    parser.add_argument("--no-advice", action="store_true", help="do not publish nearby-sites advice")
    parser.add_argument("--log-level", default="INFO")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from province.config import ProvinceConfigError, load_province_config
    try:
        config = load_province_config(args.config)
    except ProvinceConfigError as exc:
        print(f"motcua province: {exc}", file=sys.stderr)
        return 2
    user, password = args.username, args.password
    if args.credentials:
        try:
            entry = json.loads(args.credentials.read_text())["province"]
            user, password = entry["username"], entry["password"]
        except (OSError, ValueError, KeyError) as exc:
            print(f"motcua province: --credentials {args.credentials}: {exc}", file=sys.stderr)
            return 2
    if not args.db.startswith(("postgresql://", "postgres://")):
        print("motcua province: --db must be a postgresql:// URL", file=sys.stderr)
        return 2
    import psycopg
    from province.booking_relay import BookingRelay
    from province.consumer import ProvinceService
    # the province's key of the ID card hash, as `motcua provision` made it for every centre of the
    # province (never made here: a key of its own would hash a card unlike the centres do); without
    # one the booking portal says it is not set up
    from motcua.id_key import IdKeyError, read_id_key
    key_file = config.portal.id_key_file or (args.credentials.parent / "id-hash.key" if args.credentials else None)
    id_key = None
    if key_file is not None and (config.portal.id_key_file or Path(key_file).exists()):
        try:
            id_key = read_id_key(key_file)
        except IdKeyError as exc:
            print(f"motcua province: {exc}", file=sys.stderr)
            return 2
    # the booking portal's wire to the centres (issue #16); its offers also give the nearby advice its slots
    relay = BookingRelay(args.broker, username=user, password=password, ca_file=args.ca_file)
    relay.start(wait=0)
    service = ProvinceService(args.broker, args.db, config, username=user, password=password,
                              publish_advice=not args.no_advice, ca_file=args.ca_file, offers=relay.offers)
    try:
        service.start()
    except psycopg.OperationalError as exc:
        print(f"motcua province: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    stop = stop_on_signals()
    server = None
    if args.http:
        from waitress.server import create_server
        from province.web import create_app
        host, _, port = args.http.rpartition(":")
        app = create_app({"DB_URL": args.db, "PROVINCE": config, "SERVICE": service, "RELAY": relay,
                          "ID_HASH_KEY": id_key})
        server = create_server(app, host=host or "127.0.0.1", port=int(port), threads=4)
        threading.Thread(target=server.run, daemon=True, name="province-http").start()
        print(f"province dashboard: http://{host or '127.0.0.1'}:{server.effective_port}/, "
              f"booking portal: /book", flush=True)
    stop.wait()
    if server:
        server.close()
    relay.stop()
    service.stop()
    return 0
