"""`motcua display --config FILE`: the Kivy wall display and, if enabled, the announcer in the same process."""
from __future__ import annotations

import argparse
import logging
import sys

from firmware_config.device_config import DeviceConfigError, load_device_config
from motcua.kivy_window import configure_window

log = logging.getLogger("motcua.display")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the display's YAML config (role: display)")
    parser.add_argument("--windowed", action="store_true", help="ignore screen.fullscreen (desk testing)")
    parser.add_argument("--size", metavar="WxH", help="override screen.width x screen.height, e.g. 1280x720")
    parser.add_argument("--no-announcer", action="store_true", help="do not speak calls even if enabled")
    parser.add_argument("--player", help="audio player command instead of aplay (the WAV path is appended)")
    parser.add_argument("--screenshot", metavar="PNG", help="save the screen to PNG after --exit-after seconds")
    parser.add_argument("--exit-after", type=float, metavar="S", help="quit after S seconds (tests, screenshots)")


def run(args: argparse.Namespace) -> int:
    # no logging.basicConfig here: Kivy puts its own handler on the root logger (one line per record)
    try:
        cfg = load_device_config(args.config, "display")
    except DeviceConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    width, height = cfg.screen.width, cfg.screen.height
    if args.size:
        try:
            width, height = (int(x) for x in args.size.lower().split("x"))
        except ValueError:
            print(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1280x720", file=sys.stderr)
            return 2
    configure_window(width, height, cfg.screen.fullscreen and not args.windowed, cfg.screen.app_rotation)

    from display.board_model import BoardView
    from display.feed import attach_board, make_client
    view = BoardView()
    announcer = None
    if cfg.announcer.enabled and not args.no_announcer:
        from display.announcer import build_announcer
        try:
            announcer = build_announcer(cfg, args.player).start()
        except RuntimeError as exc:   # no espeak-ng: the screen still works
            log.error("announcer disabled: %s", exc)
    client = make_client(cfg)
    attach_board(client, view, announce=announcer.submit if announcer else None)
    client.start(wait=None)     # connects in the background; the screen says so until it does

    from display.app import DisplayApp
    try:
        DisplayApp(view, screenshot=args.screenshot, exit_after=args.exit_after).run()
    finally:
        client.stop()
        if announcer:
            announcer.stop()
    return 0
