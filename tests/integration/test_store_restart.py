"""Restart rebuilds the state exactly: from the log alone, from a snapshot plus the log, on SQLite
and on PostgreSQL; idempotency survives the restart."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from queue_server.domain.commands import SetCounterSectors
from queue_server.service import QueueService
from queue_server.store import EventStore
from tests.support.postgres import pg_url  # noqa: F401  (fixture)
from tests.support.domain_harness import TZ


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 24, 7, 30, tzinfo=TZ)

    def __call__(self):
        return self.now


def cmd(type_, req_id, **fields) -> bytes:
    return json.dumps({"v": 1, "type": type_, "req_id": req_id, **fields}).encode()


def make(site_config, url, clock, snapshot_every=10_000):
    return QueueService(site_config, EventStore(url), clock=clock, snapshot_every=snapshot_every)


def build_a_day(svc: QueueService, clock: Clock) -> list[dict]:
    replies = []
    sectors = ["tu-phap-ho-tich", "ly-lich-tu-phap", "dat-dai", "tra-ket-qua"]
    for i in range(40):
        clock.now += timedelta(minutes=3)
        replies.append(svc.execute("kiosk", "k1" if i % 2 else "k2",
                                   cmd("ticket.issue", f"t{i}", sector=sectors[i % 4],
                                       priority="elderly" if i % 7 == 0 else "normal")))
        if i % 3 == 0:
            for counter in ("q1", "q3", "q4", "q5"):
                replies.append(svc.execute("counter", counter, cmd("call.next", f"n{i}-{counter}")))
        if i == 20:
            svc.execute("manager", "m", SetCounterSectors("q1", ("ly-lich-tu-phap",)))
            replies.append(svc.execute("counter", "q3", cmd("serve.transfer", "tr", to_sector="dat-dai")))
            replies.append(svc.execute("counter", "q4", cmd("serve.no_show", "ns")))
    clock.now += timedelta(hours=1)
    return replies


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
