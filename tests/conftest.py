"""Shared fixtures: the sample site, a real mosquitto on a free port, a fixed clock."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.support.broker import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = ROOT / "queue_server" / "sites" / "demo-district.yaml"


@pytest.fixture(scope="session")
def site_config():
    from queue_server.domain.site import parse_site
    return parse_site(yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8")))


@pytest.fixture
def mosquitto(tmp_path):
    broker = Mosquitto(tmp_path / "broker").start()
    yield broker
    broker.stop()


@pytest.fixture(autouse=True)
def _kivy_home(tmp_path_factory):
    os.environ.setdefault("KIVY_HOME", str(tmp_path_factory.mktemp("kivy-home")))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
