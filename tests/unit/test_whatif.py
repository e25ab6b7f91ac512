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
