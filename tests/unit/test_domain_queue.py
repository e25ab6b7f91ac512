"""The rules of tickets and counters, on the pure domain (no broker, no database, no wall clock)."""
from datetime import datetime, timedelta

import pytest

from queue_server.domain.commands import SetCounterSectors
from queue_server.domain.policy import OldestFirstPolicy
from queue_server.domain.state import SiteState
from tests.support.domain_harness import TZ, Harness

A, B, K = "tu-phap-ho-tich", "ly-lich-tu-phap", "tra-ket-qua"


@pytest.fixture
def h(site_config):
    return Harness(site_config, OldestFirstPolicy())


def test_numbers_are_prefix_and_three_digits_per_sector(h):
    assert [h.issue(A)["number"] for _ in range(3)] == ["A001", "A002", "A003"]
    assert h.issue(B)["number"] == "B001"
    t = h.issue(A, procedure="khai-sinh", priority="normal", lang="en")
    assert t["number"] == "A004" and t["procedure"] == "khai-sinh"
    assert t["position"] == 4 and t["ahead"] == 3


def test_numbers_restart_each_day_in_the_site_zone_without_losing_history(h):
    h.issue(A)
    h.issue(A)
    # 23:59 in Hanoi is still the same day; 00:01 is the next one (UTC would say otherwise).
    h.now = datetime(2026, 11, 24, 23, 59, tzinfo=TZ)
    assert h.issue(A)["number"] == "A003"
    h.now = datetime(2026, 11, 25, 0, 1, tzinfo=TZ)
    t = h.issue(A)
    assert t["number"] == "A001" and t["id"] == "20261125-A001"
    assert h.state.day == "2026-11-25"
    day_events = [e for e in h.log if e.type == "day.started"]
    assert len(day_events) == 2 and set(day_events[1].data["expired"]) == {
        "20261124-A001", "20261124-A002", "20261124-A003"}
    issued = [e.data["ticket"]["id"] for e in h.log if e.type == "ticket.issued"]
    assert issued == ["20261124-A001", "20261124-A002", "20261124-A003", "20261125-A001"]


def test_priority_citizens_first_then_oldest(h):
    h.issue(A)
    h.advance(1)
    h.issue(A)
    h.advance(1)
    h.issue(A, priority="elderly")
    assert [h.next("q1"), h.next("q2"), h.next("q3")] == ["A003", "A001", "A002"]


def test_lifecycle_called_served_no_show_recall(h):
    h.issue(A)
    h.issue(A)
    assert h.next("q1") == "A001"
    assert h.state.tickets["20261124-A001"].status == "called"
    h.advance(2)
    r = h.do("counter", "q1", type="call.recall")
    assert r["ticket"]["number"] == "A001" and h.state.tickets["20261124-A001"].recalls == 1
    h.advance(3)
    h.do("counter", "q1", type="serve.done", outcome="received_dossier")
    t = h.state.tickets["20261124-A001"]
    assert t.status == "served" and t.outcome == "received_dossier" and t.served_by == "q1"
    assert h.state.sectors[A].served_today == 1
    assert h.do("counter", "q1", type="serve.done") == "no_current_ticket"
    assert h.next("q1") == "A002"
    h.do("counter", "q1", type="serve.no_show")
    assert h.state.tickets["20261124-A002"].status == "no_show"
    assert h.next("q1") == "queue_empty"


def test_next_while_serving_finishes_the_current_citizen(h):
    h.issue(A)
    h.issue(A)
    h.next("q1")
    h.advance(4)
    h.next("q1")
    first = h.state.tickets["20261124-A001"]
    assert first.status == "served"
    served = [e for e in h.log if e.type == "ticket.served"]
    assert served[0].data["service_s"] == pytest.approx(240)


def test_call_a_given_number(h):
    h.issue(A)
    h.issue(A)
    h.issue(B)
    assert h.do("counter", "q1", type="call.number", number="A002")["ticket"]["number"] == "A002"
    assert h.do("counter", "q1", type="call.number", number="B001") == "not_allowed"   # q1 does not serve B
    assert h.do("counter", "q2", type="call.number", number="A002") == "not_found"     # already called
    assert h.do("counter", "q2", type="call.number", number="A999") == "not_found"


def test_transfer_keeps_the_citizen_ahead_of_later_arrivals(h):
    h.issue(A)                 # A001 at 07:30
    h.advance(5)
    h.issue(B)                 # B001 at 07:35
    h.next("q1")               # A001 at q1
    h.advance(5)
    h.issue(B)                 # B002 at 07:40
    r = h.do("counter", "q1", type="serve.transfer", to_sector=B, note="cần lý lịch tư pháp")
    assert r["ticket"]["sector"] == B
    # A001 came at 07:30, before every B ticket: q3 (B first) calls it first.
    assert h.next("q3") == "A001"
    assert h.next("q3") == "B001"
    assert h.state.tickets["20261124-A001"].transferred_from == [A]
    assert h.do("counter", "q1", type="serve.transfer", to_sector="nope") == "no_current_ticket"


