"""A day of commands through the real QueueService on a real event store, with a clock the test
moves: what the restart and snapshot tests replay."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from queue_server.domain.commands import SetCounterSectors
from queue_server.service import QueueService
from queue_server.store import EventStore
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
