"""Restart rebuilds the state exactly: from the log alone, from a snapshot plus the log, on SQLite
and on PostgreSQL; idempotency survives the restart."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.postgres import pg_url  # noqa: F401  (fixture)
from tests.support.service_day import Clock, build_a_day, cmd, make


@pytest.mark.parametrize("snapshot_every", [10_000, 7])
def test_restart_rebuilds_the_same_state_on_sqlite(tmp_path, site_config, snapshot_every):
    clock = Clock()
    url = str(tmp_path / "motcua.db")
    svc = make(site_config, url, clock, snapshot_every)
    svc.start()
    build_a_day(svc, clock)
    svc.stop()
    before = svc.state.to_dict()
    assert before["last_seq"] > 100
    svc.store.close()

    again = make(site_config, url, clock, snapshot_every)
    assert again.state.to_dict() == before
    if snapshot_every == 7:
        assert again.store.latest_snapshot() is not None
    # the same request again is answered the same way, and changes nothing
    again.start()
    old = again.store.reply_for("kiosk/k2", "t0")
    assert again.execute("kiosk", "k2", cmd("ticket.issue", "t0", sector="tu-phap-ho-tich")) == old
    assert again.state.last_seq == before["last_seq"]
    again.stop()


def test_numbers_continue_after_restart_and_restart_next_day(tmp_path, site_config):
    clock = Clock()
    url = str(tmp_path / "motcua.db")
    svc = make(site_config, url, clock)
    svc.start()
    for i in range(3):
        svc.execute("kiosk", "k1", cmd("ticket.issue", f"a{i}", sector="dat-dai"))
    svc.stop()
    svc.store.close()
    svc = make(site_config, url, clock)
    svc.start()
    r = svc.execute("kiosk", "k1", cmd("ticket.issue", "a3", sector="dat-dai"))
    assert r["result"]["ticket"]["number"] == "C004"
    clock.now += timedelta(days=1)
    r = svc.execute("kiosk", "k1", cmd("ticket.issue", "a4", sector="dat-dai"))
    assert r["result"]["ticket"]["number"] == "C001"
    svc.stop()
    # history is still all in the log
    issued = [e.data["ticket"]["id"] for e in svc.store.read() if e.type == "ticket.issued"]
    assert issued == ["20261124-C001", "20261124-C002", "20261124-C003", "20261124-C004", "20261125-C001"]


def test_the_same_log_works_on_postgresql(pg_url, site_config):
    clock = Clock()
    svc = make(site_config, pg_url, clock, snapshot_every=25)
    svc.start()
    build_a_day(svc, clock)
    svc.stop()
    before = svc.state.to_dict()
    svc.store.close()
    again = make(site_config, pg_url, clock, snapshot_every=25)
    assert again.state.to_dict() == before
    assert again.store.latest_snapshot() is not None
    again.store.close()
