"""`motcua simulate SCENARIO.yaml --policy static|dynamic|auto|pooled [--days N] [--seed S] [--json]`
and `--compare [--chart PATH]` (docs/balancing.md, "The simulator")."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from queue_server.sim import EXTRA_POLICIES, SIM_POLICIES, ScenarioError, load_scenario, simulate
from queue_server.sim.metrics import never_called


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO.yaml", help="scenario file (docs/balancing.md)")
    parser.add_argument("--policy", choices=(*SIM_POLICIES, *EXTRA_POLICIES), default="dynamic",
                        help="calling policy (default: dynamic); oldest-first is the textbook rule, for reference")
    parser.add_argument("--days", type=_positive, default=None, help="simulated days (default: the scenario's)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--compare", action="store_true", help="run all four policies side by side")
    parser.add_argument("--chart", metavar="PATH", default=None,
                        help="with --compare: write a PNG chart of waiting over the day")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"motcua simulate: {exc}", file=sys.stderr)
        return 2
    if args.chart and not args.compare:
        print("motcua simulate: --chart needs --compare", file=sys.stderr)
        return 2
    policies = list(SIM_POLICIES) if args.compare else [args.policy]
    summaries, raw = [], {}
    for policy in policies:
        summary, days = simulate(scenario, policy, seed=args.seed, days=args.days)
        summaries.append(summary)
        raw[policy] = days
        left = never_called(days)
        if left:
            print(f"motcua simulate: {policy}: {left} tickets were never called (no open counter serves "
                  f"their sector under this policy); they are left out of the waits", file=sys.stderr)
    if args.json:
        print(json.dumps(summaries if args.compare else summaries[0], ensure_ascii=False))
    elif args.compare:
        print(compare_table(summaries))
    else:
        print(single_table(summaries[0]))
    if args.chart:
        from queue_server.sim.chart import write_chart
        write_chart(args.chart, scenario.name, raw)
        if not args.json:
            print(f"chart: {args.chart}")
    return 0


def _min(s: float) -> str:
    return f"{s / 60:.1f} min"


_ROWS = [("tickets", "tickets", str), ("diverted online", "diverted_online", str),
         ("mean wait", "mean_wait_s", _min), ("p90 wait", "p90_wait_s", _min), ("max wait", "max_wait_s", _min),
         ("within target", "served_within_target_share", lambda v: f"{v * 100:.1f} %"),
         ("estimate error (MAE)", "est_wait_mae_s", _min)]


def compare_table(summaries: list[dict[str, Any]]) -> str:
    first = summaries[0]
    head = f"{first['scenario']}: {first['days']} day(s)"
    width = 22
    lines = [head, "", f"{'':{width}}" + "".join(f"{s['policy']:>12}" for s in summaries)]
    for label, key, fmt in _ROWS:
        lines.append(f"{label:{width}}" + "".join(f"{fmt(s[key]):>12}" for s in summaries))
    lines.append("")
    lines.append("mean wait per sector")
    for sector in first["per_sector"]:
        lines.append(f"  {sector:{width - 2}}" + "".join(
            f"{_min(s['per_sector'][sector]['mean_wait_s']):>12}" for s in summaries))
    lines.append("")
    lines.append("counter utilization")
    for c in first["counter_utilization"]:
        lines.append(f"  {c:{width - 2}}" + "".join(f"{s['counter_utilization'][c] * 100:>10.0f} %" for s in summaries))
    return "\n".join(lines)


def single_table(s: dict[str, Any]) -> str:
    lines = [f"{s['scenario']}: policy {s['policy']}, {s['days']} day(s)", ""]
    for label, key, fmt in _ROWS:
        lines.append(f"{label:22}{fmt(s[key]):>12}")
    lines += ["", f"{'sector':22}{'tickets':>10}{'mean wait':>12}{'p90 wait':>12}"]
    for sector, row in s["per_sector"].items():
        lines.append(f"{sector:22}{row['tickets']:>10}{_min(row['mean_wait_s']):>12}{_min(row['p90_wait_s']):>12}")
    lines += ["", "counter utilization: " + ", ".join(f"{c} {v * 100:.0f} %" for c, v in s["counter_utilization"].items())]
    return "\n".join(lines)
