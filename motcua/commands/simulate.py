"""`motcua simulate SCENARIO.yaml --policy static|dynamic|auto|pooled [--days N] [--seed S] [--json]`
and `--compare [--chart PATH]` (docs/balancing.md, "The simulator")."""
from __future__ import annotations

import argparse
import json
import sys

from queue_server.sim import EXTRA_POLICIES, SIM_POLICIES, ScenarioError, load_scenario, simulate
from queue_server.sim.metrics import never_called
from queue_server.sim.tables import compare_table, single_table


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
