"""Daily caps count tickets that will be served (docs/visits.md): a ticket that ends unserved
(cancelled, lapsed, a no-show) gives its numbers back, a visit's every procedure not served; and the
sector stats the kiosk's cap notice reads are published again after every event that changes them
(a visit's every sector, a booking moved or cancelled), as the domain says (views.sectors_changed)."""
from __future__ import annotations

import threading

from protocol.topics import Topics
from queue_server.domain import commands as C
from queue_server.domain import views
from queue_server.domain.policy import OldestFirstPolicy
from queue_server.domain.site import parse_site
from queue_server.domain.state import SiteState
from queue_server.outbox import Outbox
from tests.support.booking_site import ANA, DAY, book
from tests.support.booking_site import site as booking_site
from tests.support.domain_harness import Harness
from tests.support.visit_site import issue_visit, visit_site


def left(h, sector):
    return views.cap_fields(h.state, h.core.config, sector, procedures=True)


def test_a_cancelled_visit_gives_back_every_number_it_took():
    h = Harness(visit_site(caps={"a": 2}, proc_caps={"b1": 1}), OldestFirstPolicy())
    h.issue("a")
    t = issue_visit(h, ("a", "a1"), ("b", "b1"))
    assert left(h, "a")["remaining_today"] == 0 and left(h, "b")["procedures_remaining"] == {"b1": 0}
    assert h.do("kiosk", "k1", type="ticket.issue", sector="a") == "daily_cap_reached"
    assert h.command("web", "web", C.CancelTicket(token=t["token"]))["ticket"]["status"] == "cancelled"
    assert left(h, "a")["remaining_today"] == 1 and left(h, "b")["procedures_remaining"] == {"b1": 1}
    assert h.issue("a")["status"] == "waiting"        # the number given back is taken again
    # the fold, a replay and a snapshot agree
    replayed = SiteState.initial(h.core.config)
    for e in h.log:
        replayed.apply(e)
    assert replayed.to_dict() == h.state.to_dict()
    assert SiteState.from_dict(h.state.to_dict(), h.core.config).to_dict() == h.state.to_dict()


def test_a_no_show_gives_back_what_was_not_served_a_served_procedure_keeps_its_number():
    h = Harness(visit_site(caps={"a": 3, "c": 1}), OldestFirstPolicy())
    issue_visit(h, ("a", "a1"), ("c", "c1"))
    h.issue("a")
    assert left(h, "a")["remaining_today"] == 1 and left(h, "c")["remaining_today"] == 0
    h.next("q1")                                      # the visit's first procedure, in sector a
    h.do("counter", "q1", type="serve.done")          # done: it keeps its number; on to c
    assert left(h, "a")["remaining_today"] == 1
    h.next("q3")
    h.do("counter", "q3", type="serve.no_show")       # never served in c: c's number comes back
    assert left(h, "c")["remaining_today"] == 1 and left(h, "a")["remaining_today"] == 1
    h.next("q1")
    h.do("counter", "q1", type="serve.no_show")       # a single ticket's no-show gives its one back
    assert left(h, "a")["remaining_today"] == 2


def _outbox(h) -> Outbox:
    return Outbox(h.core, h.core.config, Topics(h.core.config.id), lambda: h.now, threading.RLock())


def _stats_after(h, box, step) -> set[str]:
    """The sectors whose stats the outbox publishes for the events `step` makes."""
    n = len(h.log)
    step()
    msgs = box.batch_messages([], h.log[n:], h.now)
    return {m.topic.rsplit("/", 2)[1] for m in msgs if m.topic.endswith("/stats")}


def test_every_sector_a_visit_counts_against_is_published_on_issue_and_cancel():
    h = Harness(visit_site(caps={"c": 5}), OldestFirstPolicy())
    box = _outbox(h)
    h.issue("b")                                      # the day starts (every sector's stats go out then)
    tickets = []
    assert _stats_after(h, box, lambda: tickets.append(issue_visit(h, ("a", "a1"), ("c", "c1")))) == {"a", "c"}
    assert _stats_after(h, box, lambda: h.command("web", "web", C.CancelTicket(token=tickets[0]["token"]))) == {"a", "c"}


def test_a_booking_moved_or_cancelled_publishes_its_sectors_stats():
    d = booking_site().model_dump()
    d["sectors"][0]["procedures"][0]["daily_cap"] = 1      # near its cap: the stats name the next free slot
    h = Harness(parse_site(d))
    box = _outbox(h)
    h.issue("b")                                      # the day starts (every sector's stats go out then)
    code = book(h, "09:00")["booking"]["code"]
    assert _stats_after(h, box, lambda: h.command("web", "web", C.MoveBooking(code=code, id_hash=ANA,
                                                                              slot=f"{DAY}T10:00"))) == {"a"}
    assert _stats_after(h, box, lambda: h.command("web", "web", C.CancelBooking(code=code, id_hash=ANA))) == {"a"}
