"""The what-if before a move (queue_server/domain/forecast/whatif.py): the next hour played from the
state without and with a change of one counter's sectors. Pure: no clock, no I/O."""
from __future__ import annotations

import pytest

from queue_server.domain.forecast import whatif
from queue_server.domain.policy import DynamicPolicy
from queue_server.sim.driver import Driver
from tests.support.domain_harness import small_site


def _c_overloaded() -> Driver:
    """Sector c (only q3 serves it) with ten waiting and one at the counter; a and b calm."""
    d = Driver(small_site(), DynamicPolicy())
    for i in range(11):
        d.issue("c", i)
    d.call("q3", 20)
    d.issue("a", 30)
    return d


def _rows(result: whatif.WhatIf) -> dict[str, whatif.SectorWhatIf]:
    return {r.sector: r for r in result.sectors}


def test_moving_an_idle_trained_counter_to_an_overloaded_sector_shortens_its_predicted_wait():
    d = _c_overloaded()
    result = whatif.predict(d.state, d.config, DynamicPolicy(), whatif.Move("q1", ("a", "b", "c")), d.at(60))
    rows = _rows(result)
    assert set(rows) == {"a", "b", "c"}                 # what q1 leaves or takes
    c = rows["c"]
    # ten ahead at one counter of 5-minute services: the mean of the hour's waits is well over 10 min
    assert c.before_s > 600 and c.citizens >= 10
    assert c.after_s < 0.75 * c.before_s                  # a second counter on c: clearly shorter
    assert result.reps == whatif.REPS and result.move.counter == "q1"


def test_the_same_state_predicts_the_same_and_the_state_is_not_changed():
    d = _c_overloaded()
    before = d.state.to_dict()
    move = whatif.Move("q1", ("a", "b", "c"))
    first = whatif.predict(d.state, d.config, DynamicPolicy(), move, d.at(60)).as_dict()
    assert whatif.predict(d.state, d.config, DynamicPolicy(), move, d.at(60)).as_dict() == first
    assert d.state.to_dict() == before


def test_without_a_move_every_sector_is_predicted_and_both_sides_agree():
    d = _c_overloaded()
    result = whatif.predict(d.state, d.config, DynamicPolicy(), None, d.at(60))
    assert [r.sector for r in result.sectors] == ["a", "b", "c"]
    assert all(r.before_s == r.after_s for r in result.sectors)


def test_a_sector_left_without_any_counter_is_said_so():
    d = _c_overloaded()
    rows = _rows(whatif.predict(d.state, d.config, DynamicPolicy(), whatif.Move("q3", ("a",)), d.at(60)))
    assert rows["c"].reachable_before and not rows["c"].reachable_after and rows["c"].after_s is None


def test_the_deadline_is_kept_with_the_clock_passed_in():
    d = _c_overloaded()
    ticks = iter(range(1000))
    result = whatif.predict(d.state, d.config, DynamicPolicy(), whatif.Move("q1", ("a", "b", "c")), d.at(60),
                            deadline=3, clock=lambda: next(ticks))
    assert result.reps == 4                              # the clock reads 0, 1, 2, 3 after each pair of plays
    with pytest.raises(ValueError):
        whatif.predict(d.state, d.config, None, None, d.at(60), deadline=1.0)


@pytest.mark.parametrize("move", [whatif.Move("q9", ("a",)), whatif.Move("q1", ()), whatif.Move("q1", ("zz",))])
def test_a_bad_move_is_a_clear_error(move):
    d = _c_overloaded()
    with pytest.raises(ValueError):
        whatif.predict(d.state, d.config, None, move, d.at(60))


def test_after_the_hour_each_prediction_stands_beside_what_happened():
    from datetime import datetime, timedelta, timezone

    from queue_server.domain.events import Event
    from queue_server.reports.compute import TicketRecord
    from queue_server.web.whatif_desk import compare

    at = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)

    def ticket(i, sector, issued_min, wait_min, status="served"):
        return TicketRecord(id=f"t{i}", number=str(i), day="2026-03-02", sector=sector, procedure=None,
                            priority="normal", issued=at + timedelta(minutes=issued_min), status=status,
                            wait_s=None if wait_min is None else wait_min * 60.0)
    tickets = [ticket(1, "a", -20, 10),          # called before the prediction: not of its hour
               ticket(2, "a", -5, 10),           # waiting at the prediction: counted
               ticket(3, "a", 30, 20),           # arrives within the hour: counted
               ticket(4, "a", 70, 1),            # after the hour: not counted
               ticket(5, "a", 10, None, "cancelled"),
               ticket(6, "b", 50, None, "waiting")]   # still waiting: at least since it came
    record = {"id": 1, "kind": "manager", "by": "lan", "previous": ["a"], "at": at.isoformat(), "horizon_s": 3600.0,
              "reps": 8, "move": {"counter": "q1", "sectors": ["a", "b"]},
              "sectors": [{"sector": "a", "before_s": 900.0, "after_s": 700.0, "citizens": 2.0},
                          {"sector": "b", "before_s": 60.0, "after_s": 120.0, "citizens": 1.0}]}
    applied = Event(seq=1, ts=(at + timedelta(minutes=2)).isoformat(), type="counter.sectors_changed", device=None,
                    data={"counter": "q1", "sectors": ["a", "b"], "by": "lan"})
    row, = compare([record], tickets, [applied], at + timedelta(minutes=90))
    assert row["done"] and row["applied"]
    assert row["actual"]["a"] == {"mean_s": 900.0, "citizens": 2}       # (10 + 20) / 2 minutes
    assert row["actual"]["b"] == {"mean_s": 2400.0, "citizens": 1}      # 40 minutes so far
    early, = compare([record], tickets, [], at + timedelta(minutes=30))
    assert not early["done"] and not early["applied"] and early["actual"] == {}
