"""How close is the dashboard's what-if to what then happens? The issue #17 target, measured.

    .venv/bin/python -m bench.whatif_accuracy [--days N] [--at HH:MM] [--known] [SCENARIO.yaml ...]

For each scenario (default: district-normal-day and counter-6-closes-at-10) it simulates N days
(default 30) under auto mode. Each day, at `--at` (default 10:00), it asks the what-if
(queue_server/domain/forecast/whatif.py, no move, its default number of plays) for every
sector's mean wait over the next hour, from the state at that moment, as the dashboard does;
then the simulator plays on, and the citizens the prediction is about (those waiting at that
moment and those who arrive within the hour) get their real waits.

Per day: P = the mean over sectors of the predicted mean wait, A = the same of the played-out
one (sectors with citizens in both), error = |P - A| / A. The target: within 25 %. Printed: the
mean, median and 90th percentile of the daily error, the share of days within 25 %, the error of
the 30-day means, the same daily error with every citizen of the hour weighing alike (in the mean
over sectors a sector of two citizens weighs as much as one of forty), and the sector-level error
(|p - a| per sector and day, mean, in minutes: a share would explode on a sector whose citizens
hardly waited) for a feel of the spread. The first day has no learned arrival profile (the what-if then uses today's pace),
so it is in the figures like any other.

`--known` adds, for each scenario, the same measure with the what-if told the scenario's true
parameters (arrival rates, service means and spreads, priority and no-show shares: the `known`
sector model of bench/forecast_floor.py) and its KNOWN_REPS plays: about the least error a prediction
from the state can have, the rest being the luck of one real hour.

Exits 0: these are figures to report (docs/planning.md), not a test. The prediction is taken in
the simulator's auto-mode balancer tick (a subclass of AutoBalancer that predicts once a day,
then decides as usual), so the simulator itself is unchanged.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from bench.forecast_floor import KNOWN_REPS, _known
from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.forecast import whatif
from queue_server.domain.forecast.sector_model import SectorModel
from queue_server.sim import Simulation, load_scenario
from queue_server.sim.scenario import clock_s

SCENARIOS = Path(__file__).resolve().parent.parent / "queue_server" / "sim" / "scenarios"
DEFAULT = ["district-normal-day", "counter-closing"]
TARGET = 0.25


class PredictingBalancer(AutoBalancer):
    """Auto mode as shipped, which also asks the what-if once a day at `at_s` (second of day)."""

    def __init__(self, at_s: int, reps: int = whatif.REPS):
        super().__init__()
        self.at_s, self.reps = at_s, reps
        self.sim: Simulation | None = None
        self.predictions: list[dict[str, float | None]] = []
        self.cost_s: list[float] = []
        self._day: str | None = None

    def propose(self, state, config, now_epoch):
        sim = self.sim
        t = now_epoch - sim._midnight.timestamp()
        if t >= self.at_s and self._day != state.day:
            self._day = state.day
            started = time.perf_counter()
            result = whatif.predict(state, config, sim.core.policy, None, sim._now(t), reps=self.reps)
            self.cost_s.append(time.perf_counter() - started)
            self.predictions.append({r.sector: (r.before_s, r.citizens) for r in result.sectors})
        return super().propose(state, config, now_epoch)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def measure(path: Path, days: int, at_s: int, known: bool = False) -> None:
    sc = load_scenario(path)
    balancer = PredictingBalancer(at_s, KNOWN_REPS if known else whatif.REPS)
    sim = Simulation(sc, "auto", days=days, balancer=balancer, forecast=False)
    balancer.sim = sim
    results = sim.run()
    daily, weighted, sector_errs, p_means, a_means = [], [], [], [], []
    for day, (res, pred) in enumerate(zip(results, balancer.predictions)):
        actual: dict[str, list[float]] = {}
        for r in res.records:
            if r.issued_s < at_s + whatif.HORIZON_S and r.issued_s + r.wait_s >= at_s:
                actual.setdefault(r.sector, []).append(r.wait_s)
        both = [s for s in actual if pred.get(s, (None,))[0] is not None]
        if not both:
            continue
        # every citizen of the hour alike: predicted waits weighted by the predicted numbers
        p_all = sum(pred[s][0] * pred[s][1] for s in both) / max(sum(pred[s][1] for s in both), 1e-9)
        a_all = statistics.fmean(w for s in both for w in actual[s])
        weighted.append(abs(p_all - a_all) / a_all if a_all > 0 else 0.0)
        pred = {s: pred[s][0] for s in both}
        p = statistics.fmean(pred[s] for s in both)
        a = statistics.fmean(statistics.fmean(actual[s]) for s in both)
        p_means.append(p)
        a_means.append(a)
        daily.append(abs(p - a) / a if a > 0 else 0.0)
        sector_errs.extend(abs(pred[s] - statistics.fmean(actual[s])) for s in both)
    daily_sorted = sorted(daily)
    p90 = daily_sorted[max(0, -(-9 * len(daily_sorted) // 10) - 1)]
    pooled = abs(statistics.fmean(p_means) - statistics.fmean(a_means)) / statistics.fmean(a_means)
    print(f"{sc.name}{' (true parameters)' if known else ''}: {len(daily)} days, what-if at {at_s // 3600:02d}:{at_s % 3600 // 60:02d}, "
          f"mean over sectors predicted {statistics.fmean(p_means) / 60:.1f} min, played out "
          f"{statistics.fmean(a_means) / 60:.1f} min")
    print(f"  daily error of the mean over sectors: mean {_pct(statistics.fmean(daily))}, "
          f"median {_pct(statistics.median(daily))}, p90 {_pct(p90)}; "
          f"days within {_pct(TARGET)}: {sum(e <= TARGET for e in daily)}/{len(daily)}; "
          f"error of the {len(daily)}-day means: {_pct(pooled)}")
    print(f"  daily error of the mean over all citizens of the hour: mean {_pct(statistics.fmean(weighted))}, "
          f"median {_pct(statistics.median(weighted))}")
    print(f"  per sector and day: mean absolute error {statistics.fmean(sector_errs) / 60:.1f} min; "
          f"what-if cost {1000 * statistics.fmean(balancer.cost_s):.0f} ms mean, "
          f"{1000 * max(balancer.cost_s):.0f} ms max ({balancer.reps} plays)")
    verdict = "met" if statistics.fmean(daily) <= TARGET else "MISSED"
    print(f"  target (mean daily error within {_pct(TARGET)}): {verdict}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--at", default="10:00")
    ap.add_argument("--known", action="store_true", help="also with the true parameters (the floor)")
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args(argv)
    paths = [Path(p) for p in args.scenarios] or [SCENARIOS / f"{n}.yaml" for n in DEFAULT]
    for path in paths:
        measure(path, args.days, clock_s(args.at))
        if args.known:
            learned = SectorModel.__init__
            SectorModel.__init__ = _known(load_scenario(path))
            try:
                measure(path, args.days, clock_s(args.at), known=True)
            finally:
                SectorModel.__init__ = learned
    return 0


if __name__ == "__main__":
    sys.exit(main())
