"""The domain's one pipeline (core.execute: decide -> number -> apply -> reply), its table of
handlers, and the percentiles of domain/stats.py. Pure: no broker, no database, no wall clock."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from protocol.errors import ErrorCode
from protocol.messages import COMMAND_TYPES, CallNext, ServeDone, TicketIssue
from queue_server.domain import commands, events as ev
from queue_server.domain.core import HANDLERS, Context, QueueCore, execute, fold_in
from queue_server.domain.stats import percentile_interpolated, percentile_nearest_rank
from queue_server.sim.metrics import summarize
from queue_server.sim.engine import DayResult, Record

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
A = "tu-phap-ho-tich"


def test_the_table_has_a_handler_for_every_command_a_device_or_a_manager_can_send():
    domain_types = {f.default for cls in vars(commands).values() if dataclasses.is_dataclass(cls)
                    for f in dataclasses.fields(cls) if f.name == "type"}
    device_types = {t for types in COMMAND_TYPES.values() for t in types}
    assert set(HANDLERS) == device_types | domain_types


@pytest.mark.parametrize("ctype", ["counter", "set.status", "finish.current", "call.event", "", None, 7])
def test_a_type_not_in_the_table_is_refused_plainly_even_when_it_names_a_method(site_config, ctype):
    """Before the table, "set.status" reached QueueCore._set_status by name (a TypeError)."""
    core = QueueCore(site_config, forecast=False)
    out = execute(core, "counter", SimpleNamespace(type=ctype), Context(now=NOW, device="q1"))
    assert out.error is not None and out.error.code == ErrorCode.BAD_REQUEST
    assert out.events == [] and core.state.last_seq == 0


def test_execute_numbers_the_events_after_the_last_seq_folds_them_in_and_reads_the_reply(site_config):
    core = QueueCore(site_config, forecast=False)
    log: list[ev.Event] = []
    fold_in(core.state, core.rollover(NOW), "system/clock", out=log)
    assert [e.seq for e in log] == [1] and core.state.day == "2026-03-02"
    issued = execute(core, "kiosk", TicketIssue(v=1, req_id="r1", type="ticket.issue", sector=A),
                     Context(now=NOW, device="k1", token="tok1"), "kiosk/k1", "r1", log)
    assert issued.error is None and issued.result["ticket"]["number"] == "A001"
    assert [(e.seq, e.type, e.device, e.req_id) for e in issued.events] == [(2, ev.TICKET_ISSUED, "kiosk/k1", "r1")]
    assert log[-1] is issued.events[0] and core.state.last_seq == 2
    assert core.state.tickets[issued.result["ticket"]["id"]].status == "waiting"


def test_a_refused_command_still_folds_in_what_it_decided(site_config):
    """call.next with nobody waiting still ends the current service: the event is numbered and
    applied, and the reply is the refusal."""
    core = QueueCore(site_config, forecast=False)
    fold_in(core.state, core.rollover(NOW))
    execute(core, "kiosk", TicketIssue(v=1, req_id="r1", type="ticket.issue", sector=A),
            Context(now=NOW, device="k1", token="tok1"))
    counter = next(c.id for c in site_config.counters if A in c.sectors and c.initial_status == "open")
    called = execute(core, "counter", CallNext(v=1, req_id="r2", type="call.next"), Context(now=NOW, device=counter))
    assert called.error is None
    again = execute(core, "counter", CallNext(v=1, req_id="r3", type="call.next"), Context(now=NOW, device=counter))
    assert again.error is not None and again.error.code == ErrorCode.QUEUE_EMPTY and again.result is None
    assert [e.type for e in again.events] == [ev.TICKET_SERVED]
    assert core.state.tickets[called.result["ticket"]["id"]].status == "served"
    done = execute(core, "counter", ServeDone(v=1, req_id="r4", type="serve.done"), Context(now=NOW, device=counter))
    assert done.error is not None and done.error.code == ErrorCode.NO_CURRENT_TICKET and done.events == []


# --- percentiles ---------------------------------------------------------------------------

def test_the_two_percentiles_are_the_statistics_their_names_say():
    waits = list(range(10, 0, -1))                       # unsorted on purpose
    assert percentile_nearest_rank(waits, 90) == 9       # rank ceil(0.9 * 10) = 9
    assert percentile_interpolated(waits, 90) == pytest.approx(9.1)
    assert percentile_nearest_rank([10, 20, 25], 90) == 25
    assert percentile_interpolated([10, 20, 25], 90) == pytest.approx(24.0)
    assert percentile_nearest_rank([5], 0) == 5 and percentile_interpolated([5], 100) == 5
    assert percentile_nearest_rank([], 90) is None and percentile_interpolated([], 90) is None
    for bad in (-1, 100.5):
        with pytest.raises(ValueError):
            percentile_nearest_rank([1], bad)
        with pytest.raises(ValueError):
            percentile_interpolated([1], bad)


def test_the_simulator_s_p90_is_the_interpolated_one_and_zero_when_no_one_was_called():
    day = DayResult(records=[Record(sector=A, issued_s=0.0, wait_s=float(w), est_wait_s=0.0, target_s=900.0)
                             for w in range(1, 11)], per_sector_tickets={A: 10})
    s = summarize("dynamic", "x", [day], [A, "other"])
    assert s["p90_wait_s"] == 9.1 and s["per_sector"][A]["p90_wait_s"] == 9.1
    assert s["per_sector"]["other"]["p90_wait_s"] == 0.0
