"""How good can a printed wait be? The shipped forecast against the best any forecast from the state could do.

    .venv/bin/python -m bench.forecast_floor [--days N] [--policies dynamic,auto] [SCENARIO.yaml ...]

For each scenario and policy it prints, over N simulated days (default 10):

- `shipped`: the error of the printed wait (`est_wait_mae_s`) as a share of the mean wait;
- `longer`: the share of tickets that waited longer than printed. The printed wait is meant to be
  the median of the wait given the state, so about 50% in every row says it is neither too
  short nor too long; what error is left is then the spread of the wait itself;
- `known`: the same forecast told the scenario's *true* parameters (arrival rates by half hour,
  each sector's and procedure's service mean and spread, the priority share, the no-show share) instead of what
  the site learned from its event log, with 128 draws instead of 32: about the least error a
  printed wait made from the state can have, since what is still unknown at issue (how long each
  citizen will take, who comes next) is drawn from exactly the distributions the simulator uses.

Exits 0: these are figures to report (docs/balancing.md), not a test.
The `known` rows swap the forecast's learned sector model for the true one by patching
`SectorModel` (queue_server/domain/forecast/sector_model.py) and `printed.REPS` in this
process only; nothing else changes.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from queue_server.domain.forecast import printed
from queue_server.domain.forecast.sector_model import SectorModel
from queue_server.domain.learning import SLOT_S
from queue_server.sim import Simulation, load_scenario
from queue_server.sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent

SCENARIOS = ["afternoon-results", "counter-closing", "district-normal-day", "procedure-mix", "rural-commune",
             "urban-surge"]
KNOWN_REPS = 128


def _rate_at(steps: list[tuple[int, float]], second: int) -> float:
    rate = 0.0
    for at, value in steps:
        if at <= second:
            rate = value
    return rate


def _run(sc: Scenario, policy: str, days: int) -> tuple[float, float]:
    records = [r for day in Simulation(sc, policy, days=days).run() for r in day.records]
    mean = sum(r.wait_s for r in records) / len(records)
    mae = sum(abs(r.wait_s - r.est_wait_s) for r in records) / len(records)
    printed = [r for r in records if r.est_wait_s > 0]
    longer = sum(r.wait_s > r.est_wait_s for r in printed) / max(len(printed), 1)
    return mae / mean, longer


def _known(sc: Scenario):
    """A `SectorModel.__init__` that keeps the learned model's shape but sets the true parameters."""
    learned = SectorModel.__init__

    def init(self, state, config, sector, sod, mean):
        learned(self, state, config, sector, sod, mean)
        steps = sc.arrivals.get(sector, [])
        self.rates = {k: _rate_at(steps, k * SLOT_S) / 3600.0 for k in range(86400 // SLOT_S)
                      if _rate_at(steps, k * SLOT_S) > 0}
        service = sc.service.get(sector)
        if service is not None:
            self.mean = service.mean * 60.0
            cv = max(service.cv, 0.05)
            self.sigma = math.sqrt(math.log(1.0 + cv * cv))
            self.mu = math.log(self.mean) - self.sigma ** 2 / 2.0
        self.priority, self.no_show = sc.priority_share, sc.no_show
        # Each procedure's own service time, where the scenario gives one.
        procs = [p.id for p in sc.site.sector_by_id[sector].procedures if p.id in sc.procedure_service]
        if service is not None and procs:
            own = [sc.procedure_service[p] for p in procs]
            self.log_factors = {p: math.log(o.mean / service.mean) for p, o in zip(procs, own)}
            cv = max(sum(o.cv for o in own) / len(own), 0.05)
            self.sigma_k = math.sqrt(math.log(1.0 + cv * cv))
            self.mu_k = math.log(self.mean) - self.sigma_k ** 2 / 2.0
        else:
            self.log_factors = {}
    return init


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", metavar="SCENARIO.yaml")
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--policies", default="dynamic,auto")
    args = ap.parse_args(argv)
    paths = args.scenarios or [str(ROOT / "queue_server/sim/scenarios" / f"{s}.yaml") for s in SCENARIOS]
    print(f"{args.days} simulated days per scenario and policy\n")
    print("| scenario | policy | shipped error / mean wait | waited longer than printed | known parameters, 128 draws |")
    print("|---|---|---|---|---|")
    learned_init, reps = SectorModel.__init__, printed.REPS
    started = time.monotonic()
    for path in paths:
        sc = load_scenario(path)
        for policy in args.policies.split(","):
            shipped, longer = _run(sc, policy, args.days)
            SectorModel.__init__, printed.REPS = _known(sc), KNOWN_REPS
            try:
                known, _ = _run(sc, policy, args.days)
            finally:
                SectorModel.__init__, printed.REPS = learned_init, reps
            print(f"| {sc.name} | {policy} | {shipped:.1%} | {longer:.0%} | {known:.1%} |", flush=True)
    print(f"\n({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
