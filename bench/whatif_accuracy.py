"""How close is the dashboard's what-if to what then happens? The issue #17 target, measured.

    .venv/bin/python bench/whatif_accuracy.py [--days N] [--at HH:MM] [SCENARIO.yaml ...]

For each scenario (default: district-normal-day and counter-6-closes-at-10) it simulates N days
(default 30) under auto mode. Each day, at `--at` (default 10:00), it asks the what-if
(queue_server/domain/forecast/whatif.py, no move, its default number of plays) for every
sector's mean wait over the next hour, from the state at that moment, as the dashboard does;
then the simulator plays on, and the citizens the prediction is about (those waiting at that
moment and those who arrive within the hour) get their real waits.

Per day: P = the mean over sectors of the predicted mean wait, A = the same of the played-out
one (sectors with citizens in both), error = |P - A| / A. The target: within 25 %. Printed: the
mean, median and 90th percentile of the daily error, the share of days within 25 %, the error of
the 30-day means, and the sector-level error (|p - a| / a per sector and day, mean) for a feel of
the spread. The first day has no learned arrival profile (the what-if then uses today's pace),
so it is in the figures like any other.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_server.domain.autobalance import AutoBalancer  # noqa: E402
from queue_server.domain.forecast import whatif  # noqa: E402
from queue_server.sim import Simulation, load_scenario  # noqa: E402
from queue_server.sim.scenario import clock_s  # noqa: E402

SCENARIOS = Path(__file__).resolve().parent.parent / "queue_server" / "sim" / "scenarios"
DEFAULT = ["district-normal-day", "counter-closing"]
TARGET = 0.25


class PredictingBalancer(AutoBalancer):
    """Auto mode as shipped, which also asks the what-if once a day at `at_s` (second of day)."""

    def __init__(self, at_s: int):
        super().__init__()
        self.at_s = at_s
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
            result = whatif.predict(state, config, sim.core.policy, None, sim._now(t))
            self.cost_s.append(time.perf_counter() - started)
            self.predictions.append({r.sector: (r.before_s, r.citizens) for r in result.sectors})
        return super().propose(state, config, now_epoch)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def measure(path: Path, days: int, at_s: int) -> None:
    sc = load_scenario(path)
    balancer = PredictingBalancer(at_s)
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
        sector_errs.extend(abs(pred[s] - statistics.fmean(actual[s])) / statistics.fmean(actual[s])
                           for s in both if statistics.fmean(actual[s]) > 0)
    daily_sorted = sorted(daily)
    p90 = daily_sorted[max(0, -(-9 * len(daily_sorted) // 10) - 1)]
    pooled = abs(statistics.fmean(p_means) - statistics.fmean(a_means)) / statistics.fmean(a_means)
    print(f"{sc.name}: {len(daily)} days, what-if at {at_s // 3600:02d}:{at_s % 3600 // 60:02d}, "
          f"mean over sectors predicted {statistics.fmean(p_means) / 60:.1f} min, played out "
          f"{statistics.fmean(a_means) / 60:.1f} min")
    print(f"  daily error of the mean over sectors: mean {_pct(statistics.fmean(daily))}, "
          f"median {_pct(statistics.median(daily))}, p90 {_pct(p90)}; "
          f"days within {_pct(TARGET)}: {sum(e <= TARGET for e in daily)}/{len(daily)}; "
          f"error of the {len(daily)}-day means: {_pct(pooled)}")
    print(f"  daily error of the mean over all citizens of the hour: mean {_pct(statistics.fmean(weighted))}, "
          f"median {_pct(statistics.median(weighted))}")
    print(f"  per sector and day: mean error {_pct(statistics.fmean(sector_errs))}; "
          f"what-if cost {1000 * statistics.fmean(balancer.cost_s):.0f} ms mean, "
          f"{1000 * max(balancer.cost_s):.0f} ms max ({whatif.REPS} plays)")
    verdict = "met" if statistics.fmean(daily) <= TARGET else "MISSED"
    print(f"  target (mean daily error within {_pct(TARGET)}): {verdict}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--at", default="10:00")
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args(argv)
    paths = [Path(p) for p in args.scenarios] or [SCENARIOS / f"{n}.yaml" for n in DEFAULT]
    for path in paths:
        measure(path, args.days, clock_s(args.at))
    return 0


if __name__ == "__main__":
    sys.exit(main())
