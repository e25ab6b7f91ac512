"""Wait estimates from the live state (and their accuracy on simulated days)."""
from __future__ import annotations

from queue_server.domain import estimate
from queue_server.domain.policy import DynamicPolicy
from queue_server.sim.driver import Driver
from tests.support.domain_harness import small_site


def test_idle_counter_means_no_wait():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    assert estimate.sector_wait(d.state, site, "c") == 0
    t = d.issue("c", 0)
    assert t["est_wait_s"] == 0 and t["position"] == 1


def test_more_people_ahead_waits_longer_and_more_counters_shorter():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    d.call("q3", 0)
    waits = [estimate.wait_for_position(d.state, site, "c", n) for n in range(6)]
    assert waits == sorted(waits) and waits[-1] > waits[0]
    one = estimate.wait_for_position(d.state, site, "c", 4)
    d.set_sectors("q1", ["c"], 1, override=True, reason="test", by="t")
    d.set_sectors("q2", ["c"], 1, override=True, reason="test", by="t")
    assert estimate.wait_for_position(d.state, site, "c", 4) < one / 2


def test_everyone_busy_means_a_wait_even_first_in_line():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    d.issue("c", 0)
    d.call("q3", 1)                       # q3, the only counter for c, is now busy
    t = d.issue("c", 2)
    assert t["est_wait_s"] > 0            # the old estimate said 0 here


def test_observed_service_times_replace_the_configured_guess():
    site = small_site()                   # configured: 5 minutes
    d = Driver(site, DynamicPolicy())
    assert estimate.mean_service_s(d.state, site, "c") == 300
    t = 0.0
    for _ in range(25):
        d.issue("c", t)
        d.call("q3", t + 1)
        d.done("q3", t + 1 + 900)         # every service takes 15 minutes
        t += 1000
    assert 850 <= estimate.mean_service_s(d.state, site, "c") <= 900


def test_a_long_service_so_far_is_expected_to_end_sooner():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    d.issue("c", 0)
    d.call("q3", 0)
    d.issue("c", 10)
    early = estimate.wait_for_position(d.state, site, "c", 1)
    d.issue("a", 250)                     # any event moves the state's clock on
    late = estimate.wait_for_position(d.state, site, "c", 1)
    assert late < early


def test_a_shared_counter_gives_a_busy_sector_more_of_its_calls():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    d.set_status("q2", "closed", 0)       # q1 alone serves a and b
    for i in range(8):
        d.issue("a", i)
    d.issue("b", 10)
    # One ticket in b with eight in a: b still gets a call soon, a's last waits long.
    assert estimate.wait_for_position(d.state, site, "b", 1) < estimate.wait_for_position(d.state, site, "a", 8)


def test_no_counter_serves_the_sector_now():
    site = small_site()
    d = Driver(site, DynamicPolicy())
    d.set_status("q3", "closed", 0)
    assert estimate.wait_for_position(d.state, site, "c", 2) > 0


def test_auto_mode_counts_the_idle_counters_it_would_move():
    """With auto mode on, an open counter trained for the sector whose own queue is empty will be moved
    onto it (the work-conserving rule), so the estimate counts it; off, or with its own queue, it does not."""
    from queue_server.domain.commands import SetAutoMode
    site = small_site()
    d = Driver(site, DynamicPolicy())
    d.issue("c", 0)
    d.call("q3", 1)                                   # q3, the only counter serving c, is busy
    for i in range(4):
        d.issue("c", 2 + i)
    off = estimate.sector_wait(d.state, site, "c")    # q1 is trained for c, but auto mode is off
    d.send(SetAutoMode(True, by="test"), 10)
    on = estimate.sector_wait(d.state, site, "c")
    assert on < off
    d.issue("a", 11)                                  # q1 now has its own citizen waiting
    mine = estimate.sector_wait(d.state, site, "c")
    assert mine > on and abs(mine - off) <= 10        # back to q3 alone (its citizen 6 s further on)
