"""`motcua announcer --config FILE`: the call announcer alone (a Pi with a speaker, no screen)."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from firmware_config.device_config import DeviceConfigError, load_device_config

log = logging.getLogger("motcua.announcer")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the display's YAML config (role: display)")
    parser.add_argument("--player", help="audio player command instead of aplay, e.g. 'play -q' (the WAV path is appended)")
    parser.add_argument("--say", metavar="NUMBER:COUNTER_LABEL",
                        help="announce one call and exit, e.g. --say 'A023:Quầy 5' (a speaker test)")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_device_config(args.config, "display")
    except DeviceConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    from display.announcer import build_announcer
    try:
        announcer = build_announcer(cfg, args.player).start()
    except RuntimeError as exc:   # espeak-ng missing
        print(f"motcua announcer: {exc}", file=sys.stderr)
        return 2
    if args.say:
        number, _, label = args.say.partition(":")
        announcer.submit({"number": number, "counter": "say", "counter_label": label or "1"})
        announcer.wait_idle(60)
        announcer.stop()
        return 0
    from display.feed import attach_announcer, make_client
    client = make_client(cfg, client_suffix="-announcer")
    attach_announcer(client, announcer.submit)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    client.start(wait=None)
    log.info("announcer for %s/%s listening on %s", cfg.site, cfg.id, client.topics.events_call)
    stop.wait()
    client.stop()
    announcer.stop()
    return 0
