"""The two bounds of docs/appointments.md ("Calling"), as Hypothesis properties over the pure
domain with the dynamic policy:

1. a booking checked in on time is called within one slot length (plus the service a counter is
   finishing) of its slot's start, while the capacity rule holds and no walk-in is overdue;
2. bookings never make a walk-in wait past its existing bound: whatever the queues, an overdue
   walk-in is still called before any booking (the policy's rule 1, earliest deadline first),
   and a booking joins the queue with its slot's start as its place.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.messages import parse_command
from queue_server.domain import commands as C
from queue_server.domain.core import Context, QueueCore, execute, fold_in
from queue_server.domain.policy import DynamicPolicy
from queue_server.domain.site import parse_site
from queue_server.domain.tickets import BOOKED_RANK
from tests.support.domain_harness import TZ

SERVICE_S = 300
SLOT_S = 1800
STEP_S = 15
OPEN = datetime(2026, 11, 24, 7, 30, tzinfo=TZ)


def one_sector_site(counters: int = 2, target_min: float = 30):
    return parse_site({
        "site": {"id": "test", "name": {"vi": "Thử", "en": "Test"}, "hours": ["07:30-11:30"]},
        "sectors": [{"id": "a", "prefix": "A", "name": {"vi": "a", "en": "a"}, "target_wait_min": target_min,
                     "service_min": SERVICE_S / 60, "procedures": [{"id": "p1", "name": {"vi": "P", "en": "P"}}]}],
        "counters": [{"id": f"q{i}", "label": {"vi": f"Quầy {i}", "en": f"Counter {i}"}, "sectors": ["a"]}
                     for i in range(1, counters + 1)],
        "devices": {"kiosks": ["k1"]},
        "bookings": {"slot_min": 30, "share": 0.5, "early_min": 30, "late_min": 15}})


class Day:
    """The pipeline with a fake clock; services take exactly SERVICE_S (the learned mean)."""

    def __init__(self, config):
        self.core = QueueCore(config, DynamicPolicy(), forecast=False)
        self.n = 0

    def run(self, kind, device, cmd, now):
        self.n += 1
        fold_in(self.core.state, self.core.rollover(now))
        out = execute(self.core, kind, cmd, Context(now=now, device=device, token=f"t{self.n}"))
        return out.error.code.value if out.error else out.result

    def kiosk(self, now, **fields):
        cmd = parse_command("kiosk", json.dumps({"v": 1, "req_id": f"r{self.n}", **fields}))
        return self.run("kiosk", "k1", cmd, now)


# per slot of the morning (8 of them): bookings within the capacity (2 counters x 1800 s / 300 s
# x 0.5 = 6), each checking in between 30 min early and the slot's start; walk-ins within the
# rest (6 a slot), arriving anywhere in the slot
slots = st.lists(st.tuples(st.lists(st.integers(-1800, 0), max_size=6),
                           st.lists(st.integers(0, SLOT_S - 1), max_size=6)),
                 min_size=8, max_size=8)


@settings(max_examples=25, deadline=None)
@given(slots=slots)
def test_a_booking_checked_in_on_time_is_called_within_a_slot_of_its_start(slots):
    config = one_sector_site()
    day = Day(config)
    arrivals = []          # (when, what, code or None)
    booked_at = OPEN - timedelta(hours=1)
    who = 0
    for i, (checkins, walkins) in enumerate(slots):
        start = OPEN + timedelta(seconds=i * SLOT_S)
        for off in checkins:
            if start == OPEN:
                off = 0     # nobody checks in before the centre opens
            who += 1
            r = day.run("web", "web", C.CreateBooking(procedure="p1", slot=start.strftime("%Y-%m-%dT%H:%M"),
                                                      id_hash=f"{who:064x}"), booked_at)
            assert "booking" in r, r
            arrivals.append((start + timedelta(seconds=off), "check_in", r["booking"]["code"]))
        for off in walkins:
            arrivals.append((start + timedelta(seconds=off), "walk_in", None))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    busy_until = {c: OPEN for c in ("q1", "q2")}
    checked = {}           # ticket id -> (slot start epoch, check-in epoch)
    now = OPEN
    k = 0
    while now < OPEN + timedelta(hours=6):
        while k < len(arrivals) and arrivals[k][0] <= now:
            when, what, code = arrivals[k]
            if what == "walk_in":
                day.kiosk(now, type="ticket.issue", sector="a")
            else:
                r = day.kiosk(now, type="booking.check_in", code=code)
                assert r["check_in"]["outcome"] in ("early", "on_time"), r
                b = day.core.state.bookings[code]
                checked[r["ticket"]["id"]] = (b.slot_epoch, now.timestamp())
            k += 1
        for c in busy_until:
            if busy_until[c] <= now:
                r = day.run("counter", c, parse_command("counter", json.dumps(
                    {"v": 1, "req_id": f"c{day.n}", "type": "call.next"})), now)
                if isinstance(r, dict):
                    busy_until[c] = now + timedelta(seconds=SERVICE_S)
        now += timedelta(seconds=STEP_S)
    st_ = day.core.state
    limit = DynamicPolicy().limit_s(config, next(iter(st_.tickets.values()))) if st_.tickets else 0
    for t in st_.tickets.values():
        assert t.status != "waiting", "everyone is called by the end"
        if t.id in checked:
            slot_start, came = checked[t.id]
            assert t.called_epoch - max(slot_start, came) <= SLOT_S + SERVICE_S + STEP_S, \
                (t.number, t.called_epoch - slot_start)
        else:       # and the walk-ins stayed within their bound
            assert t.called_epoch - t.order <= limit


# The rule-level property: random waiting walk-ins, priority citizens and due bookings in two
# sectors; whatever the queues, an overdue walk-in (or anyone overdue) is called first, earliest
# deadline first; else a due booking of the counter's sectors comes before every walk-in.
people = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 7200),
                            st.sampled_from(["walk_in"] * 4 + ["booking", "elderly"])), max_size=20)


def two_sector_site():
    return parse_site({
        "site": {"id": "test", "name": {"vi": "Thử", "en": "Test"}},
        "sectors": [{"id": s, "prefix": s.upper(), "name": {"vi": s, "en": s}, "target_wait_min": 10,
                     "service_min": 5, "procedures": [{"id": f"p{s}", "name": {"vi": s, "en": s}}]} for s in "ab"],
        "counters": [{"id": "q1", "label": {"vi": "Quầy 1", "en": "Counter 1"}, "sectors": ["a", "b"]},
                     {"id": "q2", "label": {"vi": "Quầy 2", "en": "Counter 2"}, "sectors": ["b"]}],
        "devices": {"kiosks": ["k1"]},
        "bookings": {"slot_min": 15, "share": 1.0, "early_min": 240, "late_min": 120, "per_week": 50}})


@settings(max_examples=80, deadline=None)
@given(people=people, now_after=st.integers(0, 7200), counter=st.sampled_from(["q1", "q2"]))
def test_bookings_never_overtake_an_overdue_walk_in(people, now_after, counter):
    config = two_sector_site()
    policy = DynamicPolicy()
    day = Day(config)
    day.core.policy = policy
    start = OPEN - timedelta(hours=2)
    who = 0
    for sector, at, what in sorted(people, key=lambda p: p[1]):
        now = OPEN + timedelta(seconds=at)
        if what == "booking":
            # a booking whose slot starts at the next quarter hour, checked in now
            slot = now + timedelta(minutes=15 - now.minute % 15, seconds=-now.second)
            who += 1
            r = day.run("web", "web", C.CreateBooking(procedure=f"p{sector}", slot=slot.strftime("%Y-%m-%dT%H:%M"),
                                                      id_hash=f"{who:064x}"), start)
            if isinstance(r, dict):     # (a slot past the opening hours, or full, is not booked)
                assert "check_in" in day.kiosk(now, type="booking.check_in", code=r["booking"]["code"])
        else:
            day.kiosk(now, type="ticket.issue", sector=sector,
                      priority="elderly" if what == "elderly" else "normal")
    now = OPEN + timedelta(seconds=7200 + now_after)
    fold_in(day.core.state, day.core.rollover(now))     # bookings due by now join their queues
    st_ = day.core.state
    chosen = policy.choose(st_, config, counter, now.timestamp())
    mine = st_.counters[counter].sectors
    waiting = [st_.tickets[t] for s in mine for t in st_.waiting[s]]
    if not waiting:
        assert chosen is None
        return
    deadline = {t.id: t.order + policy.limit_s(config, t) for t in waiting}
    overdue = [t for t in waiting if deadline[t.id] <= now.timestamp()]
    if overdue:
        assert deadline[chosen.id] == min(deadline[t.id] for t in overdue)
        walk_ins = [t for t in overdue if t.booking is None and t.rank == 1]
        if walk_ins:
            assert chosen.rank != BOOKED_RANK or deadline[chosen.id] <= min(deadline[t.id] for t in walk_ins)
        return
    # a booking's place is its slot's start or later, never ahead of a walk-in queued before it
    for t in waiting:
        if t.rank == BOOKED_RANK:
            assert t.order >= t.due_epoch
    if any(t.rank == 0 for t in waiting):
        return          # priority citizens by law come first (rule 2)
    if any(t.rank == BOOKED_RANK for t in waiting):
        assert chosen.rank == BOOKED_RANK