def test_a_ticket_is_never_held_by_two_counters(h):
    h.issue(A)
    assert h.next("q1") == "A001"
    assert h.next("q2") == "queue_empty"
    assert h.do("counter", "q2", type="call.number", number="A001") == "not_found"
    holders = [c.id for c in h.state.counters.values() if c.serving == "20261124-A001"]
    assert holders == ["q1"]


def test_counter_states_and_errors(h):
    h.issue(A)
    h.do("counter", "q1", type="counter.close")
    assert h.state.counters["q1"].status == "closed"
    assert h.next("q1") == "counter_closed"
    h.do("counter", "q1", type="counter.open")
    h.do("counter", "q1", type="counter.pause")
    assert h.state.counters["q1"].status == "paused"
    assert h.next("q1") == "A001"            # pressing Next at a paused counter resumes it
    assert h.state.counters["q1"].status == "open"
    assert h.do("counter", "zz", type="call.next") == "not_allowed"


def test_unknown_sector_procedure_priority(h):
    assert h.do("kiosk", "k1", type="ticket.issue", sector="nope") == "unknown_sector"
    assert h.do("kiosk", "k1", type="ticket.issue", sector=A, procedure="phieu-lltp-1") == "unknown_procedure"
    g = h.do("kiosk", "k1", type="guidance.online", procedure="phieu-lltp-1")
    assert g["guidance"]["portal_url"] == "https://dichvucong.gov.vn"
    assert h.state.guided_online_today == 1
    assert h.do("kiosk", "k1", type="guidance.online", procedure="nope") == "unknown_procedure"


def test_rating_once_per_served_ticket_at_its_counter(h):
    h.issue(A)
    h.next("q1")
    tid = "20261124-A001"
    assert h.do("counter", "q1", type="rating.submit", ticket_id=tid, score=4) == "not_allowed"  # not served yet
    h.do("counter", "q1", type="serve.done")
    assert h.do("counter", "q2", type="rating.submit", ticket_id=tid, score=4) == "not_allowed"  # other counter
    assert h.do("counter", "q1", type="rating.submit", ticket_id=tid, score=3)["rating"]["score"] == 3
    assert h.do("counter", "q1", type="rating.submit", ticket_id=tid, score=1) == "not_allowed"  # once
    assert h.do("counter", "q1", type="rating.submit", ticket_id="20261124-Z999", score=1) == "not_found"
    assert h.state.tickets[tid].rating == 3


def test_manager_moves_a_counter_within_trained_or_with_override(h):
    h.issue(B)
    assert h.next("q1") == "queue_empty"      # q1 serves A and K
    assert h.command("manager", "m", SetCounterSectors("q1", (B,))) == {"counter": {"id": "q1", "sectors": [B]}}
    assert h.next("q1") == "B001"
    assert h.command("manager", "m", SetCounterSectors("q1", ("dat-dai",))) == "not_allowed"
    assert h.command("manager", "m", SetCounterSectors("q1", ("dat-dai",), override=True)) == "bad_request"
    r = h.command("manager", "m", SetCounterSectors("q1", ("dat-dai",), override=True, reason="nghỉ ốm"))
    assert r["counter"]["sectors"] == ["dat-dai"] and h.state.counters["q1"].sectors_override


def test_wait_estimate_grows_with_the_queue_and_shrinks_with_counters(h):
    waits = [h.issue(B)["est_wait_s"] for _ in range(12)]
    assert waits[0] == 0 and waits[-1] > waits[2] > 0
    before = h.issue(B)["est_wait_s"]
    h.command("manager", "m", SetCounterSectors("q1", (B,)))
    assert h.issue(B)["est_wait_s"] < before * 1.2


def test_state_is_a_fold_over_events_and_survives_a_snapshot(h, site_config):
    for i in range(5):
        h.issue(A if i % 2 else B)
        h.advance(1)
    h.next("q1")
    h.next("q3")
    h.advance(3)
    h.do("counter", "q1", type="serve.done")
    replayed = SiteState.initial(site_config)
    for e in h.log:
        replayed.apply(e)
    assert replayed.to_dict() == h.state.to_dict()
    restored = SiteState.from_dict(h.state.to_dict(), site_config)
    assert restored.to_dict() == h.state.to_dict()
    assert restored.by_token == h.state.by_token
    assert [e.seq for e in h.log] == list(range(1, len(h.log) + 1))
