"""tests/unit/conftest.py refuses real parts in unit tests: starting one fails the test."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.real_parts import real_part


def test_starting_a_part_fails_a_unit_test():
    with pytest.raises(AssertionError, match="move this test to tests/integration"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
    with pytest.raises(AssertionError, match="'mosquitto'"):
        subprocess.run(["/usr/sbin/mosquitto", "-p", "1"], check=False)


def test_short_tools_still_run():
    assert subprocess.run(["sh", "-c", "exit 0"]).returncode == 0
    assert not real_part("git ls-files") and not real_part(["bash", "-n", "x.sh"])
    assert real_part("xvfb-run -a motcua display") and real_part(iter(["chromium", "--headless"]).__next__().split())
