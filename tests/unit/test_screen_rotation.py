"""Who turns the picture: `screen.rotation_by` "app" -> the Kivy window is rotated by `screen.rotation`;
"os" -> provisioning already rotated the output and the touch panel, so the app passes 0.

Checked at the real call sites of `motcua display` and `motcua counter` (their `configure_window` is
replaced by a recorder that stops the run before any window opens); the kiosk's is in
tests/unit/test_kiosk_nearby.py.
"""
from __future__ import annotations

import argparse

import pytest
import yaml


class _Stop(Exception):
    pass


def _recorder(calls):
    def configure_window(width, height, fullscreen, rotation):
        calls.append(rotation)
        raise _Stop
    return configure_window


def _write(tmp_path, data):
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("rotation_by, expected", [("app", 90), ("os", 0), (None, 90)])
def test_display_rotation(tmp_path, monkeypatch, rotation_by, expected):
    import motcua.commands.display as cli
    screen = {"rotation": 90, **({"rotation_by": rotation_by} if rotation_by else {})}
    conf = _write(tmp_path, {"role": "display", "site": "demo-district", "id": "d1", "screen": screen})
    calls = []
    monkeypatch.setattr(cli, "configure_window", _recorder(calls))
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    with pytest.raises(_Stop):
        cli.run(parser.parse_args(["--config", conf]))
    assert calls == [expected]


class _Terminal:
    def __init__(self, *args, **kwargs):
        self.closed = False

    def start(self, wait=None):
        pass

    def press(self, key):
        pass

    def close(self):
        self.closed = True


@pytest.mark.parametrize("rotation_by, expected", [("app", 270), ("os", 0)])
def test_counter_rotation(tmp_path, monkeypatch, rotation_by, expected):
    import motcua.commands.counter as cli
    import counter.terminal
    conf = _write(tmp_path, {"role": "counter", "site": "demo-district", "id": "q1",
                             "screen": {"rotation": 270, "rotation_by": rotation_by}})
    calls = []
    monkeypatch.setattr(cli, "configure_window", _recorder(calls))
    monkeypatch.setattr(counter.terminal, "CounterTerminal", _Terminal)   # no GPIO, no broker needed here
    monkeypatch.setattr(counter.terminal, "make_client", lambda cfg: None)
    monkeypatch.setattr("motcua.gpio.choose_pin_factory", lambda role: None)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    with pytest.raises(_Stop):
        cli.run(parser.parse_args(["--config", conf]))
    assert calls == [expected]
