"""Learning a scenario back from a log of known parameters (issue #17), measured.

    .venv/bin/python -m bench.learn_check [--days 28] [--seeds 101 202 303] [SCENARIO.yaml]

Simulates the scenario (default: the district day) for `--days` days with its own seed, writes
every event to a SQLite event store as the live server would, learns a scenario back from that
file (queue_server/planning/history.py), then prints the mean wait of the logged days, of the
learned scenario on its own seed and on `--seeds`, and of the original scenario on the same
seeds: how far the learned days are from the logged ones, next to how far the original
scenario's own days are from them (the noise any check against one set of days carries). Then
the learned service means and no-show / priority shares beside the scenario's. Dynamic policy,
printed waits from the stream estimate (forecast=False). Exits 0: figures, not a test.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from queue_server.planning.history import learn_scenario, record_simulation
from queue_server.sim import load_scenario, simulate
from queue_server.store.log import EventStore

DISTRICT = Path(__file__).resolve().parent.parent / "queue_server" / "sim" / "scenarios" / "district-normal-day.yaml"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", nargs="?", default=str(DISTRICT))
    p.add_argument("--days", type=int, default=28)
    p.add_argument("--seeds", type=int, nargs="*", default=[101, 202, 303])
    args = p.parse_args(argv)
    sc = load_scenario(args.scenario)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        store = EventStore(str(Path(tmp) / "motcua.db"))
        try:
            logged = record_simulation(sc, store, days=args.days)
            t0 = time.time()
            learned, h = learn_scenario(store, sc.site, weeks=args.days // 7)
            learn_s = time.time() - t0
        finally:
            store.close()
    base = h.mean_wait_s

    def row(label: str, scenario, seed: int) -> str:
        s, _ = simulate(scenario, "dynamic", seed=seed, days=len(h.days), forecast=False)
        return f"| {label} | {seed} | {s['mean_wait_s'] / 60:.1f} | {100 * (s['mean_wait_s'] / base - 1):+.1f}% |"

    print(f"{sc.name}: {args.days} days logged (seed {sc.seed}), {h.tickets} tickets, {len(h.days)} days learned "
          f"in {learn_s:.1f} s; weekday profiles {sorted(h.weekday_arrivals)}, day-of-month "
          f"{sorted(h.day_of_month_factor)}, closed weekdays {h.closed_weekdays}")
    print("\n| days simulated | seed | mean wait (min) | vs the logged days |\n|---|---|---|---|")
    print(f"| the logged days | {sc.seed} | {logged['mean_wait_s'] / 60:.1f} | |")
    print(row("learned scenario", learned, learned.seed))
    for seed in args.seeds:
        print(row("learned scenario", learned, seed))
    for seed in args.seeds:
        print(row("original scenario", sc, seed))
    print("\n| sector | service mean learned / scenario (min) | cv learned / scenario |\n|---|---|---|")
    for sector, spec in sc.service.items():
        f = h.service[sector]
        print(f"| {sector} | {f.mean_s / 60:.2f} / {spec.mean:.2f} | {f.cv:.2f} / {spec.cv:.2f} |")
    print(f"\nno-show {h.no_show:.3f} / {sc.no_show:.3f}, priority {h.priority_share:.3f} / {sc.priority_share:.3f}")
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}, {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
