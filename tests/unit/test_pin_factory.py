"""motcua.gpio: the kiosk's and the counter's pin factory, said in the log, and a clear error when none works.

Real gpiozero factories: MockFactory for one that works, a factory whose constructor fails the way
lgpio's does off a Pi for one that does not.
"""
from __future__ import annotations

import logging

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from motcua import gpio
from motcua.cli import main


class NotAPi:
    def __init__(self):
        raise OSError("can not open gpiochip")


@pytest.fixture(autouse=True)
def no_factory_yet():
    Device.pin_factory = None
    yield
    if Device.pin_factory is not None:
        Device.pin_factory.reset()
    Device.pin_factory = None


def test_the_first_factory_that_works_is_used_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="motcua.gpio")
    factory = gpio.choose_pin_factory("kiosk", {"lgpio": NotAPi, "rpigpio": MockFactory}, env={})
    assert isinstance(factory, MockFactory) and Device.pin_factory is factory
    assert "GPIO pin factory: rpigpio (MockFactory" in caplog.text


def test_none_works_is_a_clear_error_in_both_languages():
    # "native" would start, but it does not know a Pi 5's GPIO: it is never picked unasked
    with pytest.raises(gpio.NoPinFactory) as err:
        gpio.choose_pin_factory("counter", {"lgpio": NotAPi, "native": MockFactory}, env={})
    assert err.value.tried == {"lgpio": "OSError: can not open gpiochip", "rpigpio": "not installed",
                               "pigpio": "not installed"}
    vi, en = err.value.lines
    assert "nút bấm" in vi and "./setup.sh --role counter" in vi and "lgpio: OSError: can not open gpiochip" in vi
    assert "buttons cannot be read" in en and "GPIOZERO_PIN_FACTORY=mock" in en
    assert Device.pin_factory is None


def test_the_factory_named_in_the_environment_is_the_only_one_tried(caplog):
    caplog.set_level(logging.INFO, logger="motcua.gpio")
    factory = gpio.choose_pin_factory("counter", env={"GPIOZERO_PIN_FACTORY": "mock"})   # gpiozero's own entry points
    assert isinstance(factory, MockFactory)
    assert "GPIOZERO_PIN_FACTORY=mock" in caplog.text
    Device.pin_factory.reset()
    Device.pin_factory = None
    with pytest.raises(gpio.NoPinFactory) as err:
        gpio.choose_pin_factory("counter", {"lgpio": MockFactory}, env={"GPIOZERO_PIN_FACTORY": "pigpio"})
    assert err.value.tried == {"pigpio": "not installed"}


def test_a_factory_set_by_the_caller_is_kept(caplog):
    caplog.set_level(logging.INFO, logger="motcua.gpio")
    Device.pin_factory = mine = MockFactory()
    assert gpio.choose_pin_factory("kiosk", {"lgpio": NotAPi}, env={}) is mine
    assert "GPIO pin factory: MockFactory (already set)" in caplog.text


def test_every_text_has_a_vietnamese_translation():
    assert gpio.T.missing(gpio.MSGIDS) == []


@pytest.fixture
def no_gpio_here(monkeypatch):
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(gpio, "installed_factories", lambda: {"lgpio": NotAPi})


def test_counter_without_gpio_stops_with_the_message_not_a_traceback(tmp_path, capsys, no_gpio_here):
    conf = tmp_path / "counter.yaml"
    conf.write_text("role: counter\nsite: demo-district\nid: q1\nshow_screen: false\n", encoding="utf-8")
    assert main(["counter", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "không đọc được các nút bấm" in err and "the buttons cannot be read" in err


def test_kiosk_with_buttons_without_gpio_stops_with_the_message(tmp_path, capsys, no_gpio_here):
    conf = tmp_path / "kiosk.yaml"
    conf.write_text("role: kiosk\nsite: demo-district\nid: k1\nbuttons: {ticket: 17}\n", encoding="utf-8")
    assert main(["kiosk", "--config", str(conf), "--windowed"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "./setup.sh --role kiosk" in err and "GPIOZERO_PIN_FACTORY=mock" in err
