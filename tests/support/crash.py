"""The checks after a crash run (tests.support.procs.crash_scenario): nothing lost, nothing doubled,
the log replays to the state the server shows. Shared by the integration and soak tests."""
from __future__ import annotations

from collections import Counter

from queue_server.domain import events as ev
from queue_server.domain.state import SiteState
from queue_server.service import QueueService
from queue_server.store import EventStore
from tests.support.procs import percentile


def comparable_board(board: dict) -> dict:
    """What must agree between two boards of the same state (not the time they were drawn)."""
    return {"seq": board["seq"],
            "counters": [(c["id"], c["status"], c.get("serving")) for c in board["counters"]],
            "sectors": [(s["id"], s["waiting"]) for s in board["sectors"]]}


def check_crash_run(run, kiosks: int, tickets: int, kills: int) -> dict:
    errors = [r.error for r in run.runs if r.error]
    assert not errors, f"kiosk workers failed: {errors}; server log: {run.server_log}"
    assert len(run.kills) == kills

    # every request got an answer, and every answer is a ticket
    replies = {(r.device, req): rep for r in run.runs for req, rep in r.replies.items()}
    assert len(replies) == tickets
    bad = [rep for rep in replies.values() if not rep.get("ok")]
    assert not bad, f"{len(bad)} requests were refused, e.g. {bad[:3]}"
    replied_ids = Counter(rep["result"]["ticket"]["id"] for rep in replies.values())
    assert len(replied_ids) == tickets, "two requests were answered with the same ticket"

    # the log holds exactly those tickets, each once, each tied to its (kiosk, req_id)
    store = EventStore(str(run.db))
    try:
        log = list(store.read())
        issued = [e for e in log if e.type == ev.TICKET_ISSUED]
        assert len(issued) == tickets, f"{len(issued)} tickets in the log, expected {tickets}"
        assert [e.seq for e in log] == list(range(1, len(log) + 1)), "the log has a gap or a repeat"
        keys = Counter((e.device, e.req_id) for e in issued)
        assert max(keys.values()) == 1, "a retried request was applied twice"
        assert set(keys) == {(f"kiosk/{d}", r) for d, r in replies}
        assert {e.data["ticket"]["id"] for e in issued} == set(replied_ids)
        numbers = Counter((e.data["ticket"]["day"], e.data["ticket"]["sector"], e.data["ticket"]["number"])
                          for e in issued)
        assert max(numbers.values()) == 1, [k for k, n in numbers.items() if n > 1][:5]

        # the log replays to the same state: a fold from nothing, a fresh recovery (snapshot +
        # replay) and the board the live server showed all agree
        folded = SiteState.initial(run.site)
        for e in log:
            folded.apply(e)
        recovered = QueueService(run.site, store)
        assert recovered.state.to_dict() == folded.to_dict()
        from queue_server.domain import views
        replay_board = views.board(folded, run.site, recovered.clock())
        assert comparable_board(run.board_http) == comparable_board(replay_board)
        assert run.board_retained is not None
        assert comparable_board(run.board_retained) == comparable_board(replay_board)
        # upstream (events/log, what the province bridges) saw every event: a batch committed just
        # before a kill but never published is sent again when the server starts
        missing = sorted(set(range(1, len(log) + 1)) - run.upstream_seqs)
        assert not missing, f"events never published on events/log: {missing[:10]}"
    finally:
        store.close()
    # the broker told everyone the server was gone (its last will) and back
    assert run.server_status.count(False) >= kills and run.server_status[-1] is True, run.server_status
    lat = [x for r in run.runs for x in r.latencies]
    return {"elapsed_s": round(run.elapsed_s, 2), "kills": run.kills,
            "attempts": sum(r.attempts for r in run.runs), "timeouts": sum(r.timeouts for r in run.runs),
            "rate_limited": sum(r.rate_limited for r in run.runs),
            "p50_ms": round(percentile(lat, 50) * 1000, 1), "p99_ms": round(percentile(lat, 99) * 1000, 1),
            "max_ms": round(max(lat) * 1000, 1)}
