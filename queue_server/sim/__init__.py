"""Discrete-event simulation of days at a site, driving the real domain (docs/balancing.md)."""
from __future__ import annotations

from typing import Any

from queue_server.sim.engine import EXTRA_POLICIES, SIM_POLICIES, DayResult, Simulation
from queue_server.sim.metrics import summarize
from queue_server.sim.scenario import Scenario, ScenarioError, load_scenario, parse_scenario


def simulate(scenario: Scenario, policy: str, seed: int | None = None, days: int | None = None,
             **options: Any) -> tuple[dict[str, Any], list[DayResult]]:
    """Run `policy` on `scenario`; (the JSON object of docs/balancing.md, the raw per-day results).

    `options` go to `Simulation` (sectors="trained", balancer=..., policy_obj=...)."""
    results = Simulation(scenario, policy, seed=seed, days=days, **options).run()
    sectors = [s.id for s in scenario.site.sectors if s.id in scenario.arrivals]
    return summarize(policy, scenario.name, results, sectors), results


__all__ = ["EXTRA_POLICIES", "SIM_POLICIES", "Scenario", "ScenarioError", "Simulation", "load_scenario", "parse_scenario", "simulate"]
