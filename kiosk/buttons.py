"""The kiosk's physical buttons and its status LED (gpiozero; tests use MockFactory).

- ticket: a ticket for the field on screen (else it says how to start)
- priority: opens the priority screen and reads it aloud
- help: asks staff to come (press); staff hold it for 2 s when they have come
- speak: reads the screen aloud
- help_led: the status LED: on = ready, fast blink = printing,
  slow blink = help requested, double flash = fault (printer, server, network)

gpiozero calls back on its own thread; `post` moves each press onto the UI thread.
`motcua kiosk` picks the pin factory before this is built (motcua.gpio: lgpio on a Pi).
"""
from __future__ import annotations

import logging
from typing import Callable

from gpiozero import LED, Button

log = logging.getLogger(__name__)

HELP_HOLD_S = 2.0
# on_time, off_time for blink(); None = steady on
LED_PATTERNS = {"ready": None, "printing": (0.1, 0.1), "help": (0.5, 0.5), "fault": (0.15, 0.85)}


class KioskButtons:
    def __init__(self, pins, vm, post: Callable[[Callable[[], None]], None] = lambda fn: fn(),
                 bounce_time: float | None = 0.05):
        self.vm = vm
        self.post = post
        self.devices: dict[str, object] = {}
        self.led: LED | None = None
        self.led_state: str | None = None
        self._help_held = False
        actions = {"ticket": vm.hw_ticket, "priority": vm.hw_priority, "speak": vm.speak}
        for name, action in actions.items():
            pin = getattr(pins, name)
            if pin is not None:
                btn = Button(pin, bounce_time=bounce_time)
                btn.when_released = self._poster(action)
                self.devices[name] = btn
        if pins.help is not None:
            btn = Button(pins.help, bounce_time=bounce_time, hold_time=HELP_HOLD_S)
            btn.when_held = self._help_hold
            btn.when_released = self._help_release
            self.devices["help"] = btn
        if pins.help_led is not None:
            self.led = LED(pins.help_led)
            vm.bind(self.update_led)
            self.update_led()

    def _poster(self, action: Callable[[], None]):
        def fire() -> None:
            self.post(action)
        return fire

    def _help_hold(self) -> None:
        self._help_held = True
        self.post(self.vm.help_served)

    def _help_release(self) -> None:
        # a release after a hold was the staff's "served"; a short press asks for help
        if self._help_held:
            self._help_held = False
            return
        self.post(self.vm.request_help)

    def update_led(self) -> None:
        if self.led is None:
            return
        state = self.vm.status_led
        if state == self.led_state:
            return
        self.led_state = state
        pattern = LED_PATTERNS[state]
        if pattern is None:
            self.led.on()
        else:
            self.led.blink(on_time=pattern[0], off_time=pattern[1], background=True)

    def close(self) -> None:
        for dev in self.devices.values():
            dev.close()
        if self.led is not None:
            self.led.close()
