"""Which gpiozero pin factory reads the buttons of a kiosk or a counter: chosen once at start and said in
the log; when none works, a clear error in Vietnamese and English instead of gpiozero's traceback at the
first Button (or, worse, buttons that never fire).

gpiozero's own choice falls back, as a last resort, to its "native" factory, which drives the BCM283x
GPIO registers directly: a Pi 5 has its GPIO on the RP1 chip, so there the buttons would silently never
fire. Here "native" is used only when asked for by name (GPIOZERO_PIN_FACTORY=native). lgpio, which the
kiosk and counter roles install, works on every Pi through the kernel's GPIO character device.
"""
from __future__ import annotations

import logging
import os
from importlib.metadata import entry_points
from typing import Callable, Mapping

from motcua.i18n import Catalogue

log = logging.getLogger(__name__)
T = Catalogue(__file__)

ENV = "GPIOZERO_PIN_FACTORY"   # gpiozero's own setting: a name from its "gpiozero_pin_factories" entry points
PREFERRED = ("lgpio", "rpigpio", "pigpio")   # gpiozero's order, less "native" (see above)

NO_FACTORY = ("No GPIO pin factory works on this machine, so the buttons cannot be read (tried: {tried}). "
              "On a Raspberry Pi: ./setup.sh --role {role} installs lgpio. "
              "On a computer without GPIO: set GPIOZERO_PIN_FACTORY=mock.")
MSGIDS = [NO_FACTORY]


class NoPinFactory(RuntimeError):
    """No pin factory could be made; `lines` is what to tell the person starting the device."""

    def __init__(self, tried: Mapping[str, str], role: str):
        self.tried = dict(tried)
        summary = "; ".join(f"{name}: {why}" for name, why in self.tried.items()) or "-"
        texts = T.both(NO_FACTORY, tried=summary, role=role)
        self.lines = [texts["vi"], texts["en"]]
        super().__init__(texts["en"])


def installed_factories() -> dict[str, Callable[[], object]]:
    """name -> a callable making that factory, for every pin factory gpiozero knows (entry points)."""
    return {ep.name.lower(): (lambda ep=ep: ep.load()()) for ep in entry_points(group="gpiozero_pin_factories")}


def choose_pin_factory(role: str, factories: Mapping[str, Callable[[], object]] | None = None,
                       env: Mapping[str, str] = os.environ):
    """Set gpiozero's `Device.pin_factory` (unless a caller, e.g. a test, already did), log which one,
    and return it. Raises NoPinFactory when none works."""
    from gpiozero import Device

    if Device.pin_factory is not None:
        log.info("GPIO pin factory: %s (already set)", type(Device.pin_factory).__name__)
        return Device.pin_factory
    factories = installed_factories() if factories is None else factories
    asked = env.get(ENV, "").strip()
    names = (asked.lower(),) if asked else PREFERRED
    tried: dict[str, str] = {}
    for name in names:
        make = factories.get(name)
        if make is None:
            tried[name] = "not installed"
            continue
        try:
            factory = make()
        except Exception as exc:   # gpiozero raises its own errors, ImportError, OSError ...: all mean "not this one"
            tried[name] = f"{type(exc).__name__}: {exc}".rstrip(": ")
            continue
        Device.pin_factory = factory
        how = f"{ENV}={asked}" if asked else "first that works of " + ", ".join(PREFERRED)
        log.info("GPIO pin factory: %s (%s; %s)", name, type(factory).__name__, how)
        return factory
    raise NoPinFactory(tried, role)
