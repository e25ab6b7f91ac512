"""`motcua plan SCENARIO.yaml | --from-log DB [--site SITE.yaml] [--weeks N] [--weekday mon..sun] [--json]`:
the counters' plan (docs/planning.md): staffing per sector and half-hour, whom to train for what, who covers an
absent clerk. The same computation as the managers' page (queue_server.planning.plan)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from motcua.arg_types import count, positive, share
from queue_server.sim import ScenarioError, load_scenario
from queue_server.sim.scenario import WEEKDAYS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO.yaml", nargs="?", default=None,
                        help="scenario file (docs/balancing.md); or --from-log")
    parser.add_argument("--from-log", metavar="DB", default=None,
                        help="plan on the centre's own days, learned from its event log (a SQLite file or a "
                             "postgresql:// URL), as `motcua simulate --from-log` does")
    parser.add_argument("--site", metavar="SITE.yaml", default=None,
                        help="with --from-log: the site config the log was written under (default: the demo site)")
    parser.add_argument("--weeks", type=positive, default=None,
                        help="with --from-log: learn from the log's last N whole weeks (default: 4)")
    parser.add_argument("--weekday", choices=WEEKDAYS, default=None,
                        help="plan for that weekday's arrivals (a learned scenario's own profile for it, where "
                             "its days differ; default: the usual day)")
    parser.add_argument("--days", type=positive, default=None,
                        help="simulated days behind each figure (default: the scenario's, at most 10)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    parser.add_argument("--suggestions", type=count, default=3, help="training suggestions (default: 3)")
    parser.add_argument("--absent", metavar="COUNTER", action="append", default=None,
                        help="a counter whose clerk is absent all day (repeatable; default: the one the "
                             "centre can least spare)")
    parser.add_argument("--target-share", type=share, default=None,
                        help="share of citizens to call within their sector's target wait (default: 0.8)")
    parser.add_argument("--workers", type=positive, default=min(2, os.cpu_count() or 1),
                        help="processes to simulate on (default: 2, or 1 on one core)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def _fail(message: str) -> int:
    print(f"motcua plan: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from queue_server.planning.plan import DEFAULT_TARGET_SHARE, make_plan, on_weekday

    if (args.scenario is None) == (args.from_log is None):
        return _fail("give a SCENARIO.yaml or --from-log DB (one of them)")
    if args.from_log is None and (args.site or args.weeks):
        return _fail("--site and --weeks go with --from-log")
    if args.from_log is not None:
        scenario = _learned(args)
        if isinstance(scenario, int):
            return scenario
    else:
        try:
            scenario = load_scenario(args.scenario)
        except ScenarioError as exc:
            return _fail(str(exc))
    if args.weekday is not None:
        try:
            scenario = on_weekday(scenario, args.weekday)
        except ValueError as exc:
            return _fail(str(exc))
    progress = None if args.json else (lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    try:
        plan = make_plan(scenario, days=args.days, seed=args.seed, suggestions=args.suggestions,
                         target_share=args.target_share or DEFAULT_TARGET_SHARE, absent=args.absent,
                         progress=progress, workers=args.workers)
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(plan.to_dict(), ensure_ascii=False))
    else:
        from queue_server.planning.report import plan_text
        print(plan_text(plan))
    return 0


def _learned(args: argparse.Namespace):
    """The scenario learned from the log, or an exit status after saying why not."""
    from queue_server.config import DEMO_SITE, load_site
    from queue_server.domain.site import SiteConfigError
    from queue_server.planning.history import DEFAULT_WEEKS, HistoryError, learn_scenario

    try:
        site = load_site(Path(args.site) if args.site else DEMO_SITE)
        scenario, _history = learn_scenario(args.from_log, site, weeks=args.weeks or DEFAULT_WEEKS)
    except (SiteConfigError, HistoryError) as exc:
        return _fail(str(exc))
    return scenario
