"""Guarantee 1: the server process dies (SIGKILL) twice while 8 kiosks issue 2,000 tickets.

A real `motcua server` subprocess against a real mosquitto with the site's users and ACL;
the kiosks are real DeviceClients that retry with the same req_id. Afterwards:
exactly 2,000 tickets, no number twice in a sector on a day, every request answered, and the
log replays to the state the server shows (board over HTTP and the retained board on MQTT).

The full-size version (more tickets, more kills) is tests/soak/test_soak_faults.py and
bench/soak_crash.py.
"""
from __future__ import annotations

import pytest

from tests.support.crash import check_crash_run
from tests.support.procs import crash_scenario

pytestmark = pytest.mark.slow     # 2,000 tickets while the server is killed twice

KIOSKS, TICKETS, KILLS = 8, 2000, 2


def test_two_sigkills_lose_and_double_nothing(tmp_path):
    run = crash_scenario(tmp_path, kiosks=KIOSKS, tickets=TICKETS, kills=KILLS)
    figures = check_crash_run(run, KIOSKS, TICKETS, KILLS)
    print("crash run:", figures)
