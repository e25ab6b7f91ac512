"""Stand-ins for what the kiosk's view-model talks to (the server, the printer, the speaker, the
clock), and `make`, a view-model wired to them: for tests of the kiosk without a window."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.printing import PrintOutcome
from kiosk.settings import KioskSettings
from kiosk.viewmodel import KioskViewModel
from protocol.client import ReplyTimeout
from protocol.messages import (PRINTED_WAIT, Guidance, ReplyResult, TicketResult, VisitStep, VisitView, reply_error,
                               reply_ok, wait_fields)

DEMO = Path(__file__).resolve().parents[2] / "queue_server" / "sites" / "demo-district.yaml"
ICT = timezone(timedelta(hours=7))


class Backend:
    """Answers like the server; `script` is a list of 'timeout' / 'ok' / error codes, used in order.
    A visit (`procedures`) is served in the reverse of the order it was asked in (the server
    chooses the order: the kiosk must print the reply's), and ends 15 minutes per procedure later."""

    def __init__(self, script=None):
        self.script = list(script or [])
        self.calls: list[tuple[str, dict, str]] = []
        self.status: dict = {}
        self.issued: dict[str, dict] = {}

    def request(self, type_, fields, req_id, timeout):
        self.calls.append((type_, dict(fields), req_id))
        step = self.script.pop(0) if self.script else "ok"
        if step == "timeout":
            raise ReplyTimeout("no reply")
        # replies built through the contract's models, as the server builds them
        ts = "2026-11-25T01:15:00+00:00"
        if step != "ok":
            return reply_error(req_id, step, "no", ts, message_vi="không")
        if type_ == "guidance.online":
            return reply_ok(req_id, ReplyResult.build(guidance=Guidance.build(
                procedure=fields["procedure"], sector="kinh-doanh", portal_url="https://dichvucong.gov.vn/p/1",
                online="full", steps=["Bước một.", "Bước hai."])), ts)
        items = list(reversed(fields["procedures"])) if fields.get("procedures") else [
            {"sector": fields["sector"], "procedure": fields.get("procedure")}]
        visit = {} if len(items) == 1 else {"visit": VisitView.build(
            step=1, steps=len(items), end_s=1500 + 900 * len(items),
            procedures=[VisitStep.build(sector=i["sector"], procedure=i.get("procedure"),
                                        status="current" if n == 0 else "waiting") for n, i in enumerate(items)])}
        ticket = self.issued.setdefault(req_id, TicketResult.build(
            id=f"t{len(self.issued) + 1}", number=f"A{len(self.issued) + 1:03d}", sector=items[0]["sector"],
            procedure=items[0].get("procedure"), priority=fields["priority"],
            issued_at=ts, position=3, ahead=2, **wait_fields(PRINTED_WAIT, 1500),
            track_url="http://127.0.0.1:8080/t/x?k=y", **visit))
        return reply_ok(req_id, ReplyResult.build(ticket=ticket), ts)

    def set_status(self, **fields):
        self.status.update(fields)


class Printer:
    def __init__(self, outcomes=None):
        self.outcomes = list(outcomes or [])
        self.tickets, self.guides = [], []

    def _next(self):
        return PrintOutcome(self.outcomes.pop(0) if self.outcomes else "ok")

    def print_ticket(self, slip):
        self.tickets.append(slip)
        return self._next()

    def print_guidance(self, slip):
        self.guides.append(slip)
        return self._next()

    def check(self):
        return self._next()


class Speaker:
    def __init__(self):
        self.said: list[tuple[str, str]] = []

    def say(self, text, lang="vi"):
        self.said.append((text, lang))
        return True

    def stop(self):
        pass


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make(catalogue, backend=None, printer=None, **settings):
    clock = Clock()
    vm = KioskViewModel(KioskSettings(**settings), backend=backend or Backend(), printer=printer or Printer(),
                        speaker=Speaker(), catalogue=catalogue, run_async=lambda fn: fn(), clock=clock,
                        wall=lambda: datetime(2026, 11, 25, 8, 15, tzinfo=ICT))
    changes = []
    vm.bind(lambda: changes.append(vm.screen))
    return vm, clock, changes
