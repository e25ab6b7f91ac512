"""Auto mode: moves toward a surge within `trained`, back after it, no flapping, memory rebuilt from state."""
from __future__ import annotations

from queue_server.domain import events as ev
from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.commands import SetCounterSectors
from queue_server.domain.policy import DynamicPolicy
from queue_server.sim.driver import Driver
from tests.support.domain_harness import small_site


def run(d: Driver, balancer: AutoBalancer, t: float) -> list[SetCounterSectors]:
    """One look of the balancer at time t; every move executed through QueueCore, as live."""
    moves = balancer.propose(d.state, d.config, d.epoch(t))
    for m in moves:
        d.send(m, t)
    return moves


def surge(d: Driver, n: int = 10, at: float = 0) -> None:
    for i in range(n):
        d.issue("a", at + i)


def drain(d: Driver, counter: str, t: float) -> float:
    while d.call(counter, t) is not None:
        t += 1
    d.done(counter, t) if d.state.counters[counter].serving else None
    return t


def test_moves_a_trained_counter_toward_a_surge_and_back():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    b = AutoBalancer()
    assert run(d, b, 0) == []                    # calm: nothing to do
    surge(d, 10, at=1)                           # only q1 serves `a`
    moves = run(d, b, 20)
    assert len(moves) == 1
    m = moves[0]
    assert m.by == "auto" and m.override is False and m.counter in ("q2", "q3")
    assert "a" in m.sectors and set(m.sectors) <= set(site.counter_by_id[m.counter].trained)
    assert "a" in m.reason
    # The move is an event a manager sees (and can undo with another SetCounterSectors).
    last = d.events[-1]
    assert last.type == ev.COUNTER_SECTORS and last.data["by"] == "auto" and last.data["sectors"] == list(m.sectors)
    moved = m.counter
    # The moved counter helps on its next call.
    assert d.call(moved, 30)["sector"] == "a"
    # Queue drained: calm, but the dwell time keeps it there a while.
    t = drain(d, "q1", 60)
    t = drain(d, moved, t)
    assert run(d, b, t + 60) == []
    assert d.state.counters[moved].sectors != list(site.counter_by_id[moved].sectors)
    # After the dwell time and a calm spell, it goes home.
    back = run(d, b, max(t + 60 + b.calm_for_s, 20 + b.min_dwell_s) + 1)
    assert [(x.counter, x.sectors) for x in back] == [(moved, tuple(site.counter_by_id[moved].sectors))]
    assert "surge over" in back[0].reason


