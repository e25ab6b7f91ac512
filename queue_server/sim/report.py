"""The issue's targets, measured: every shipped scenario under every policy, plus the textbook
oldest-first rule over the counters' `sectors` and over their `trained` lists.

    python -m queue_server.sim.report --days 30 [--markdown]

Prints, per scenario, mean / p90 wait, within-target share, estimate error, and:
- gap captured: (static - policy) / (static - pooled) mean wait;
- auto vs oldest-first over trained (target: at least 10% lower mean wait);
- dynamic vs oldest-first over sectors (target: mean no worse, p90 better);
- est_wait_mae_s / mean wait (target: at most 30%);
then one table of the targets, each marked met or MISSED. It exits 0 whatever
the verdicts (they are figures for the docs, not a test).
bench/policy_targets.py calls `main()`; docs/balancing.md quotes its output.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from queue_server.sim import load_scenario, simulate

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
RUNS = [("static", "static", {}), ("oldest-first", "oldest-first", {}),
        ("oldest-first/trained", "oldest-first", {"sectors": "trained"}),
        ("dynamic", "dynamic", {}), ("auto", "auto", {}), ("pooled", "pooled", {})]


def measure(path: Path, days: int) -> dict[str, dict]:
    sc = load_scenario(path)
    out = {}
    for label, policy, kw in RUNS:
        summary, results = simulate(sc, policy, days=days, **kw)
        out[label] = {**summary, "moves_per_day": sum(d.moves for d in results) / len(results)}
    return out


def rows(name: str, r: dict[str, dict]) -> list[str]:
    gap = r["static"]["mean_wait_s"] - r["pooled"]["mean_wait_s"]

    def captured(label: str) -> str:
        return f"{100 * (r['static']['mean_wait_s'] - r[label]['mean_wait_s']) / gap:.0f}%" if gap > 0 else "-"

    out = []
    for label, _, _ in RUNS:
        s = r[label]
        out.append(f"| {name} | {label} | {s['mean_wait_s'] / 60:.1f} | {s['p90_wait_s'] / 60:.1f} | "
                   f"{100 * s['served_within_target_share']:.1f}% | {captured(label)} | "
                   f"{100 * s['est_wait_mae_s'] / max(s['mean_wait_s'], 1):.0f}% |")
    return out


def verdicts(name: str, r: dict[str, dict]) -> str:
    auto, dyn = r["auto"], r["dynamic"]
    oft, of = r["oldest-first/trained"], r["oldest-first"]
    return (f"{name}: auto vs oldest-first/trained mean {100 * (auto['mean_wait_s'] / oft['mean_wait_s'] - 1):+.1f}%; "
            f"dynamic vs oldest-first mean {100 * (dyn['mean_wait_s'] / of['mean_wait_s'] - 1):+.1f}%, "
            f"p90 {100 * (dyn['p90_wait_s'] / of['p90_wait_s'] - 1):+.1f}%; "
            f"auto moved counters {auto['moves_per_day']:.1f} times a day")


def _pct(a: float, b: float) -> float:
    return 100.0 * (a / b - 1.0) if b > 0 else 0.0


def targets(name: str, r: dict[str, dict]) -> tuple[str, int]:
    """One row of the issue's targets for a scenario, each with met / MISSED; (row, how many missed)."""
    gap = r["static"]["mean_wait_s"] - r["pooled"]["mean_wait_s"]
    auto, dyn, oft, of = r["auto"], r["dynamic"], r["oldest-first/trained"], r["oldest-first"]
    captured = 100 * (r["static"]["mean_wait_s"] - auto["mean_wait_s"]) / gap if gap > 0 else 100.0
    checks = [
        (f"{captured:.0f}%", captured >= 80.0),
        (f"{_pct(auto['mean_wait_s'], oft['mean_wait_s']):+.1f}%", _pct(auto["mean_wait_s"], oft["mean_wait_s"]) <= -10.0),
        (f"{_pct(dyn['mean_wait_s'], of['mean_wait_s']):+.1f}%", dyn["mean_wait_s"] <= of["mean_wait_s"]),
        (f"{_pct(dyn['p90_wait_s'], of['p90_wait_s']):+.1f}%", dyn["p90_wait_s"] < of["p90_wait_s"]),
        (f"{100 * auto['est_wait_mae_s'] / max(auto['mean_wait_s'], 1):.0f}%",
         auto["est_wait_mae_s"] <= 0.3 * auto["mean_wait_s"]),
        (f"{100 * dyn['est_wait_mae_s'] / max(dyn['mean_wait_s'], 1):.0f}%",
         dyn["est_wait_mae_s"] <= 0.3 * dyn["mean_wait_s"]),
    ]
    cells = [f"{v} {'met' if ok else 'MISSED'}" for v, ok in checks]
    missed = sum(1 for _, ok in checks if not ok)
    return f"| {name} | " + " | ".join(cells) + f" | {auto['moves_per_day']:.1f} |", missed


TARGET_HEAD = ("| scenario | auto gap captured (>= 80%) | auto vs oldest-first/trained mean (<= -10%) | "
               "dynamic vs oldest-first mean (<= 0) | dynamic vs oldest-first p90 (< 0) | "
               "auto estimate MAE / mean (<= 30%) | dynamic estimate MAE / mean (<= 30%) | auto moves a day |\n"
               "|---|---|---|---|---|---|---|---|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queue_server.sim.report", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("scenarios", nargs="*", help="scenario files (default: every shipped one)")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.scenarios] or sorted(SCENARIO_DIR.glob("*.yaml"))
    print(f"{args.days} simulated days per scenario and policy\n")
    print("| scenario | policy | mean wait (min) | p90 wait (min) | within target | gap captured | estimate MAE / mean |")
    print("|---|---|---|---|---|---|---|")
    notes, target_rows, missed = [], [], 0
    for path in paths:
        r = measure(path, args.days)
        name = r["static"]["scenario"]
        print("\n".join(rows(name, r)), flush=True)
        notes.append(verdicts(name, r))
        row, m = targets(name, r)
        target_rows.append(row)
        missed += m
    print()
    print("\n".join(notes))
    print(f"\nThe issue's targets ({args.days} days):\n")
    print(TARGET_HEAD)
    print("\n".join(target_rows))
    print(f"\n{missed} of {6 * len(target_rows)} target checks missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
