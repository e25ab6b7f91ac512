"""Drive the pure domain the way the service does (decide -> number events -> apply), with a fake clock."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from protocol.messages import parse_command
from queue_server.domain.core import Context, QueueCore
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

    def _apply(self, new_events, device=None):
        for ne in new_events:
            e = Event(self.state.last_seq + 1, ne.type, ne.ts, ne.data, device)
            self.state.apply(e)
            self.log.append(e)

    def do(self, kind: str, device: str, **fields):
        """Returns the result dict, or the error code string."""
        self._n += 1
        if not isinstance(fields.get("type"), str):
            raise ValueError("type is required")
        cmd = parse_command(kind, json.dumps({"v": 1, "req_id": f"r{self._n}", **fields}))
        return self.command(kind, device, cmd)

    def command(self, kind, device, cmd):
        self._apply(self.core.rollover(self.now))
        decision = self.core.decide(kind, cmd, Context(now=self.now, device=device, token=f"tok{self._n}"))
        self._apply(decision.events, f"{kind}/{device}")
        if decision.error:
            return decision.error.code.value
        return decision.result(self.state)

    def issue(self, sector: str, **fields):
        return self.do("kiosk", "k1", type="ticket.issue", sector=sector, **fields)["ticket"]

    def next(self, counter: str):
        r = self.do("counter", counter, type="call.next")
        return r if isinstance(r, str) else r["ticket"]["number"]
