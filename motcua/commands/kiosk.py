"""`motcua kiosk --config FILE`: run the citizens' touch kiosk."""
from __future__ import annotations

import argparse
import logging
import sys

from motcua.kivy_window import configure_screen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the kiosk's YAML config (role: kiosk)")
    parser.add_argument("--cache-dir", default=None,
                        help="where the last good catalogue is kept (default ~/.cache/motcua-kiosk)")
    parser.add_argument("--windowed", action="store_true", help="ignore screen.fullscreen (for a desktop)")
    parser.add_argument("--log-level", default="INFO")


def run(args: argparse.Namespace) -> int:
    from firmware_config.device_config import DeviceConfigError, load_device_config
    try:
        config = load_device_config(args.config, "kiosk")
    except DeviceConfigError as exc:
        print(f"motcua kiosk: {exc}", file=sys.stderr)
        return 2
    configure_screen(config.screen, args.windowed)   # before anything imports kivy.core.window
    # Kivy owns the root logger's console handler (imported just above); only set levels
    logging.getLogger().setLevel(getattr(logging, str(args.log_level).upper(), logging.INFO))
    logging.getLogger("escpos").setLevel(logging.WARNING)
    if any(getattr(config.buttons, name) is not None for name in type(config.buttons).model_fields):
        from motcua.gpio import NoPinFactory, choose_pin_factory
        try:
            choose_pin_factory("kiosk")
        except NoPinFactory as exc:   # buttons wired in the config but no way to read them: say so, do not start
            print("motcua kiosk:", *exc.lines, sep="\n  ", file=sys.stderr)
            return 2
    from kiosk.app import KioskApp, ui_post
    from kiosk.runtime import build_kiosk

    kiosk = build_kiosk(config, cache_dir=args.cache_dir, post=ui_post)
    kiosk.start()
    try:
        KioskApp(kiosk.vm).run()
    finally:
        kiosk.stop()
    return 0
