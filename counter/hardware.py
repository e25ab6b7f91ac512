"""The counter's buttons and light, straight on gpiozero (docs/architecture.md rule 4): no GPIO layer of our own.

Tests set `Device.pin_factory = MockFactory(pin_class=MockPWMPin)` and press
pins with `drive_low()`; on a device `motcua counter` picks the real one first
(motcua.gpio: lgpio on a Pi, said in the log, a clear error when none works).
Buttons are wired between the GPIO pin and ground (internal pull-up), so a
press pulls the pin low.
"""
from __future__ import annotations

import logging
from typing import Callable

from gpiozero import LED, PWMLED, Button

log = logging.getLogger(__name__)

BOUNCE_S = 0.05   # mechanical keys bounce for a few ms; 50 ms is well under a deliberate double press

# keypad key -> field of firmware_config KeypadPins
KEYPAD_FIELDS = ("next", "recall", "done", "no_show", "transfer", "pause")
# score -> field of firmware_config RatingPins (4 = Rất hài lòng ... 1 = Không hài lòng)
RATING_FIELDS = {4: "very_satisfied", 3: "satisfied", 2: "neutral", 1: "unsatisfied"}


class Keypad:
    """Six clerk keys; `on_key(name)` runs on gpiozero's thread for each press."""

    def __init__(self, pins, on_key: Callable[[str], None], bounce_time: float | None = BOUNCE_S):
        self.buttons: dict[str, Button] = {}
        for key in KEYPAD_FIELDS:
            pin = getattr(pins, key)
            if pin is None:
                continue   # a counter may wire fewer keys (e.g. no Transfer)
            b = Button(pin, pull_up=True, bounce_time=bounce_time)
            b.when_pressed = (lambda k: (lambda: on_key(k)))(key)
            self.buttons[key] = b

    def close(self) -> None:
        for b in self.buttons.values():
            b.close()


class RatingPad:
    """Four satisfaction buttons and a thank-you light; `on_score(score)` for each press."""

    def __init__(self, pins, on_score: Callable[[int], None], bounce_time: float | None = BOUNCE_S):
        self.buttons: dict[int, Button] = {}
        for score, name in RATING_FIELDS.items():
            pin = getattr(pins, name)
            if pin is None:
                continue
            b = Button(pin, pull_up=True, bounce_time=bounce_time)
            b.when_pressed = (lambda s: (lambda: on_score(s)))(score)
            self.buttons[score] = b
        self.led = None
        if pins.led is not None:
            try:
                self.led = PWMLED(pins.led)       # a soft pulse where the pin can do PWM
            except Exception:                     # a factory without PWM on that pin: plain on/off
                self.led = LED(pins.led)

    def thank_you(self) -> None:
        """Blink three times in the background (the press handler must return at once)."""
        if self.led is not None:
            self.led.blink(on_time=0.25, off_time=0.15, n=3, background=True)

    def close(self) -> None:
        for b in self.buttons.values():
            b.close()
        if self.led is not None:
            self.led.close()
