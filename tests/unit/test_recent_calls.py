"""The board's recent calls (folded in queue_server/domain/state.py): one line per ticket, newest first."""
import random

import pytest

from queue_server.domain.policy import OldestFirstPolicy
from queue_server.domain.tickets import RECENT_CALLS
from tests.support.domain_harness import Harness

A, B = "tu-phap-ho-tich", "ly-lich-tu-phap"


@pytest.fixture
def h(site_config):
    return Harness(site_config, OldestFirstPolicy())


def lines(h):
    return [(r["number"], r["counter"]) for r in h.state.recent_calls]


def test_a_recall_moves_the_line_up_instead_of_adding_one(h):
    for _ in range(3):
        h.issue(A)
    assert h.next("q1") == "A001"
    assert h.next("q2") == "A002"
    assert lines(h) == [("A002", "q2"), ("A001", "q1")]
    h.advance(1)
    assert h.do("counter", "q1", type="call.recall")["ticket"]["number"] == "A001"
    assert lines(h) == [("A001", "q1"), ("A002", "q2")]
    assert h.state.recent_calls[0]["at"] == h.now.isoformat()   # refreshed to the recall's time


def test_a_call_after_a_transfer_replaces_the_old_counter(h):
    h.issue(A)
    h.next("q1")
    h.do("counter", "q1", type="serve.transfer", to_sector=B)
    assert h.next("q3") == "A001"
    assert lines(h) == [("A001", "q3")]


def test_never_two_lines_for_one_ticket_whatever_the_counters_do(h):
    """The whole class: any mix of calls, recalls, transfers, no-shows and services keeps one line per
    ticket, the newest call first, and never drops a ticket's call for another ticket's repeat."""
    rnd = random.Random(766)
    counters = ["q1", "q2", "q3"]
    calls: list[str] = []           # every call and recall, in order (numbers)
    for step in range(400):
        h.advance(seconds=20)
        roll = rnd.random()
        cid = rnd.choice(counters)
        if roll < 0.3:
            h.issue(rnd.choice([A, B]))
            continue
        if roll < 0.55:
            r = h.do("counter", cid, type="call.next")
        elif roll < 0.75:
            r = h.do("counter", cid, type="call.recall")
        elif roll < 0.85:
            r = h.do("counter", cid, type="serve.transfer", to_sector=rnd.choice([A, B]))
            r = None
        elif roll < 0.92:
            r = h.do("counter", cid, type="serve.no_show")
            r = None
        else:
            r = h.do("counter", cid, type="serve.done")
            r = None
        if isinstance(r, dict):
            calls.append(r["ticket"]["number"])
        numbers = [n for n, _ in lines(h)]
        assert len(numbers) == len(set(numbers)), (step, numbers)
        # exactly the last distinct numbers called, most recent first
        expected: list[str] = []
        for n in reversed(calls):
            if n not in expected:
                expected.append(n)
        assert numbers == expected[:RECENT_CALLS], step
    assert len(calls) > 50
