"""Auto mode on the live service: the idle tick moves a trained counter toward a surging sector,
records it as an event by "auto" that a manager can see and undo, and moves it back after the surge."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.commands import SetAutoMode
from queue_server.service import QueueService
from queue_server.store import EventStore
from tests.support.domain_harness import TZ


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 24, 8, 0, tzinfo=TZ)

    def __call__(self):
        return self.now


def issue(svc, n, sector, tag):
    for i in range(n):
        svc.execute("kiosk", "k1", json.dumps({"v": 1, "type": "ticket.issue", "req_id": f"{tag}{i}",
                                               "sector": sector}).encode())


def test_auto_mode_moves_a_counter_during_a_surge_and_back_after(tmp_path, site_config):
    clock = Clock()
    svc = QueueService(site_config, EventStore(str(tmp_path / "db.sqlite")), clock=clock, balancer=AutoBalancer())
    svc.start()
    try:
        svc._tick()
        assert svc.state.auto_mode is False
        issue(svc, 30, "xay-dung", "x")       # a surge in construction permits (q6 home, q4 second)
        svc._tick()
        assert not [e for e in svc.store.read() if e.type == "counter.sectors_changed"]   # off by default
        svc.execute("manager", "boss", SetAutoMode(on=True, by="boss"))
        for _ in range(5):
            clock.now += timedelta(seconds=30)
            svc._tick()
        moves = [e for e in svc.store.read() if e.type == "counter.sectors_changed"]
        assert moves, "auto mode moved no counter during the surge"
        first = moves[0]
        assert first.data["by"] == "auto" and "xay-dung" in first.data["sectors"]
        assert first.data["override"] is False and first.device == "manager/auto"
        moved = first.data["counter"]
        assert "xay-dung" in site_config.counter_by_id[moved].trained
        assert "xay-dung" in svc.state.counters[moved].sectors
        # The surge is served: everyone called and done, then time passes calmly.
        for _ in range(40):
            for c in ("q4", "q5", "q6", moved):
                svc.execute("counter", c, json.dumps({"v": 1, "type": "call.next",
                                                      "req_id": f"n{clock.now.timestamp()}{c}"}).encode())
            clock.now += timedelta(minutes=1)
        for _ in range(30):
            clock.now += timedelta(minutes=1)
            svc._tick()
        assert tuple(svc.state.counters[moved].sectors) == site_config.counter_by_id[moved].sectors
        back = [e for e in svc.store.read() if e.type == "counter.sectors_changed"][-1]
        assert back.data["by"] == "auto" and back.data["counter"] == moved
    finally:
        svc.stop()


def test_auto_mode_looks_even_when_commands_never_stop(tmp_path, site_config, monkeypatch):
    """The periodic tick (auto mode, the new day) used to run only after TICK_S without any
    command: on a busy site, whose devices send something every second, auto mode never looked."""
    from queue_server import loop

    class Watching(AutoBalancer):
        looks = 0

        def propose(self, state, config, now_epoch):
            Watching.looks += 1
            return []

    monkeypatch.setattr(loop, "TICK_S", 0.2)
    svc = QueueService(site_config, EventStore(str(tmp_path / "db.sqlite")), balancer=Watching())
    svc.publish = lambda msgs: None
    svc.start()
    try:
        svc.execute("manager", "boss", SetAutoMode(on=True, by="boss"))
        import time
        until = time.monotonic() + 1.5
        i = 0
        while time.monotonic() < until:       # a command every 50 ms: never 0.2 s of quiet
            issue(svc, 1, "kinh-doanh", f"busy{i}-")
            i += 1
            time.sleep(0.05)
        assert Watching.looks >= 4, Watching.looks
    finally:
        svc.stop()
