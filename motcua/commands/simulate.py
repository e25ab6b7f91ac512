"""`motcua simulate SCENARIO.yaml --policy static|dynamic|auto|pooled [--days N] [--seed S] [--json]`,
`--compare [--chart PATH]` (docs/balancing.md, "The simulator"); a province scenario (its
`centres`, docs/appointments.md) the same way, `--compare` then setting bookings confined to each
centre against cross-centre; and
`motcua simulate --from-log DB [--site SITE.yaml] [--weeks N] [--out scenario.yaml]`: a scenario
learned from a centre's event log (queue_server/planning/history.py)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from motcua.arg_types import positive
from queue_server.sim import EXTRA_POLICIES, SIM_POLICIES, ScenarioError, load_scenario, simulate
from queue_server.sim.metrics import never_called
from queue_server.sim.tables import compare_table, single_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO.yaml", nargs="?", default=None,
                        help="scenario file (docs/balancing.md)")
    parser.add_argument("--policy", choices=(*SIM_POLICIES, *EXTRA_POLICIES), default="dynamic",
                        help="calling policy (default: dynamic); oldest-first is the textbook rule, for reference")
    parser.add_argument("--days", type=positive, default=None, help="simulated days (default: the scenario's)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--compare", action="store_true", help="run all four policies side by side")
    parser.add_argument("--chart", metavar="PATH", default=None,
                        help="with --compare: write a PNG chart of waiting over the day")
    learn = parser.add_argument_group("learning a scenario from a centre's event log (instead of SCENARIO.yaml)")
    learn.add_argument("--from-log", metavar="DB", default=None,
                       help="the event log: a SQLite file (data/motcua.db) or a postgresql:// URL")
    learn.add_argument("--site", metavar="SITE.yaml", default=None,
                       help="the site config the log was written under (default: the demo site)")
    learn.add_argument("--weeks", metavar="N", type=positive, default=None,
                       help="learn from the log's last N whole weeks (default: 4)")
    learn.add_argument("--out", metavar="PATH", default=None,
                       help="write the scenario there (default: print it)")


def run(args: argparse.Namespace) -> int:
    if args.from_log is not None:
        return _from_log(args)
    if args.scenario is None:
        print("motcua simulate: give a SCENARIO.yaml, or --from-log DB to learn one", file=sys.stderr)
        return 2
    if args.site or args.weeks or args.out:
        print("motcua simulate: --site, --weeks and --out go with --from-log", file=sys.stderr)
        return 2
    if _is_province(args.scenario):
        return _province(args)
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


def _is_province(path: str) -> bool:
    """A province scenario lists its centres' scenarios (queue_server/sim/province.py); a file that
    cannot be read is left to load_scenario to say so."""
    import yaml
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "centres" in data


def _province(args: argparse.Namespace) -> int:
    """A province scenario: its centres played together, bookings going to another centre as the
    scenario's `cross_centre` says; with --compare, confined to each centre and cross-centre."""
    from queue_server.sim.province import ProvinceSimulation, centre_figures, load_province
    from queue_server.sim.tables import province_table

    if args.chart:
        print("motcua simulate: --chart is for a single centre's scenario", file=sys.stderr)
        return 2
    if args.policy == "pooled":
        print("motcua simulate: a province scenario plays each centre's own counters (static, dynamic or auto)",
              file=sys.stderr)
        return 2
    try:
        province = load_province(args.scenario)
    except ScenarioError as exc:
        print(f"motcua simulate: {exc}", file=sys.stderr)
        return 2
    runs = [False, True] if args.compare else [province.cross.allowed]
    days = args.days or province.days
    figures = {}
    for allowed in runs:
        played = ProvinceSimulation(province.with_cross(allowed), args.policy, seed=args.seed, days=days).run()
        figures["cross_centre" if allowed else "confined"] = {
            sc.site.id: centre_figures(d) for sc, d in zip(province.centres, played)}
    if args.json:
        print(json.dumps({"scenario": province.name, "days": days, "policy": args.policy, **figures},
                         ensure_ascii=False))
    else:
        print(province_table(province.name, days, args.policy, figures))
    return 0


def _from_log(args: argparse.Namespace) -> int:
    from queue_server.config import DEMO_SITE, load_site
    from queue_server.domain.site import SiteConfigError
    from queue_server.planning.history import DEFAULT_WEEKS, HistoryError, learn_scenario, scenario_file_text

    if args.scenario is not None or args.compare or args.chart or args.json or args.days or args.seed is not None:
        print("motcua simulate: --from-log learns a scenario; simulate it afterwards with "
              "`motcua simulate SCENARIO.yaml`", file=sys.stderr)
        return 2
    site_path = Path(args.site) if args.site else DEMO_SITE
    try:
        site = load_site(site_path)
        _scenario, history = learn_scenario(args.from_log, site, weeks=args.weeks or DEFAULT_WEEKS)
    except (SiteConfigError, HistoryError) as exc:
        print(f"motcua simulate: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(scenario_file_text(history, site_path))
        return 0
    out = Path(args.out)
    try:
        out.write_text(scenario_file_text(history, site_path, out), encoding="utf-8")
    except OSError as exc:
        print(f"motcua simulate: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{out}: {len(history.days)} days ({history.start} to {history.end}), {history.tickets} tickets, "
          f"mean wait {history.mean_wait_s / 60:.1f} min; simulate it with `motcua simulate {out}`")
    return 0
