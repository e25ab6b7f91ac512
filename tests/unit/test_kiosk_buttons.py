"""Physical buttons and the status LED through gpiozero's MockFactory."""
from __future__ import annotations

import threading

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from firmware_config.device_config import KioskButtons as Pins
from kiosk.buttons import HELP_HOLD_S, KioskButtons
from kiosk.catalogue import parse_catalogue
from queue_server.catalogue import catalogue_document
from queue_server.config import load_site
from queue_server.domain.state import SiteState
from kiosk.viewmodel import KioskViewModel
from tests.support.kiosk_fakes import DEMO, Backend, Printer, Speaker
from tests.support.wait import wait_for
PINS = Pins(ticket=17, priority=27, help=22, speak=23, help_led=24)


def _demo_document() -> dict:
    """The real server's catalogue document for the demo site, before anyone came."""
    site = load_site(DEMO)
    return catalogue_document(SiteState.initial(site), site)


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
                        catalogue=parse_catalogue(_demo_document()), run_async=lambda fn: fn())
    done = threading.Event()

    def post(fn):                 # gpiozero calls back on its own thread; the test waits for it
        fn()
        done.set()

    buttons = KioskButtons(PINS, vm, post=post, bounce_time=None)
    yield vm, buttons, mock_pins, done
    buttons.close()


def press(factory, pin, done):
    done.clear()
    factory.pin(pin).drive_low()
    factory.pin(pin).drive_high()
    assert done.wait(3), f"no callback for pin {pin}"


def hold(factory, pin, done):
    """Held down until gpiozero says it was held (after HELP_HOLD_S), then let go."""
    done.clear()
    factory.pin(pin).drive_low()
    assert done.wait(HELP_HOLD_S + 3), f"no hold callback for pin {pin}"
    factory.pin(pin).drive_high()


def test_ticket_button_takes_a_ticket_for_the_field_on_screen(rig):
    vm, _, factory, done = rig
    press(factory, 17, done)                    # nothing chosen: it says how to start
    assert vm.backend.calls == [] and "chạm vào lĩnh vực" in vm.speaker.said[-1][0]
    vm.open_sector("dat-dai")
    press(factory, 17, done)
    assert vm.ticket.sector == "dat-dai"


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
    seen = len(led.states)
    press(factory, 22, done)
    assert vm.help_requested and vm.backend.status["help_requested"] is True
    assert buttons.led_state == "help"
    # blinking: the pin goes both ways
    wait_for(lambda: {s.state for s in led.states[seen:]} == {0, 1}, what="the help LED blinking")
    hold(factory, 22, done)                     # staff hold it: served
    assert not vm.help_requested and vm.backend.status["help_requested"] is False
    assert buttons.led_state == "ready" and led.state == 1


def test_led_shows_fault_when_the_printer_is_out_of_paper(rig):
    vm, buttons, factory, done = rig
    vm.printer.outcomes = ["paper_out"]
    vm.open_sector("dat-dai")
    vm.take_ticket()
    assert buttons.led_state == "fault"
