"""Physical buttons and the status LED through gpiozero's MockFactory."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from firmware_config.device_config import KioskButtons as Pins
from kiosk.buttons import KioskButtons
from kiosk.catalogue import parse_catalogue
from kiosk.fakesite import catalogue_from_site, load_site
from kiosk.viewmodel import KioskViewModel
from tests.unit.test_kiosk_viewmodel import Backend, Printer, Speaker

DEMO = Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml"
PINS = Pins(ticket=17, priority=27, help=22, speak=23, help_led=24)


@pytest.fixture
def mock_pins():
    Device.pin_factory = MockFactory()
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = None


@pytest.fixture
def rig(mock_pins):
    vm = KioskViewModel(backend=Backend(), printer=Printer(), speaker=Speaker(),
                        catalogue=parse_catalogue(catalogue_from_site(load_site(DEMO))), run_async=lambda fn: fn())
    done = threading.Event()

    def post(fn):                 # gpiozero calls back on its own thread; the test waits for it
        fn()
        done.set()

    buttons = KioskButtons(PINS, vm, post=post, bounce_time=None)
    yield vm, buttons, mock_pins, done
    buttons.close()


def press(factory, pin, done, hold=0.0):
    done.clear()
    factory.pin(pin).drive_low()
    time.sleep(hold)
    factory.pin(pin).drive_high()
    assert done.wait(3), f"no callback for pin {pin}"


def test_ticket_button_takes_a_ticket_for_the_field_on_screen(rig):
    vm, _, factory, done = rig
    press(factory, 17, done)                    # nothing chosen: it says how to start
    assert vm.backend.calls == [] and "chạm vào lĩnh vực" in vm.speaker.said[-1][0]
    vm.open_sector("dat-dai")
    press(factory, 17, done)
    assert vm.ticket["sector"] == "dat-dai"


def test_priority_and_speak_buttons(rig):
    vm, _, factory, done = rig
    press(factory, 27, done)
    assert vm.screen == "priority" and vm.speaker.said[-1][0].startswith("Lấy số ưu tiên")
    press(factory, 23, done)
    assert len(vm.speaker.said) == 2


def test_help_press_publishes_and_blinks_hold_clears(rig):
    vm, buttons, factory, done = rig
    led = factory.pin(24)
    assert led.state == 1 and buttons.led_state == "ready"
    press(factory, 22, done)
    assert vm.help_requested and vm.backend.status["help_requested"] is True
    assert buttons.led_state == "help"
    time.sleep(1.2)                              # blinking: the pin went both ways
    assert {s.state for s in led.states[-4:]} == {0, 1}
    press(factory, 22, done, hold=2.3)          # staff hold it: served
    assert not vm.help_requested and vm.backend.status["help_requested"] is False
    assert buttons.led_state == "ready" and led.state == 1


def test_led_shows_fault_when_the_printer_is_out_of_paper(rig):
    vm, buttons, factory, done = rig
    vm.printer.outcomes = ["paper_out"]
    vm.open_sector("dat-dai")
    vm.take_ticket()
    assert buttons.led_state == "fault"
