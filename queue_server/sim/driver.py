"""Drive the real domain by hand on a given clock: for hand-made cases in tests and for
trying a policy at a prompt. Each method sends one real command through the domain's pipeline
(`core.execute`: decide, number, fold), as the service does."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from protocol.messages import CallNext, ServeDone, ServeTransfer, TicketIssue
from queue_server.domain.commands import SetCounterSectors, SetCounterStatus
from queue_server.domain.core import Context, QueueCore, execute, fold_in
from queue_server.domain.errors import DomainError
from queue_server.domain.events import Event
from queue_server.domain.site import SiteConfig

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)   # 08:00 in Asia/Ho_Chi_Minh


class Driver:
    def __init__(self, config: SiteConfig, policy: Any = None, start: datetime = T0):
        self.core = QueueCore(config, policy=policy)
        self.state = self.core.state
        self.config = config
        self.start = start
        self.req = 0
        self.events: list[Event] = []
        self.rollover(start)

    def at(self, seconds: float) -> datetime:
        """The clock `seconds` after the start."""
        return self.start + timedelta(seconds=seconds)

    def epoch(self, seconds: float) -> float:
        return self.at(seconds).timestamp()

    def rollover(self, now: datetime) -> None:
        """Start the day of `now` (`day.started`) if it is a new one, as the service's clock does."""
        fold_in(self.state, self.core.rollover(now), out=self.events)

    def send(self, cmd: Any, seconds: float, device: str | None = None) -> dict[str, Any]:
        """Run one command; its result, or DomainError if refused (events are applied either way)."""
        d = execute(self.core, "x", cmd, Context(now=self.at(seconds), device=device, token=f"tok{self.req}"),
                    device, out=self.events)
        if d.error is not None:
            raise d.error
        return d.result if d.result is not None else {}

    def _rid(self) -> str:
        self.req += 1
        return f"r{self.req}"

    def issue(self, sector: str, seconds: float, priority: str = "normal", procedure: str | None = None) -> dict:
        return self.send(TicketIssue(v=1, req_id=self._rid(), type="ticket.issue", sector=sector,
                                     procedure=procedure, priority=priority), seconds, "k1")["ticket"]

    def call(self, counter: str, seconds: float) -> dict | None:
        """call.next at `counter`: the called ticket, or None if nobody waits for it."""
        try:
            return self.send(CallNext(v=1, req_id=self._rid(), type="call.next"), seconds, counter)["ticket"]
        except DomainError as err:
            if err.code.value == "queue_empty":
                return None
            raise

    def done(self, counter: str, seconds: float) -> dict:
        return self.send(ServeDone(v=1, req_id=self._rid(), type="serve.done"), seconds, counter)

    def transfer(self, counter: str, to_sector: str, seconds: float) -> dict:
        return self.send(ServeTransfer(v=1, req_id=self._rid(), type="serve.transfer", to_sector=to_sector),
                         seconds, counter)

    def set_sectors(self, counter: str, sectors: list[str], seconds: float, **kw: Any) -> dict:
        return self.send(SetCounterSectors(counter, tuple(sectors), **kw), seconds)

    def set_status(self, counter: str, status: str, seconds: float) -> dict:
        return self.send(SetCounterStatus(counter, status, by="test"), seconds)