def test_no_flapping_with_hysteresis():
    """A predicted wait swinging across the threshold never moves a counter more often than the dwell time."""
    site = small_site()
    d = Driver(site, DynamicPolicy())
    b = AutoBalancer()
    changes: dict[str, list[float]] = {}
    for step in range(0, 6 * 3600, 30):
        # Every 60 s the surge flips: 1.5 x target, then 0.1 x target.
        swing = 1.5 if (step // 60) % 2 == 0 else 0.1
        b.ratios = lambda state, config, r=swing: {"a": r, "b": 0.0, "c": 0.0}
        d.issue("a", step) if d.state.waiting_count("a") < 3 else None  # min_waiting
        for m in run(d, b, step):
            changes.setdefault(m.counter, []).append(step)
    # Each helper moved once, toward the surge, and never back: the calm spells were too short.
    assert changes and all(len(v) == 1 for v in changes.values())
    assert all("a" in d.state.counters[c].sectors for c in changes)


def test_slow_swings_respect_the_dwell_time():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    # The surge rule alone: `a` always has someone waiting here, so the work-conserving rule
    # (tested below) would keep an idle helper on it all day, which is its job.
    b = AutoBalancer(work_conserving=False)
    changes: dict[str, list[float]] = {}
    for step in range(0, 8 * 3600, 30):
        swing = 2.0 if (step // 1500) % 2 == 0 else 0.1   # 25 minutes on, 25 off
        b.ratios = lambda state, config, r=swing: {"a": r, "b": 0.0, "c": 0.0}
        if d.state.waiting_count("a") < 3:
            d.issue("a", step)
        for m in run(d, b, step):
            changes.setdefault(m.counter, []).append(step)
    # It does follow real surges (in and out every cycle), at most twice per cycle per counter...
    cycles = 8 * 3600 / 3000
    for times in changes.values():
        assert cycles <= len(times) <= 2 * cycles + 1
    # ...and never sooner than the dwell time after its last move.
    for times in changes.values():
        assert all(later - earlier >= b.min_dwell_s for earlier, later in zip(times, times[1:]))


def test_memory_is_rebuilt_from_state_after_a_restart():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    b = AutoBalancer()
    surge(d, 10, at=1)
    moved = run(d, b, 20)[0].counter
    drain(d, "q1", 30)
    drain(d, moved, 400)
    # The server restarts: a new balancer knows nothing but the state.
    fresh = AutoBalancer()
    late = 20 + b.min_dwell_s + b.calm_for_s + 100
    assert run(d, fresh, late) == []                  # dwell starts again: no flapping on restart
    assert fresh.moved() == {moved: ("a",)}
    back = run(d, fresh, late + fresh.min_dwell_s + 1)
    assert [(m.counter, m.sectors) for m in back] == [(moved, tuple(site.counter_by_id[moved].sectors))]


def test_a_managers_move_is_left_alone():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    b = AutoBalancer()
    run(d, b, 0)
    d.set_sectors("q3", ["c", "a"], 5, by="manager")
    surge(d, 10, at=10)
    moves = run(d, b, 20)
    assert all(m.counter != "q3" for m in moves)      # q3 already serves `a` by the manager's hand
    drain(d, "q1", 30)
    drain(d, "q3", 40)
    for t in range(100, 5000, 30):
        for m in run(d, b, t):
            assert m.counter != "q3"
    assert d.state.counters["q3"].sectors == ["c", "a"]


def test_rejects_bad_thresholds():
    import pytest
    with pytest.raises(ValueError):
        AutoBalancer(on_ratio=0.5, off_ratio=0.8)


def test_an_idle_counter_takes_its_trained_list_while_a_trained_sector_waits_and_goes_home_after():
    """Work-conserving: q3 (own sector `c` empty) would idle while `a` waits; it takes its whole trained
    list, calls `a`, and goes home once nobody has waited in `a` for `idle_calm_for_s`."""
    site = small_site()
    d = Driver(site, DynamicPolicy())
    b = AutoBalancer(idle_wait_s=60.0, idle_calm_for_s=1800.0)
    d.call("q1", 0)                                  # q1 busy with nobody: its queue empty
    d.issue("a", 1)
    d.call("q1", 2)                                  # q1 serves the first `a`
    d.issue("a", 3)                                  # one more waits; q1 is busy
    assert run(d, b, 30) == []                       # not yet waited idle_wait_s: no move for a blip
    moves = run(d, b, 70)
    by = {m.counter: m for m in moves}
    assert "q3" in by and by["q3"].sectors == ("c", "a") and by["q3"].by == "auto"
    assert "idle" in by["q3"].reason and by["q3"].override is False
    assert d.call("q3", 71)["sector"] == "a"         # the next call takes effect
    d.done("q3", 300)
    d.done("q1", 300)
    assert run(d, b, 300) == []                      # it looks often (every 2 s live): `a` is empty since 300
    # Nobody waits in `a` any more: it stays through the calm spell (no flapping) ...
    assert all(m.counter != "q3" for m in run(d, b, 300 + 1700))
    # ... and then goes home.
    back = run(d, b, 300 + 1800 + 31)
    assert ("q3", ("c",)) in [(m.counter, m.sectors) for m in back]


def test_a_counter_with_its_own_queue_is_not_moved_by_the_idle_rule():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    b = AutoBalancer(idle_wait_s=0.0)
    d.issue("c", 0)                                  # q3's own sector has someone waiting
    d.issue("a", 1)
    d.call("q1", 2)                                  # q1 takes `a`'s first ...
    d.issue("a", 3)                                  # ... a second waits
    moves = run(d, b, 100)
    assert all(m.counter != "q3" for m in moves)     # q3 has its own citizen to call
    assert [m.counter for m in moves] == ["q2"]      # q2 (sector `b` empty) helps instead
