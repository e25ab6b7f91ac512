"""The variant of the visits scenario whose counters share the sectors citizens combine
(docs/visits.md, "The figures"): there, a visit's next procedure is kept at the same counter
("continue here") as a rule, where in the base scenario it mostly joins another queue."""
from __future__ import annotations

from pathlib import Path

from queue_server.sim import Simulation, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "queue_server" / "sim" / "scenarios"


def _continued_share(name: str) -> float:
    log: list = []
    Simulation(load_scenario(SCENARIOS / name), "dynamic", seed=1, days=1, visits="visit", forecast=False,
               record=log).run()
    nexts = [e for e in log if e.type == "visit.next"]
    assert nexts
    return sum(1 for e in nexts if e.data.get("counter")) / len(nexts)


def test_with_shared_counters_continue_here_is_the_rule():
    assert _continued_share("visits-shared-counters.yaml") > 0.9
    assert _continued_share("visits-two-procedures.yaml") < 0.3
