"""Wires one kiosk together from its config: catalogue, MQTT link, printer, speech, buttons, view-model."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.buttons import KioskButtons
from kiosk.catalogue import CatalogueError, CatalogueStore
from kiosk.link import KioskLink
from kiosk.printing import TicketPrinter
from kiosk.speech import Speaker
from kiosk.settings import KioskSettings
from kiosk.viewmodel import KioskViewModel
from motcua.scanner import EvdevReader

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "motcua-kiosk"


@dataclass
class Kiosk:
    config: object
    store: CatalogueStore
    link: KioskLink
    printer: TicketPrinter
    speaker: Speaker
    vm: KioskViewModel
    buttons: KioskButtons | None = None
    scanner: EvdevReader | None = None

    def start(self, wait: float | None = None) -> None:
        # never wait for the broker before showing screens: the banner tells citizens when it is down
        self.link.start(wait)
        if self.scanner is not None:
            self.scanner.start()

    def stop(self) -> None:
        self.speaker.stop()
        if self.scanner is not None:
            self.scanner.stop()
        if self.buttons is not None:
            self.buttons.close()
        self.link.stop()


def build_kiosk(config, *, cache_dir: str | Path | None = None, post: Callable | None = None,
                printer: TicketPrinter | None = None, speaker: Speaker | None = None,
                with_buttons: bool = True, settings: KioskSettings | None = None,
                scanner_grab: bool = True) -> Kiosk:
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    store = CatalogueStore(config.server_url, cache / f"catalogue-{config.site}.json")
    try:
        catalogue = store.load()
    except CatalogueError as exc:
        log.warning("starting without a catalogue: %s", exc)
        catalogue = None
    link = KioskLink(config)
    printer = printer or TicketPrinter(config.printer)
    speaker = speaker or Speaker(voice=config.speech.voice, audio_device=config.speech.audio_device,
                                 enabled=config.speech.enabled)
    settings = settings or KioskSettings(lang=config.lang, idle_timeout_s=config.idle_timeout_s,
                                         long_wait_min=config.long_wait_min, timezone=config.timezone,
                                         id_hash_key_file=config.id_hash_key_file)
    post = post or (lambda fn: fn())
    vm = KioskViewModel(settings, backend=link, printer=printer, speaker=speaker, loader=store.load,
                        catalogue=catalogue, post=post)
    vm.catalogue_from_cache = store.from_cache
    vm.id_card_ready()      # says in the log, at start, when check-in by ID card is off (no key)
    vm._catalogue_tried_at = vm.clock()      # just loaded: the next fetch waits its turn
    vm.connected = False
    link.on_stats = lambda sector, stats: post(lambda: vm.on_sector_stats(sector, stats))
    link.on_server_status = lambda payload: post(lambda: vm.on_server_status(payload))
    link.on_connection = lambda up: post(lambda: vm.on_connection(up))
    link.on_nearby = lambda sector, advice: post(lambda: vm.on_nearby(sector, advice))
    buttons = None
    if with_buttons and any(getattr(config.buttons, n) is not None for n in ("ticket", "priority", "help",
                                                                             "speak", "help_led")):
        try:
            buttons = KioskButtons(config.buttons, vm, post=post)
        except Exception as exc:  # no GPIO on this machine: the touch screen still works
            log.warning("buttons disabled: %s", exc)
    scanner = None
    if config.scanner_device:
        # the scanner's own thread: its scans reach the view-model on the UI thread (kiosk/checkin.py)
        scanner = EvdevReader(config.scanner_device, lambda scan: post(lambda: vm.on_scan(scan.text)),
                              on_typed=lambda typed: post(lambda: vm.typed_key(typed.key)), grab=scanner_grab)
    return Kiosk(config, store, link, printer, speaker, vm, buttons, scanner)
