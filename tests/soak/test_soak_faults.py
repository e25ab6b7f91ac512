"""The full-size fault runs (minutes, not seconds): not part of CI, run them with

    MOTCUA_SOAK=1 .venv/bin/python -m pytest tests/soak -s

Each is the CI test's scenario with bigger numbers (see docs/reliability.md for the figures).
CI without MOTCUA_SOAK shows them as skipped, with this reason.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest

from tests.support.crash import check_crash_run
from tests.support.procs import ROOT, crash_scenario

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("MOTCUA_SOAK"),
                                 reason="soak run (minutes): set MOTCUA_SOAK=1 to run it"),
              pytest.mark.timeout(3600)]

TICKETS = int(os.environ.get("MOTCUA_SOAK_TICKETS", "20000"))
KILLS = int(os.environ.get("MOTCUA_SOAK_KILLS", "10"))


def test_soak_crash_many_kills(tmp_path):
    """8 kiosks, 20,000 tickets, the server SIGKILLed 10 times."""
    run = crash_scenario(tmp_path, kiosks=8, tickets=TICKETS, kills=KILLS, budget_s=1800)
    print("soak crash:", check_crash_run(run, 8, TICKETS, KILLS))


def test_soak_fuzz_100k_payloads():
    """The CI fuzz test with ten times the payloads (about 100,000)."""
    env = {**os.environ, "MOTCUA_FUZZ_BATCHES": "3500"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                          "tests/integration/test_fuzz_commands.py::test_ten_thousand_bad_payloads_on_every_command_topic"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
    print(out.stdout[-600:])
    assert out.returncode == 0, out.stdout[-4000:]


@pytest.mark.parametrize("round_", range(int(os.environ.get("MOTCUA_SOAK_POWER_ROUNDS", "10"))))
def test_soak_power_loss_seeds(round_):
    """The random-kill test again with ten fresh seeds (five kills each)."""
    seed = random.Random(time.time_ns() + round_).randrange(1 << 30)
    env = {**os.environ, "MOTCUA_FAULT_SEED": str(seed)}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                          "tests/integration/test_power_loss.py::"
                          "test_sigkill_at_random_points_keeps_exactly_what_was_acknowledged"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    print(f"seed {seed}:", [line for line in out.stdout.splitlines() if line.startswith("power-loss")])
    assert out.returncode == 0, f"seed {seed}\n" + out.stdout[-4000:]


def test_soak_broker_restarts():
    """The broker-restart test five times in a row."""
    for i in range(int(os.environ.get("MOTCUA_SOAK_BROKER_ROUNDS", "5"))):
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                              "tests/integration/test_broker_restart.py"],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
        print(f"round {i}:", [line for line in out.stdout.splitlines() if line.startswith("reconnect")])
        assert out.returncode == 0, out.stdout[-4000:]
