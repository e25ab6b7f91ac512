"""Drive the pure domain the way the service does (its pipeline, `core.execute`), with a fake clock."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from protocol.messages import parse_command
from queue_server.domain.core import Context, QueueCore, execute, fold_in
from queue_server.domain.events import Event

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


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
