"""Drive the pure domain the way the service does (its pipeline, `core.execute`), with a fake clock;
and `small_site`, the three-sector site the policy and estimate tests are written against."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from protocol.messages import parse_command
from queue_server.domain.core import Context, QueueCore, execute, fold_in
from queue_server.domain.events import Event
from queue_server.domain.site import parse_site

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def small_site(**site_extra):
    def sector(sid, prefix, target):
        return {"id": sid, "prefix": prefix, "name": {"vi": sid, "en": sid}, "target_wait_min": target,
                "service_min": 5}
    return parse_site({
        "site": {"id": "test", "name": {"vi": "Thử", "en": "Test"}, **site_extra},
        "sectors": [sector("a", "A", 10), sector("b", "B", 10), sector("c", "C", 20)],
        "counters": [
            {"id": "q1", "label": {"vi": "Quầy 1", "en": "Counter 1"}, "sectors": ["a", "b"], "trained": ["a", "b", "c"]},
            {"id": "q2", "label": {"vi": "Quầy 2", "en": "Counter 2"}, "sectors": ["b"], "trained": ["b", "a"]},
            {"id": "q3", "label": {"vi": "Quầy 3", "en": "Counter 3"}, "sectors": ["c"], "trained": ["c", "a"]},
        ]})


class Harness:
    def __init__(self, config, policy=None, start=datetime(2026, 11, 24, 7, 30, tzinfo=TZ)):
        self.core = QueueCore(config, policy)
        self.now = start
        self.log: list[Event] = []
        self._n = 0

    @property
    def state(self):
        return self.core.state

    def advance(self, minutes: float = 0, seconds: float = 0) -> None:
        self.now += timedelta(minutes=minutes, seconds=seconds)

    def do(self, kind: str, device: str, **fields):
        """Returns the result dict, or the error code string."""
        self._n += 1
        if not isinstance(fields.get("type"), str):
            raise ValueError("type is required")
        cmd = parse_command(kind, json.dumps({"v": 1, "req_id": f"r{self._n}", **fields}))
        return self.command(kind, device, cmd)

    def command(self, kind, device, cmd):
        fold_in(self.state, self.core.rollover(self.now), out=self.log)
        outcome = execute(self.core, kind, cmd, Context(now=self.now, device=device, token=f"tok{self._n}"),
                          f"{kind}/{device}", out=self.log)
        if outcome.error:
            return outcome.error.code.value
        return outcome.result

    def issue(self, sector: str, **fields):
        return self.do("kiosk", "k1", type="ticket.issue", sector=sector, **fields)["ticket"]

    def next(self, counter: str):
        r = self.do("counter", counter, type="call.next")
        return r if isinstance(r, str) else r["ticket"]["number"]
