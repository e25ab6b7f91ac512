"""`motcua counter --config FILE`: keypad + rating pad (gpiozero) and, if show_screen, the status screen."""
from __future__ import annotations

import argparse
import logging
import sys

from firmware_config.device_config import DeviceConfigError, load_device_config
from motcua.kivy_window import configure_window
from motcua.signals import stop_on_signals

log = logging.getLogger("motcua.counter")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the counter's YAML config (role: counter)")
    parser.add_argument("--no-screen", action="store_true", help="keys and rating pad only, even if show_screen")
    parser.add_argument("--windowed", action="store_true", help="ignore screen.fullscreen (desk testing)")
    parser.add_argument("--screenshot", metavar="PNG", help="save the screen to PNG after --exit-after seconds")
    parser.add_argument("--exit-after", type=float, metavar="S", help="quit after S seconds (tests, screenshots)")


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load_device_config(args.config, "counter")
    except DeviceConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    show_screen = cfg.show_screen and not args.no_screen
    if show_screen:   # Kivy's settings go in before anything imports its window; its root-logger handler prints records
        configure_window(cfg.screen.width, cfg.screen.height, cfg.screen.fullscreen and not args.windowed,
                         cfg.screen.app_rotation)
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from motcua.gpio import NoPinFactory, choose_pin_factory
    try:
        choose_pin_factory("counter")
    except NoPinFactory as exc:
        print("motcua counter:", *exc.lines, sep="\n  ", file=sys.stderr)
        return 2
    from counter.model import CounterView
    from counter.terminal import CounterTerminal, make_client
    view = CounterView(cfg.id)
    try:
        terminal = CounterTerminal(make_client(cfg), view, keypad_pins=cfg.keypad, rating_pins=cfg.rating,
                                   server_url=cfg.server_url)
    except Exception as exc:   # gpiozero: pin in use, no PWM on that pin, ...
        print(f"motcua counter: cannot set up the keypad or rating pad: {exc}\n"
              f"  (on a desk without GPIO: GPIOZERO_PIN_FACTORY=mock motcua counter ...)", file=sys.stderr)
        return 2
    terminal.start(wait=None)
    try:
        if show_screen:
            from counter.app import CounterApp
            CounterApp(view, terminal.press, screenshot=args.screenshot, exit_after=args.exit_after).run()
        else:
            stop = stop_on_signals()
            stop.wait(args.exit_after)
    finally:
        terminal.close()
    return 0
